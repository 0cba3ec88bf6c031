"""The demo and test OAI-PMH repository: a small but real OAI-PMH 2.0 data provider over HTTP.

This is a test double, **not the harvester** (that is :mod:`harvesters.client` and
:mod:`harvesters.runner`): it plays a member repository.  It lives in the runtime package
because ``make run`` serves the demo consortium's repositories with it (``resolver.demo``);
the harvester tests and the benchmarks use it too.  It speaks the protocol on ``127.0.0.1``
(port 0 picks a free port) from a background thread::

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
the next N matching requests with :meth:`OAIDevServer.inject`; the faults and what each does
are :mod:`harvesters.demo_faults`.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

from harvesters import demo_faults
from harvesters.demo_faults import FAULTS, FaultPlan
from harvesters.protocol import OAI_NS, ErrorCode, ErrorReply, echoes_request, error_element

__all__ = ["DEFAULT_FORMATS", "FAULTS", "DevRecord", "OAIDevServer", "utc_now_seconds"]

DEFAULT_FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": (
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
}

_ARGS: dict[str, tuple[set[str], set[str]]] = {
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
        self._lock = threading.Lock()
        #: the injected faults (:meth:`inject`)
        self.faults = FaultPlan()
        #: set while a "hold" fault is blocking a request
        self.holding = self.faults.holding
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
        host, port = self._httpd.socket.getsockname()[:2]
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
        if self._thread:  # shutdown() waits for serve_forever, forever if it never ran
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
        """Apply fault ``kind`` to the next ``times`` matching requests
        (:meth:`harvesters.demo_faults.FaultPlan.inject`, :data:`FAULTS`)."""
        self.faults.inject(kind, times=times, verb=verb, resumption=resumption, skip=skip,
                           **options)

    def clear_faults(self) -> None:
        self.faults.clear()

    def release(self) -> None:
        """Let every held request go on (and future "hold" faults pass immediately)."""
        self.faults.release()

    # ------------------------------------------------------------------ protocol

    def respond(self, params: dict[str, str], repeated: bool
                ) -> tuple[int, str, dict[str, str]]:
        """Answer one request: ``(status, xml_text, extra_headers)``; faults applied by caller."""
        verb = params.get("verb", "")
        self.requests.append((verb, dict(params)))
        try:
            if repeated:
                raise ErrorReply(ErrorCode.BAD_ARGUMENT, "repeated argument")
            if verb not in _ARGS:
                raise ErrorReply(ErrorCode.BAD_VERB, f"illegal verb {verb!r}")
            required, optional = _ARGS[verb]
            given = set(params) - {"verb"}
            unknown = given - required - optional
            if unknown:
                raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                                 f"unknown argument(s): {', '.join(sorted(unknown))}")
            if "resumptionToken" in given:
                if given != {"resumptionToken"}:
                    raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                                     "resumptionToken is an exclusive argument")
            elif required - given:
                raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                                 f"missing: {', '.join(sorted(required - given))}")
            body = getattr(self, "_" + verb)(params)
            return 200, self._envelope(verb, params, body), {}
        except ErrorReply as err:
            echo = echoes_request(err.code)
            return self.error_status, self._envelope(
                verb, params if echo else {}, error_element(err)), {}

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
                raise ErrorReply(ErrorCode.NO_METADATA_FORMATS, "no formats for this item")
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
            raise ErrorReply(ErrorCode.BAD_RESUMPTION_TOKEN, "ListSets is never paged here")
        names = self._all_sets()
        if not names:
            raise ErrorReply(ErrorCode.NO_SET_HIERARCHY, "this repository has no sets")
        items = "".join(
            f"<set><setSpec>{escape(s)}</setSpec><setName>{escape(n)}</setName></set>"
            for s, n in sorted(names.items())
        )
        return f"<ListSets>{items}</ListSets>"

    def _get(self, identifier: str) -> DevRecord:
        with self._lock:
            rec = self._records.get(identifier)
        if rec is None:
            raise ErrorReply(ErrorCode.ID_DOES_NOT_EXIST, f"no item {identifier!r}")
        return rec

    def _GetRecord(self, params: dict[str, str]) -> str:
        prefix = params["metadataPrefix"]
        if prefix not in self.formats:
            raise ErrorReply(ErrorCode.CANNOT_DISSEMINATE_FORMAT, f"unknown prefix {prefix!r}")
        rec = self._get(params["identifier"])
        if not rec.deleted and prefix not in rec.metadata:
            raise ErrorReply(ErrorCode.CANNOT_DISSEMINATE_FORMAT,
                             f"{prefix!r} not available for this item")
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
                raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                                 "this repository supports day granularity only")
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return value
        except ValueError:
            raise ErrorReply(ErrorCode.BAD_ARGUMENT, f"illegal date {value!r}") from None

    def _list(self, verb: str, params: dict[str, str]) -> str:
        if "resumptionToken" in params:
            q = self._decode_token(params["resumptionToken"], verb)
        else:
            prefix = params["metadataPrefix"]
            if prefix not in self.formats:
                raise ErrorReply(ErrorCode.CANNOT_DISSEMINATE_FORMAT,
                                 f"unknown prefix {prefix!r}")
            f, u = params.get("from"), params.get("until")
            if f and u and len(f) != len(u):
                raise ErrorReply(ErrorCode.BAD_ARGUMENT, "from and until differ in granularity")
            spec = params.get("set")
            if spec and not self._all_sets():
                raise ErrorReply(ErrorCode.NO_SET_HIERARCHY, "this repository has no sets")
            q = {
                "p": prefix, "s": spec,
                "f": self._parse_date(f, end=False) if f else None,
                "u": self._parse_date(u, end=True) if u else None,
                "after": None, "c": 0, "n": 0,
            }
            if q["f"] and q["u"] and q["f"] > q["u"]:
                raise ErrorReply(ErrorCode.BAD_ARGUMENT, "from is later than until")
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
            raise ErrorReply(ErrorCode.NO_RECORDS_MATCH, "no records match")
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

    def _matches(self, r: DevRecord, q: dict[str, Any]) -> bool:
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

    def _encode_token(self, q: dict[str, Any], verb: str) -> str:
        q = dict(q, v=verb)
        if self.token_ttl is not None:
            q["e"] = time.time() + self.token_ttl
        return base64.urlsafe_b64encode(json.dumps(q, separators=(",", ":")).encode()).decode()

    def _decode_token(self, token: str, verb: str) -> dict[str, Any]:
        try:
            q: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.encode()))
            assert q["v"] == verb
        except Exception:
            raise ErrorReply(ErrorCode.BAD_RESUMPTION_TOKEN,
                             "unknown or forged token") from None
        if "e" in q and q["e"] < time.time():
            raise ErrorReply(ErrorCode.BAD_RESUMPTION_TOKEN, "the resumptionToken has expired")
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
            faults = server.faults.take(params.get("verb", ""), params)
            server.faults.wait_before_answer(faults)
            canned = demo_faults.canned_reply(faults)
            if canned is not None:
                return self._send(canned.status, canned.body, canned.headers,
                                  ctype=canned.content_type, raw=canned.raw)
            params = demo_faults.rewrite_request(faults, params)
            kinds = {f.kind for f in faults}
            as_verb = demo_faults.wrong_verb(faults)
            if "no_records" in kinds:
                reply = ErrorReply(ErrorCode.NO_RECORDS_MATCH, "no records match")
                status = server.error_status
                text = server._envelope(params.get("verb", ""), params, error_element(reply))
                headers: dict[str, str] = {}
            elif as_verb is not None:
                allowed = set().union(*_ARGS.get(as_verb, (set(), set()))) - {"resumptionToken"}
                plain = {k: v for k, v in params.items() if k in allowed}
                status, text, headers = server.respond(dict(plain, verb=as_verb), repeated)
            else:
                status, text, headers = server.respond(params, repeated)
            text = demo_faults.apply_text_faults(text, faults, params)
            body = demo_faults.apply_byte_faults(text.encode("utf-8"), faults)
            if "gzip_no_header" in kinds:
                return self._send(status, gzip.compress(body), headers, raw=True,
                                  drop="drop" in kinds)
            self._send(status, body, headers, drop="drop" in kinds)

        def _send(self, status: int, body: bytes, headers: dict[str, str], *,
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
