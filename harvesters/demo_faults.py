"""Fault injection for the demo/test OAI-PMH repository (:mod:`harvesters.demo_server`).

Real repositories misbehave in ways a correct provider never does: they answer 503 with a
``Retry-After``, cut bodies short, drop connections, send HTML with status 200, hand back the
token they were given, put control characters and invalid UTF-8 into records, append PHP
notices after the envelope.  The demo server reproduces each on demand, for the next N
matching requests, so that the harvester's tests and benchmarks run against them over real
HTTP (:data:`FAULTS` lists them)::

    server.inject("unavailable", times=2, retry_after="1")   # the next 2 requests: 503
    server.inject("expire_token", verb="ListRecords", resumption=True, skip=1)

This module holds the queue of injected faults (:class:`FaultPlan`) and the transformations
each applies; the server's request handler calls them in this order: wait
(:func:`wait_before_answer`), answer instead of the server (:func:`canned_reply`), change
the request (:func:`rewrite_request`), then change the answer's text
(:func:`apply_text_faults`) and bytes (:func:`apply_byte_faults`).  The faults that need the
server's own answering (``no_records``, ``wrong_verb``) or its sending (``drop``,
``gzip_no_header``) are applied by the handler itself.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from harvesters.protocol import OAI_NS

#: Fault kinds accepted by :meth:`FaultPlan.inject` (and ``OAIDevServer.inject``).
FAULTS: dict[str, str] = {
    "unavailable": "answer with `status` (default 503) and a Retry-After of `retry_after`",
    "drop": "send the headers and half the body, then close the connection",
    "truncate": "send only the first half of the body, with a matching Content-Length",
    "expire_token": "answer a resumption request with badResumptionToken",
    "illegal_chars": "put U+0003, U+FFFE and &#1; into the first record's metadata",
    "invalid_utf8": "put a stray 0xFF byte into the first record's metadata",
    "broken_record": "make the first record of the page not well-formed",
    "html": "serve an HTML error page with status 200",
    "php_notice": "append a PHP notice after </OAI-PMH>",
    "prefixed": "serve the envelope with an oai: namespace prefix",
    "repeat_token": "hand back the request's own token (an endless loop for naive clients)",
    "wrong_verb": "answer with a body of verb `as_verb` (default ListSets), status 200",
    "no_records": "answer noRecordsMatch whatever the request",
    "wrong_prefix": "echo metadataPrefix `as_prefix` (default marc21) in <request>",
    "record_attrs": "declare the OAI namespace again on every <record> tag",
    "gzip_no_header": "gzip the body but send no Content-Encoding header",
    "gzip_bomb": "send a small gzip body that expands to `size` bytes (default 64 MB)",
    "delay": "sleep `seconds` before answering",
    "hold": "block until release() is called (holding is signalled by server.holding)",
}

_HTML = (
    "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    "<body><h1>Service Unavailable</h1><p>Hệ thống đang bảo trì.</p></body></html>"
)
_PHP_NOTICE = (
    "\n<br />\n<b>Notice</b>:  Undefined index: set in <b>/var/www/oai/oai2.php</b>"
    " on line <b>142</b><br />\n"
)


@dataclass
class Fault:
    """One injected fault and how many more matching requests it applies to."""

    kind: str
    times: int
    verb: str | None
    resumption: bool | None
    skip: int
    #: the kind's settings (``status``, ``retry_after``, ``seconds``, ``as_verb``, ...)
    options: dict[str, Any] = field(default_factory=dict)


class FaultPlan:
    """The faults waiting for requests, and the gate of the ``hold`` fault."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        #: set while a "hold" fault is blocking a request
        self.holding = threading.Event()

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        verb: str | None = None,
        resumption: bool | None = None,
        skip: int = 0,
        **options: object,
    ) -> None:
        """Apply fault ``kind`` to the next ``times`` requests matching ``verb``/``resumption``.

        ``resumption=True`` only matches requests carrying a resumptionToken, ``False`` only
        first requests; ``skip`` lets that many matching requests through first.
        Options: ``status``/``retry_after`` (unavailable), ``seconds`` (delay).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(Fault(kind, times, verb, resumption, skip, dict(options)))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def release(self) -> None:
        """Let every held request go on (and future "hold" faults pass immediately)."""
        self._release.set()

    def take(self, verb: str, params: dict[str, str]) -> list[Fault]:
        """The faults this request gets (each one's count goes down by one)."""
        taken = []
        with self._lock:
            for f in self._faults:
                if f.times <= 0:
                    continue
                if f.verb is not None and f.verb != verb:
                    continue
                if f.resumption is not None and f.resumption != ("resumptionToken" in params):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.times -= 1
                taken.append(f)
            self._faults = [f for f in self._faults if f.times > 0]
        return taken

    def wait_before_answer(self, faults: list[Fault]) -> None:
        """``delay`` and ``hold``: wait before anything is answered."""
        for f in faults:
            if f.kind == "delay":
                time.sleep(float(f.options.get("seconds", 1)))
            elif f.kind == "hold":
                self.holding.set()
                self._release.wait()


class CannedReply(NamedTuple):
    """A response sent instead of the server's answer."""

    status: int
    body: bytes
    headers: dict[str, str]
    content_type: str = "text/xml; charset=utf-8"
    #: sent as it is (never gzipped again by the server)
    raw: bool = False


def canned_reply(faults: list[Fault]) -> CannedReply | None:
    """``unavailable``, ``html`` (the first in injection order) or ``gzip_bomb``: what to send
    instead of an OAI-PMH answer, if any."""
    for f in faults:
        if f.kind == "unavailable":
            status = int(f.options.get("status", 503))
            headers = {}
            ra = f.options.get("retry_after")
            if ra is not None:
                headers["Retry-After"] = (
                    format_datetime(ra, usegmt=True) if isinstance(ra, datetime) else str(ra))
            return CannedReply(status, b"<html><body>busy</body></html>", headers, "text/html")
        if f.kind == "html":
            return CannedReply(200, _HTML.encode(), {}, "text/html; charset=utf-8")
    for f in faults:
        if f.kind == "gzip_bomb":
            size = int(f.options.get("size", 64 * 1024 * 1024))
            bomb = gzip.compress(b"<" + b" " * size, compresslevel=9)
            return CannedReply(200, bomb, {"Content-Encoding": "gzip"}, raw=True)
    return None


def rewrite_request(faults: list[Fault], params: dict[str, str]) -> dict[str, str]:
    """``expire_token``: the server sees a token it cannot know, and says so."""
    if any(f.kind == "expire_token" for f in faults) and "resumptionToken" in params:
        return dict(params, resumptionToken="expired:" + params["resumptionToken"])
    return params


def wrong_verb(faults: list[Fault]) -> str | None:
    """The verb a ``wrong_verb`` fault answers with, if one was taken."""
    for f in faults:
        if f.kind == "wrong_verb":
            return str(f.options.get("as_verb", "ListSets"))
    return None


def apply_text_faults(text: str, faults: list[Fault], params: dict[str, str]) -> str:
    """The faults that change the answer's XML text."""
    for f in faults:
        if f.kind == "illegal_chars":
            text = _in_first_metadata(text, "\x03 \ufffe&#1;")
        elif f.kind == "broken_record":
            text = _in_first_metadata(text, "<dc:title>hỏng</dc:titl>")
        elif f.kind == "php_notice":
            text += _PHP_NOTICE
        elif f.kind == "record_attrs":
            text = text.replace("<record>", f'<record xmlns="{OAI_NS}">')
        elif f.kind == "wrong_prefix":
            prefix = escape(str(f.options.get("as_prefix", "marc21")))
            text = re.sub(r'(<request[^>]*?metadataPrefix=)"[^"]*"', rf'\1"{prefix}"', text,
                          count=1)
            if "metadataPrefix=" not in text.split("</request>", 1)[0]:
                text = text.replace("<request", f'<request metadataPrefix="{prefix}"', 1)
        elif f.kind == "prefixed":
            text = text.replace(f'<OAI-PMH xmlns="{OAI_NS}"', f'<oai:OAI-PMH xmlns:oai="{OAI_NS}"')
            text = _prefix_all(text)
        elif f.kind == "repeat_token" and "resumptionToken" in params:
            start = text.find("<resumptionToken")
            if start >= 0:
                open_end = text.index(">", start)
                close = text.find("</resumptionToken>", open_end)
                token = escape(params["resumptionToken"])
                if close < 0:  # the empty final token: make it carry the old one
                    text = text[:open_end - 1] + f">{token}</resumptionToken>" + text[open_end + 1:]
                else:
                    text = text[: open_end + 1] + token + text[close:]
    return text


def apply_byte_faults(body: bytes, faults: list[Fault]) -> bytes:
    """The faults that change the answer's bytes: ``invalid_utf8``, ``truncate``."""
    kinds = {f.kind for f in faults}
    if "invalid_utf8" in kinds:
        pos = body.find(b"<metadata>")
        if pos >= 0:
            inner = body.index(b">", body.index(b"<", pos + 10)) + 1
            body = body[:inner] + b"\xff" + body[inner:]
    if "truncate" in kinds:
        body = body[: len(body) // 2]
    return body


def _in_first_metadata(text: str, junk: str) -> str:
    pos = text.find("<metadata>")
    if pos < 0:
        return text
    # inside the payload element, after its start tag
    inner = text.index(">", text.index("<", pos + len("<metadata>")))
    return text[: inner + 1] + junk + text[inner + 1:]


def _prefix_all(text: str) -> str:
    """Prefix the envelope's OAI elements with ``oai:``; payloads keep their own namespaces."""
    names = (
        "responseDate", "request", "error", "Identify", "ListRecords", "ListIdentifiers",
        "GetRecord", "ListSets", "ListMetadataFormats", "record", "header", "identifier",
        "datestamp", "setSpec", "metadata", "resumptionToken", "repositoryName", "baseURL",
        "protocolVersion", "adminEmail", "earliestDatestamp", "deletedRecord", "granularity",
        "compression", "metadataFormat", "metadataPrefix", "schema", "metadataNamespace",
        "set", "setName", "OAI-PMH",
    )
    head, sep, rest = text.partition("<metadata>")
    # only the part outside <metadata> payloads is rewritten: cheap and good enough for tests
    chunks = [head]
    while sep:
        payload, end, after = rest.partition("</metadata>")
        chunks.append(sep + payload + end)
        head, sep, rest = after.partition("<metadata>")
        chunks.append(head)
    out = []
    for i, chunk in enumerate(chunks):
        if i % 2 == 0:
            for n in names:
                chunk = chunk.replace(f"<{n}>", f"<oai:{n}>").replace(f"<{n} ", f"<oai:{n} ")
                chunk = chunk.replace(f"<{n}/>", f"<oai:{n}/>").replace(f"</{n}>", f"</oai:{n}>")
        else:
            chunk = chunk.replace("<metadata>", "<oai:metadata>", 1)
            chunk = chunk.replace("</metadata>", "</oai:metadata>")
        out.append(chunk)
    return "".join(out).replace("<oai:oai:", "<oai:").replace("</oai:oai:", "</oai:")
