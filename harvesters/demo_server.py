"""A small but real OAI-PMH 2.0 data provider over HTTP, with fault injection.

Used by the harvester tests, the demo (``make run``) and the benchmarks: it speaks the
protocol on ``127.0.0.1`` (port 0 picks a free port) from a background thread::

    records = [DevRecord("oai:dev:1", "2024-05-01T08:00:00Z", {"oai_dc": DC_XML})]
    with OAIDevServer(records, page_size=100) as server:
        harvest(server.url)
        server.inject("unavailable", times=2, retry_after="1")  # next 2 requests: 503
        server.upsert(DevRecord(...))                           # change data while running

What it implements: Identify, ListMetadataFormats, ListSets, ListRecords, ListIdentifiers,
GetRecord; GET and POST; paging with stateless keyset resumption tokens (ordered by
datestamp then identifier, so records changed during a harvest move to the end of the list
instead of shifting pages); from/until in ``day`` or ``seconds`` granularity; hierarchical
sets; deleted headers; the errors badVerb, badArgument, badResumptionToken,
cannotDisseminateFormat, idDoesNotExist, noRecordsMatch, noSetHierarchy; gzip on request.

Deviations seen in the wild can be switched on per server (``error_status=422`` like Zenodo,
``end_of_list="absent"`` like PMC, ``cursor_mode="pages"`` like DSpace-XOAI) or injected for
the next N matching requests with :meth:`OAIDevServer.inject` (see :data:`FAULTS`).
"""

from __future__ import annotations

import base64
import bisect
import gzip
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

OAI_NS = "http://www.openarchives.org/OAI/2.0/"

DEFAULT_FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": (
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
}

#: Fault kinds accepted by :meth:`OAIDevServer.inject`.
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

_ARGS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}


@dataclass(frozen=True)
class DevRecord:
    """One item: ``metadata`` maps a metadataPrefix to the payload XML (one element)."""

    identifier: str
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    metadata: dict[str, str] = field(default_factory=dict, hash=False)
    sets: tuple[str, ...] = ()
    deleted: bool = False


@dataclass
class _Fault:
    kind: str
    times: int
    verb: str | None
    resumption: bool | None
    skip: int
    options: dict


class OAIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def utc_now_seconds() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OAIDevServer:
    """The provider; see the module docstring.

    :param records: initial items.
    :param page_size: records per ListRecords/ListIdentifiers page.
    :param granularity: ``"seconds"`` or ``"day"`` (datestamps and from/until).
    :param deleted_record: what Identify declares (``persistent``, ``transient``, ``no``).
    :param error_status: HTTP status for OAI error responses (200 per spec, 422 for Zenodo).
    :param end_of_list: ``"empty"`` (spec), ``"absent"`` (PMC) on the last page of a list.
    :param cursor_mode: ``"records"`` (spec) or ``"pages"`` (DSpace-XOAI).
    :param token_ttl: seconds a token stays valid (``expirationDate``); ``None`` = forever.
    :param gzip: compress responses when the client accepts gzip.
    """

    def __init__(
        self,
        records: Iterable[DevRecord] = (),
        *,
        page_size: int = 100,
        granularity: str = "seconds",
        deleted_record: str = "persistent",
        repository_name: str = "lienhop development repository",
        earliest_datestamp: str = "2000-01-01T00:00:00Z",
        formats: dict[str, tuple[str, str]] | None = None,
        set_names: dict[str, str] | None = None,
        error_status: int = 200,
        end_of_list: str = "empty",
        cursor_mode: str = "records",
        token_ttl: float | None = None,
        gzip: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if granularity not in ("seconds", "day"):
            raise ValueError("granularity must be 'seconds' or 'day'")
        self.page_size = page_size
        self.granularity = granularity
        self.deleted_record = deleted_record
        self.repository_name = repository_name
        self.earliest_datestamp = earliest_datestamp
        self.formats = dict(formats or DEFAULT_FORMATS)
        self.set_names = dict(set_names or {})
        self.error_status = error_status
        self.end_of_list = end_of_list
        self.cursor_mode = cursor_mode
        self.token_ttl = token_ttl
        self.gzip = gzip
        self._records: dict[str, DevRecord] = {r.identifier: r for r in records}
        self._sorted: list[DevRecord] | None = None
        self._keys: list[tuple[str, str]] = []
        self._uniform: dict[str, bool] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        #: set while a "hold" fault is blocking a request
        self.holding = threading.Event()
        #: (verb, params) of every request served, in order
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: User-Agent header of every request, in order
        self.user_agents: list[str] = []
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/oai"

    def start(self) -> OAIDevServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="oai-devserver", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> OAIDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ data

    def upsert(self, *records: DevRecord) -> None:
        """Add or replace items (a replaced item should carry a newer datestamp)."""
        with self._lock:
            for r in records:
                self._records[r.identifier] = r
            self._sorted = None

    def remove(self, identifier: str) -> None:
        """Forget an item without a trace (what DSpace does for hard deletes)."""
        with self._lock:
            self._records.pop(identifier, None)
            self._sorted = None

    def delete(self, identifier: str, datestamp: str | None = None) -> None:
        """Turn an item into a deleted header (a tombstone) stamped now."""
        with self._lock:
            rec = self._records[identifier]
            self._records[identifier] = replace(
                rec, deleted=True, datestamp=datestamp or utc_now_seconds()
            )
            self._sorted = None

    @property
    def records(self) -> list[DevRecord]:
        with self._lock:
            return self._ordered()

    def _ordered(self) -> list[DevRecord]:
        if self._sorted is None:
            self._sorted = sorted(self._records.values(), key=lambda r: (r.datestamp, r.identifier))
            self._keys = [(r.datestamp, r.identifier) for r in self._sorted]
            self._uniform = {}
        return self._sorted

    # ------------------------------------------------------------------ faults

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
            self._faults.append(_Fault(kind, times, verb, resumption, skip, dict(options)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def release(self) -> None:
        """Let every held request go on (and future "hold" faults pass immediately)."""
        self._release.set()

    def _take_faults(self, verb: str, params: dict[str, str]) -> list[_Fault]:
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

    # ------------------------------------------------------------------ protocol

    def respond(self, params: dict[str, str], repeated: bool) -> tuple[int, str, dict]:
        """Answer one request: ``(status, xml_text, extra_headers)``; faults applied by caller."""
        verb = params.get("verb", "")
        self.requests.append((verb, dict(params)))
        try:
            if repeated:
                raise OAIError("badArgument", "repeated argument")
            if verb not in _ARGS:
                raise OAIError("badVerb", f"illegal verb {verb!r}")
            required, optional = _ARGS[verb]
            given = set(params) - {"verb"}
            unknown = given - required - optional
            if unknown:
                raise OAIError("badArgument", f"unknown argument(s): {', '.join(sorted(unknown))}")
            if "resumptionToken" in given:
                if given != {"resumptionToken"}:
                    raise OAIError("badArgument", "resumptionToken is an exclusive argument")
            elif required - given:
                raise OAIError("badArgument", f"missing: {', '.join(sorted(required - given))}")
            body = getattr(self, "_" + verb)(params)
            return 200, self._envelope(verb, params, body), {}
        except OAIError as err:
            echo = err.code not in ("badVerb", "badArgument")
            body = f'<error code="{err.code}">{escape(err.message)}</error>'
            return self.error_status, self._envelope(verb, params if echo else {}, body), {}

    def _envelope(self, verb: str, params: dict[str, str], body: str) -> str:
        attrs = "".join(
            f" {k}={quoteattr(v)}" for k, v in sorted(params.items()) if params
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
            f"<responseDate>{utc_now_seconds()}</responseDate>"
            f"<request{attrs}>{escape(self.url)}</request>{body}</OAI-PMH>"
        )

    def _stamp(self, datestamp: str) -> str:
        return datestamp[:10] if self.granularity == "day" else datestamp

    def _Identify(self, params: dict[str, str]) -> str:
        gran = "YYYY-MM-DD" if self.granularity == "day" else "YYYY-MM-DDThh:mm:ssZ"
        compression = "<compression>gzip</compression>" if self.gzip else ""
        return (
            f"<Identify><repositoryName>{escape(self.repository_name)}</repositoryName>"
            f"<baseURL>{escape(self.url)}</baseURL><protocolVersion>2.0</protocolVersion>"
            "<adminEmail>oai-admin@example.org</adminEmail>"
            f"<earliestDatestamp>{self._stamp(self.earliest_datestamp)}</earliestDatestamp>"
            f"<deletedRecord>{self.deleted_record}</deletedRecord>"
            f"<granularity>{gran}</granularity>{compression}</Identify>"
        )

    def _ListMetadataFormats(self, params: dict[str, str]) -> str:
        prefixes = list(self.formats)
        if "identifier" in params:
            rec = self._get(params["identifier"])
            prefixes = [p for p in prefixes if p in rec.metadata]
            if not prefixes:
                raise OAIError("noMetadataFormats", "no formats for this item")
        items = "".join(
            f"<metadataFormat><metadataPrefix>{p}</metadataPrefix>"
            f"<schema>{escape(self.formats[p][0])}</schema>"
            f"<metadataNamespace>{escape(self.formats[p][1])}</metadataNamespace>"
            "</metadataFormat>"
            for p in prefixes
        )
        return f"<ListMetadataFormats>{items}</ListMetadataFormats>"

    def _all_sets(self) -> dict[str, str]:
        names = dict(self.set_names)
        with self._lock:
            for rec in self._records.values():
                for spec in rec.sets:
                    names.setdefault(spec, spec)
        return names

    def _ListSets(self, params: dict[str, str]) -> str:
        if "resumptionToken" in params:
            raise OAIError("badResumptionToken", "ListSets is never paged here")
        names = self._all_sets()
        if not names:
            raise OAIError("noSetHierarchy", "this repository has no sets")
        items = "".join(
            f"<set><setSpec>{escape(s)}</setSpec><setName>{escape(n)}</setName></set>"
            for s, n in sorted(names.items())
        )
        return f"<ListSets>{items}</ListSets>"

    def _get(self, identifier: str) -> DevRecord:
        with self._lock:
            rec = self._records.get(identifier)
        if rec is None:
            raise OAIError("idDoesNotExist", f"no item {identifier!r}")
        return rec

    def _GetRecord(self, params: dict[str, str]) -> str:
        prefix = params["metadataPrefix"]
        if prefix not in self.formats:
            raise OAIError("cannotDisseminateFormat", f"unknown prefix {prefix!r}")
        rec = self._get(params["identifier"])
        if not rec.deleted and prefix not in rec.metadata:
            raise OAIError("cannotDisseminateFormat", f"{prefix!r} not available for this item")
        return f"<GetRecord>{self._record_xml(rec, prefix, headers_only=False)}</GetRecord>"

    def _ListRecords(self, params: dict[str, str]) -> str:
        return self._list("ListRecords", params)

    def _ListIdentifiers(self, params: dict[str, str]) -> str:
        return self._list("ListIdentifiers", params)

    def _parse_date(self, value: str, *, end: bool) -> str:
        try:
            if len(value) == 10:
                day = datetime.strptime(value, "%Y-%m-%d")
                if end:
                    day += timedelta(days=1, seconds=-1)
                return day.strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.granularity == "day":
                raise OAIError("badArgument", "this repository supports day granularity only")
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return value
        except ValueError:
            raise OAIError("badArgument", f"illegal date {value!r}") from None

    def _list(self, verb: str, params: dict[str, str]) -> str:
        if "resumptionToken" in params:
            q = self._decode_token(params["resumptionToken"], verb)
        else:
            prefix = params["metadataPrefix"]
            if prefix not in self.formats:
                raise OAIError("cannotDisseminateFormat", f"unknown prefix {prefix!r}")
            f, u = params.get("from"), params.get("until")
            if f and u and len(f) != len(u):
                raise OAIError("badArgument", "from and until differ in granularity")
            spec = params.get("set")
            if spec and not self._all_sets():
                raise OAIError("noSetHierarchy", "this repository has no sets")
            q = {
                "p": prefix, "s": spec,
                "f": self._parse_date(f, end=False) if f else None,
                "u": self._parse_date(u, end=True) if u else None,
                "after": None, "c": 0, "n": 0,
            }
            if q["f"] and q["u"] and q["f"] > q["u"]:
                raise OAIError("badArgument", "from is later than until")
        with self._lock:
            ordered = self._ordered()
            keys = self._keys
        # keyset paging: jump past the last delivered (datestamp, identifier) by bisection,
        # so page n costs the same as page 1 (unlike offsets, DSpace#12980)
        start = bisect.bisect_right(keys, tuple(q["after"])) if q["after"] else 0
        page: list[DevRecord] = []
        remaining = 0
        for i in range(start, len(ordered)):
            r = ordered[i]
            if not self._matches(r, q):
                continue
            if len(page) < self.page_size:
                page.append(r)
                continue
            if not (q["f"] or q["u"] or q["s"]) and self._all_have(q["p"]):
                remaining = len(ordered) - i  # unfiltered list: count without scanning
                break
            remaining += 1
        if not page and q["c"] == 0:
            raise OAIError("noRecordsMatch", "no records match")
        rest = remaining > 0
        headers_only = verb == "ListIdentifiers"
        items = "".join(self._record_xml(r, q["p"], headers_only) for r in page)
        total = q["c"] + len(page) + remaining
        cursor = q["n"] if self.cursor_mode == "pages" else q["c"]
        if rest:
            nxt = dict(q, after=[page[-1].datestamp, page[-1].identifier],
                       c=q["c"] + len(page), n=q["n"] + 1)
            token, attrs = self._encode_token(nxt, verb), ""
            if self.token_ttl is not None:
                exp = datetime.now(UTC) + timedelta(seconds=self.token_ttl)
                attrs = f' expirationDate="{exp.strftime("%Y-%m-%dT%H:%M:%SZ")}"'
            items += (
                f'<resumptionToken completeListSize="{total}" cursor="{cursor}"{attrs}>'
                f"{escape(token)}</resumptionToken>"
            )
        elif q["c"] > 0 and self.end_of_list == "empty":
            items += f'<resumptionToken completeListSize="{total}" cursor="{cursor}"/>'
        return f"<{verb}>{items}</{verb}>"

    def _all_have(self, prefix: str) -> bool:
        """Whether every item is deleted or has ``prefix`` (cached until the data changes)."""
        with self._lock:
            if prefix not in self._uniform:
                self._uniform[prefix] = all(
                    r.deleted or prefix in r.metadata for r in self._records.values()
                )
            return self._uniform[prefix]

    def _matches(self, r: DevRecord, q: dict) -> bool:
        if q["after"] is not None and (r.datestamp, r.identifier) <= tuple(q["after"]):
            return False
        if q["f"] and r.datestamp < q["f"]:
            return False
        if q["u"] and r.datestamp > q["u"]:
            return False
        spec = q["s"]
        if spec and not any(s == spec or s.startswith(spec + ":") for s in r.sets):
            return False
        return r.deleted or q["p"] in r.metadata

    def _encode_token(self, q: dict, verb: str) -> str:
        q = dict(q, v=verb)
        if self.token_ttl is not None:
            q["e"] = time.time() + self.token_ttl
        return base64.urlsafe_b64encode(json.dumps(q, separators=(",", ":")).encode()).decode()

    def _decode_token(self, token: str, verb: str) -> dict:
        try:
            q = json.loads(base64.urlsafe_b64decode(token.encode()))
            assert q["v"] == verb
        except Exception:
            raise OAIError("badResumptionToken", "unknown or forged token") from None
        if "e" in q and q["e"] < time.time():
            raise OAIError("badResumptionToken", "the resumptionToken has expired")
        return q

    def _record_xml(self, r: DevRecord, prefix: str, headers_only: bool) -> str:
        status = ' status="deleted"' if r.deleted else ""
        sets = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in r.sets)
        header = (
            f"<header{status}><identifier>{escape(r.identifier)}</identifier>"
            f"<datestamp>{self._stamp(r.datestamp)}</datestamp>{sets}</header>"
        )
        if headers_only:
            return header
        if r.deleted:
            return f"<record>{header}</record>"
        return f"<record>{header}<metadata>{r.metadata[prefix]}</metadata></record>"


# ---------------------------------------------------------------------- fault application

_HTML = (
    "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    "<body><h1>Service Unavailable</h1><p>Hệ thống đang bảo trì.</p></body></html>"
)
_PHP_NOTICE = (
    "\n<br />\n<b>Notice</b>:  Undefined index: set in <b>/var/www/oai/oai2.php</b>"
    " on line <b>142</b><br />\n"
)


def _apply_text_faults(text: str, faults: list[_Fault], params: dict[str, str]) -> str:
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


def _make_handler(server: OAIDevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lienhop-oai-devserver/0.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # tests and benchmarks do not want a line per request on stderr

        def do_GET(self) -> None:
            self._handle(urlsplit(self.path).query)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._handle(self.rfile.read(length).decode("utf-8", "replace"))

        def _handle(self, query: str) -> None:
            server.user_agents.append(self.headers.get("User-Agent", ""))
            pairs = parse_qsl(query, keep_blank_values=True)
            params = dict(pairs)
            repeated = len(pairs) != len(params)
            faults = server._take_faults(params.get("verb", ""), params)
            for f in faults:
                if f.kind == "delay":
                    time.sleep(float(f.options.get("seconds", 1)))
                elif f.kind == "hold":
                    server.holding.set()
                    server._release.wait()
            kinds = {f.kind for f in faults}
            for f in faults:
                if f.kind == "unavailable":
                    status = int(f.options.get("status", 503))
                    headers = {}
                    if f.options.get("retry_after") is not None:
                        ra = f.options["retry_after"]
                        if isinstance(ra, datetime):
                            ra = format_datetime(ra, usegmt=True)
                        headers["Retry-After"] = str(ra)
                    return self._send(status, b"<html><body>busy</body></html>", headers,
                                      ctype="text/html")
                if f.kind == "html":
                    return self._send(200, _HTML.encode(), {}, ctype="text/html; charset=utf-8")
            if "expire_token" in kinds and "resumptionToken" in params:
                params = dict(params, resumptionToken="expired:" + params["resumptionToken"])
            for f in faults:
                if f.kind == "gzip_bomb":
                    size = int(f.options.get("size", 64 * 1024 * 1024))
                    bomb = gzip.compress(b"<" + b" " * size, compresslevel=9)
                    return self._send(200, bomb, {"Content-Encoding": "gzip"}, raw=True)
            if "no_records" in kinds:
                body = '<error code="noRecordsMatch">no records match</error>'
                status = server.error_status
                text, headers = server._envelope(params.get("verb", ""), params, body), {}
            elif "wrong_verb" in kinds:
                as_verb = next(str(f.options.get("as_verb", "ListSets")) for f in faults
                               if f.kind == "wrong_verb")
                allowed = set().union(*_ARGS.get(as_verb, (set(), set()))) - {"resumptionToken"}
                plain = {k: v for k, v in params.items() if k in allowed}
                status, text, headers = server.respond(dict(plain, verb=as_verb), repeated)
            else:
                status, text, headers = server.respond(params, repeated)
            text = _apply_text_faults(text, faults, params)
            body = text.encode("utf-8")
            if "invalid_utf8" in kinds:
                pos = body.find(b"<metadata>")
                if pos >= 0:
                    inner = body.index(b">", body.index(b"<", pos + 10)) + 1
                    body = body[:inner] + b"\xff" + body[inner:]
            if "truncate" in kinds:
                body = body[: len(body) // 2]
            if "gzip_no_header" in kinds:
                return self._send(status, gzip.compress(body), headers, raw=True,
                                  drop="drop" in kinds)
            self._send(status, body, headers, drop="drop" in kinds)

        def _send(self, status: int, body: bytes, headers: dict, *,
                  ctype: str = "text/xml; charset=utf-8", drop: bool = False,
                  raw: bool = False) -> None:
            if not raw and server.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                body = gzip.compress(body, compresslevel=5)
                headers = dict(headers, **{"Content-Encoding": "gzip"})
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            if drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if drop:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler
