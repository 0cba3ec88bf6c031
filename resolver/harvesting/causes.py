"""Why a harvest failed, in a few words: an error text -> a short-cause code (pure).

A harvest's errors are texts made for the log (``TransportError: http://…: no response after
5 attempts: HTTPConnectionPool(host=…) … [Errno 111] Connection refused``): exact, but long
and in English. Tables show the short cause instead, in the reader's language; the job page
keeps the whole text. This module is the one place that reads those texts: the pages
translate its codes (resolver/views/admin/jobs.py, ``cause_label``), nothing else parses an
error message.

The texts come from :mod:`harvesters.runner` (``<ExceptionClass>: <message>`` for a run that
stopped, ``<identifier>: <reason>`` for one record, the ``refused to remove`` message of a
full run), :mod:`harvesters.http` and :mod:`harvesters.client` (the messages of their
exceptions, which quote requests' and urllib3's), and :mod:`resolver.harvesting.queue`
(``queue: …`` when the job could not be sent, ``interrupted: …``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harvesters.protocol import ErrorCode

CONNECTION_REFUSED = "connection_refused"
DNS = "dns"
TIMEOUT = "timeout"
CONNECTION_LOST = "connection_lost"
TLS = "tls"
HTTP_SERVER = "http_server"  # 5xx
RATE_LIMITED = "rate_limited"  # 429
HTTP_CLIENT = "http_client"  # other 4xx
TOO_LARGE = "too_large"
ADDRESS_REFUSED = "address_refused"
BAD_URL = "bad_url"
NOT_OAI = "not_oai"  # an HTML page, an empty body, another kind of XML
BAD_XML = "bad_xml"
WRONG_ANSWER = "wrong_answer"
TOKEN_LOOP = "token_loop"  # noqa: S105 - a cause code, no secret
OAI_ERROR = "oai_error"
RUN_LIMIT = "run_limit"
MASS_DELETE_REFUSED = "mass_delete_refused"
RECORDS_FAILED = "records_failed"
INTERRUPTED = "interrupted"
CANCELLED = "cancelled"
QUEUE = "queue"
OTHER = "other"

CAUSES = (CONNECTION_REFUSED, DNS, TIMEOUT, CONNECTION_LOST, TLS, HTTP_SERVER, RATE_LIMITED,
          HTTP_CLIENT, TOO_LARGE, ADDRESS_REFUSED, BAD_URL, NOT_OAI, BAD_XML, WRONG_ANSWER,
          TOKEN_LOOP, OAI_ERROR, RUN_LIMIT, MASS_DELETE_REFUSED, RECORDS_FAILED, INTERRUPTED,
          CANCELLED, QUEUE, OTHER)


@dataclass(frozen=True)
class Cause:
    """A short cause: one of :data:`CAUSES`, and what it names (an HTTP status, an OAI-PMH
    error code), or ``""``."""

    code: str
    detail: str = ""


_OAI_CODES = "|".join(re.escape(str(c)) for c in ErrorCode)
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_OAI_CODE = re.compile(rf"\b({_OAI_CODES})\b")

#: (cause, pattern) in order: the first match wins. The lower causes of a chain come first
#: (requests wraps a refused connection in "Max retries exceeded", which is not the cause).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern, re.IGNORECASE)) for code, pattern in (
        (QUEUE, r"^queue: "),
        (INTERRUPTED, r"^interrupted: "),
        (CANCELLED, r"^Cancelled: |cancelled by an administrator"),
        (MASS_DELETE_REFUSED, r"^refused to remove "),
        (RUN_LIMIT, r"^RunLimitReached: "),
        (ADDRESS_REFUSED, r"^AddressRefused: |\bis refused; allow it with\b"),
        (TOO_LARGE, r"^ResponseTooLarge: |\bresponse body over\b"),
        (TOKEN_LOOP, r"^TokenLoop: "),
        (WRONG_ANSWER, r"^WrongAnswer: "),
        (CONNECTION_REFUSED, r"Errno 111\b|Connection refused|ECONNREFUSED|WinError 10061"),
        (DNS, r"NameResolutionError|Name or service not known|Temporary failure in name "
              r"resolution|nodename nor servname|getaddrinfo failed|cannot resolve host|"
              r"No address associated with hostname|resolves to no address"),
        (TLS, r"SSLError|CERTIFICATE_VERIFY_FAILED|\bSSL\b|\bTLS\b"),
        (TIMEOUT, r"timed out|Timeout"),
        (CONNECTION_LOST, r"Connection reset|Connection aborted|RemoteDisconnected|"
                          r"ChunkedEncodingError|IncompleteRead|Broken pipe|EOF occurred|"
                          r"body cut short|^TruncatedResponse: |Network is unreachable|"
                          r"No route to host|undecodable body"),
        (BAD_URL, r"invalid URL|is not valid:|has no host|scheme .* is refused|"
                  r"more than \d+ redirects|MissingSchema|InvalidSchema|InvalidURL"),
        (NOT_OAI, r"^NotOAIResponse: |HTML page instead of OAI-PMH|empty body \(HTTP|"
                  r"root element is <"),
        (BAD_XML, r"^MalformedPage: |XMLSyntaxError|not well-formed|unreadable: "),
    ))


def cause_of(text: str, status: str = "") -> Cause:
    """The short cause of error ``text`` (of a run whose status was ``status``, if known).

    ``status`` tells a failed record of a ``partial`` run (whose text is the record's own
    reason) from a run that stopped. Never raises; an unknown text is :data:`OTHER`.
    """
    text = (text or "").strip()
    if not text:
        return Cause(OTHER)
    for code, pattern in _RULES:
        if pattern.search(text):
            return Cause(code)
    http = _HTTP_STATUS.search(text)
    oai = _OAI_CODE.search(text)
    if text.startswith("OAIProtocolError: ") or (oai and not http):
        return Cause(OAI_ERROR, oai.group(1) if oai else "")
    if http:
        number = int(http.group(1))
        if number == 429:
            return Cause(RATE_LIMITED, "429")
        if number >= 500:
            return Cause(HTTP_SERVER, str(number))
        if number >= 400:
            return Cause(HTTP_CLIENT, str(number))
    if text.startswith("InvalidResponse: "):
        return Cause(NOT_OAI)
    if status == "partial":
        return Cause(RECORDS_FAILED)
    return Cause(OTHER)
