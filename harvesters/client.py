"""The OAI-PMH client: Sickle over our transport and our sanitising page parser.

:class:`OAIClient` *is* a :class:`sickle.Sickle`, so ``client.ListRecords(metadataPrefix=...)``
and the other Sickle verbs keep working, but every request goes through
:class:`harvesters.http.Transport` (retries, Retry-After dates, polite delay, 4xx bodies) and
every body through :func:`harvesters.page.parse_page` (no silent record loss).

The harvester itself uses the page-level API, because checkpointing needs pages and tokens::

    client = OAIClient("https://repo.example.vn/oai/request", repository="hue-dspace")
    info = client.identify()
    for page in client.list_records("oai_dc", from_=since, granularity=info.granularity):
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from sickle import Sickle
from sickle.iterator import OAIItemIterator
from sickle.models import ResumptionToken as SickleToken
from sickle.response import OAIResponse

from harvesters.http import HttpResponse, Transport, TransportError
from harvesters.page import Page, PageError, parse_page
from harvesters.protocol import OAI_NS, ErrorCode, ReceivedError

log = logging.getLogger("lienhop.harvest")

DAY = "day"
SECONDS = "seconds"


class HarvestError(Exception):
    """Base class of everything that stops a list from being harvested."""


class OAIProtocolError(HarvestError):
    """The repository answered with OAI-PMH ``<error>`` elements."""

    def __init__(self, errors: list[ReceivedError], *, verb: str = "") -> None:
        self.errors = errors
        self.verb = verb
        super().__init__(f"{verb}: " + "; ".join(str(e) for e in errors))

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ""


class BadResumptionToken(OAIProtocolError):
    """The token expired or was rejected; restart the list with ``from`` (see the runner)."""


class TruncatedResponse(HarvestError):
    """The body kept arriving cut short; the list cannot continue reliably."""


class InvalidResponse(HarvestError):
    """The body is not an OAI-PMH response (HTML page, empty, malformed beyond salvage)."""


class WrongAnswer(InvalidResponse):
    """A well-formed OAI-PMH response that does not answer the request: another verb (a
    ListSets body to a ListRecords request), another namespace, another metadataPrefix.
    Taking it as "an empty list" is how a full run wipes a repository, so it is an error."""


class TokenLoop(HarvestError):
    """The provider keeps handing back a resumptionToken it already gave (sickle#25,
    DOAJ#1396): the rest of the list cannot be reached.  Never taken as the list's end."""


@dataclass(frozen=True)
class RepositoryInfo:
    """What Identify says, reduced to what a harvester needs."""

    repository_name: str
    base_url: str
    protocol_version: str
    granularity: str  # DAY or SECONDS
    earliest_datestamp: str
    deleted_record: str  # "no", "transient", "persistent"
    compression: tuple[str, ...] = ()
    admin_emails: tuple[str, ...] = ()
    response_date: str = ""


def format_datestamp(value: datetime | str, granularity: str) -> str:
    """Format ``value`` for ``from``/``until`` in the repository's own granularity (UTC).

    Sending seconds to a day-granularity repository earns ``badArgument`` (Dataverse#11020).

    >>> format_datestamp("2024-05-01T10:20:30Z", DAY)
    '2024-05-01'
    >>> format_datestamp(datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC), SECONDS)
    '2024-05-01T10:20:30Z'
    >>> format_datestamp("2024-05-01", SECONDS)
    '2024-05-01T00:00:00Z'
    """
    dt = parse_datestamp(value) if isinstance(value, str) else value
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    if granularity == DAY:
        return dt.strftime("%Y-%m-%d")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datestamp(value: str) -> datetime:
    """Parse an OAI UTCdatetime (day or seconds, tolerating fractions/offsets) as aware UTC."""
    v = value.strip()
    if len(v) == 10:
        return datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC)
    dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0)


# Sickle ships no type information, so its classes are ``Any`` to mypy; subclassing them is
# what makes OAIClient a Sickle (the ignores below say only that).


class PageResponse(OAIResponse):  # type: ignore[misc]  # sickle is untyped (Any base class)
    """A :class:`sickle.response.OAIResponse` whose ``xml`` is our sanitised tree."""

    def __init__(self, http_response: HttpResponse, params: dict[str, str], page: Page) -> None:
        super().__init__(http_response, params)
        self.http = http_response
        self.page = page

    @property
    def raw(self) -> str:
        return self.http.content.decode("utf-8", errors="replace")

    @property
    def xml(self) -> etree._Element | None:
        return self.page.root


class GuardedItemIterator(OAIItemIterator):  # type: ignore[misc]  # sickle is untyped
    """Sickle's item iterator, but a token seen before ends the list (sickle#25)."""

    #: set by Sickle's iterator after every response (None at the end of the list)
    resumption_token: SickleToken | None

    def _next_response(self) -> None:
        seen: set[str] = self.__dict__.setdefault("_seen_tokens", set())
        super()._next_response()
        token = self.resumption_token.token if self.resumption_token else None
        if token:
            if token in seen:
                log.warning("event=token_loop verb=%s token=%r", self.verb, token)
                self.resumption_token = None
            seen.add(token)


class OAIClient(Sickle):  # type: ignore[misc]  # sickle is untyped (Any base class)
    """A Sickle whose requests and parsing are robust; see the module docstring.

    :param endpoint: the repository's baseURL.
    :param transport: a shared :class:`Transport`; a default one is made otherwise.
    :param repository: the repository code, for log messages.
    :param truncated_retries: how often a body cut short (no closing root tag) is re-fetched.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        transport: Transport | None = None,
        repository: str = "",
        truncated_retries: int = 3,
        token_retries: int = 3,
    ) -> None:
        super().__init__(endpoint, iterator=GuardedItemIterator)
        self.transport = transport or Transport()
        self.repository = repository
        self.truncated_retries = truncated_retries
        self.token_retries = token_retries

    # -- the Sickle hook: every verb, ours and Sickle's, comes through here
    def harvest(self, **kwargs: str) -> PageResponse:
        """Issue one request; return the parsed response (OAI errors are *not* raised here)."""
        ctx = f"repository={self.repository or '-'}"
        for attempt in range(1, self.truncated_retries + 2):
            http = self.transport.get(self.endpoint, kwargs)
            try:
                page = parse_page(http.content, repository=self.repository, status=http.status)
            except PageError as exc:
                raise InvalidResponse(
                    f"{self.endpoint} verb={kwargs.get('verb')}: HTTP {http.status}: {exc}"
                ) from exc
            if not page.truncated:
                return PageResponse(http, dict(kwargs), page)
            log.warning("%s event=truncated_body attempt=%d", ctx, attempt)
        raise TruncatedResponse(
            f"{self.endpoint}: body cut short {self.truncated_retries + 1} times"
        )

    def identify(self) -> RepositoryInfo:
        """Issue Identify and return the repository's declared behaviour."""
        resp = self.harvest(verb="Identify")
        page = resp.page
        if page.errors:
            raise OAIProtocolError(page.errors, verb="Identify")
        root = page.root
        ident = (next((c for c in root if _local(c.tag) == "Identify"), None)
                 if root is not None else None)
        if ident is None:
            raise InvalidResponse(f"{self.endpoint}: Identify response without <Identify>")

        def texts(name: str) -> list[str]:
            return [(c.text or "").strip() for c in ident if _local(c.tag) == name]

        def text(name: str, default: str = "") -> str:
            found = texts(name)
            return found[0] if found else default

        gran = text("granularity")
        info = RepositoryInfo(
            repository_name=text("repositoryName"),
            base_url=text("baseURL"),
            protocol_version=text("protocolVersion"),
            # Every repository must support day granularity; unknown values fall back to it.
            granularity=SECONDS if "hh:mm:ss" in gran else DAY,
            earliest_datestamp=text("earliestDatestamp"),
            deleted_record=text("deletedRecord", "no"),
            compression=tuple(texts("compression")),
            admin_emails=tuple(texts("adminEmail")),
            response_date=page.response_date,
        )
        log.info(
            "repository=%s event=identify granularity=%s deletedRecord=%s name=%r",
            self.repository or "-", info.granularity, info.deleted_record, info.repository_name,
        )
        return info

    def list_records(
        self,
        metadata_prefix: str,
        set: str | None = None,  # noqa: A002 -- the OAI argument's name
        from_: datetime | str | None = None,
        until: datetime | str | None = None,
        *,
        granularity: str = DAY,
        resumption_token: str | None = None,
        verb: str = "ListRecords",
    ) -> Iterator[Page]:
        """Yield the pages of one list, following resumption tokens.

        The list ends only on a valid answer of the requested ``verb`` whose token is
        missing or empty, or on ``noRecordsMatch`` to the first request (an empty list is
        success).  Everything else raises, so that no caller mistakes a broken list for a
        short one:

        * an answer of another verb, namespace or metadataPrefix: :class:`WrongAnswer`;
        * a token already seen in this list: the request is sent again (up to
          ``token_retries`` times, with backoff), then :class:`TokenLoop`;
        * ``noRecordsMatch`` to a resumption request, unless the last token's
          ``completeListSize`` says the list was complete: :class:`WrongAnswer`.

        ``cursor`` is never interpreted: DSpace-XOAI counts pages in it.

        :param resumption_token: continue a list interrupted earlier (the other arguments
            are then not sent: the token is exclusive).
        :raises BadResumptionToken: the provider rejected a token.
        :raises OAIProtocolError: any other OAI error.
        """
        if resumption_token:
            params: dict[str, str] = {"verb": verb, "resumptionToken": resumption_token}
        else:
            params = {"verb": verb, "metadataPrefix": metadata_prefix}
            if set:
                params["set"] = set
            if from_:
                params["from"] = format_datestamp(from_, granularity)
            if until:
                params["until"] = format_datestamp(until, granularity)
        # (a dict, because the `set` argument shadows the builtin here)
        seen: dict[str, None] = {resumption_token: None} if resumption_token else {}
        listed = 0
        expected_size: int | None = None
        loops = 0
        while True:
            page = self.harvest(**params).page
            if page.errors:
                codes = {e.code for e in page.errors}
                if codes == {ErrorCode.NO_RECORDS_MATCH}:
                    if "resumptionToken" not in params:
                        return
                    if expected_size is not None and listed >= expected_size:
                        return
                    raise WrongAnswer(
                        f"{verb}: noRecordsMatch in answer to a resumptionToken after "
                        f"{listed} records (completeListSize {expected_size})"
                    )
                if ErrorCode.BAD_RESUMPTION_TOKEN in codes:
                    raise BadResumptionToken(page.errors, verb=verb)
                raise OAIProtocolError(page.errors, verb=verb)
            check_answer(page, verb, metadata_prefix)
            token = page.token.value if page.token else ""
            if token and token in seen:
                loops += 1
                log.warning(
                    "repository=%s event=token_repeated token=%r attempt=%d",
                    self.repository or "-", token, loops,
                )
                if loops > self.token_retries:
                    raise TokenLoop(
                        f"{verb}: the provider answered {loops} times with a resumptionToken "
                        f"it had already sent ({token[:80]!r}) after {listed} records"
                    )
                self.transport.sleep(min(60.0, 2.0 ** loops))
                continue  # the same request again; the page is not used
            loops = 0
            yield page
            listed += len(page.records)
            if page.token and page.token.complete_list_size is not None:
                expected_size = page.token.complete_list_size
            if not token:
                return
            seen[token] = None
            params = {"verb": verb, "resumptionToken": token}


def check_answer(page: Page, verb: str, metadata_prefix: str | None = None) -> None:
    """Raise :class:`WrongAnswer` unless ``page`` is an OAI-PMH 2.0 answer to ``verb``.

    The provider's echo of the request is checked too, where it gives a metadataPrefix
    (an echo of a resumption request carries only the token).
    """
    if page.namespace != OAI_NS:
        raise WrongAnswer(
            f"{verb}: the answer's namespace is {page.namespace or 'none'!r}, "
            f"not OAI-PMH 2.0's {OAI_NS!r}"
        )
    if page.verb != verb:
        raise WrongAnswer(f"asked {verb}, the answer is {page.verb or 'empty'}")
    echoed = page.request.get("verb")
    if echoed and echoed != verb:
        raise WrongAnswer(f"asked {verb}, the answer says it answered {echoed}")
    prefix = page.request.get("metadataPrefix")
    if metadata_prefix and prefix and prefix != metadata_prefix:
        raise WrongAnswer(
            f"{verb}: asked metadataPrefix {metadata_prefix!r}, the answer is for {prefix!r}"
        )


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


__all__ = [
    "DAY",
    "SECONDS",
    "BadResumptionToken",
    "HarvestError",
    "InvalidResponse",
    "OAIClient",
    "OAIProtocolError",
    "RepositoryInfo",
    "TransportError",
    "TokenLoop",
    "TruncatedResponse",
    "WrongAnswer",
    "check_answer",
    "format_datestamp",
    "parse_datestamp",
]
