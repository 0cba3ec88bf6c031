"""Parse one OAI-PMH response body into a :class:`Page`, surviving real-world bodies.

Real providers send invalid UTF-8, control characters in titles (Dataverse#8306), U+FFFE
(DSpace#10721), PHP notices after ``</OAI-PMH>`` (findsorguk#843), ``oai:``-prefixed
envelopes (Dataverse#6242) and HTML error pages with status 200.  A recovering XML parser
"handles" those by silently dropping the rest of the page; :func:`parse_page` instead

1. decodes (UTF-8; else the declared encoding; else UTF-8 with U+FFFD) and logs bad bytes,
2. strips XML-1.0-illegal characters and character references, logging what went,
3. cuts trailing junk after the closing ``OAI-PMH`` tag,
4. refuses HTML with :class:`NotOAIResponse`,
5. parses with a *non-recovering* parser, and
6. if the body is still not well-formed, *salvages* it: each ``<record>`` is parsed on its
   own so a broken record costs only itself, and the resumption token is recovered too.

Usage::

    page = parse_page(body, repository="hue-dspace")
    for rec in page.records:
        if rec.problem:
            ...  # log + count, keep going
        else:
            crosswalk(prefix, rec.metadata, rec.header, ...)
    if page.token and page.token.value:
        ...  # next request
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from harvesters.crosswalk import Header
from harvesters.protocol import OAI_NS, ReceivedError

log = logging.getLogger("lienhop.harvest")

# Never recover: lxml's recovery truncates the document at the first fatal error and hands
# back a tree that *looks* complete.  resolve_entities/no_network: a harvested body is
# untrusted input (XXE).  huge_tree: some providers send multi-megabyte pages (pyoai#14).
_PARSER = etree.XMLParser(
    recover=False, resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False
)

_ILLEGAL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_ROOT_END = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?OAI-PMH\s*>")
_ROOT_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?OAI-PMH\b[^>]*>")
_NS_DECL = re.compile(r"""\sxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*("[^"]*"|'[^']*')""")
_HTML_START = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:!DOCTYPE\s+html|html)[\s>]", re.I | re.S)
_P = r"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
# An OAI <record> always starts with its <header>; MARC/MODS payloads also have "record"
# elements, so the header is what tells the envelope's records apart.
# Attributes are allowed on both (a default namespace declaration on every <record> is
# common), and whitespace or comments may stand between them.
_RECORD_START = re.compile(
    rf"<{_P}record(?:\s[^>]*)?>(?:\s|<!--.*?-->)*<{_P}header[\s>/]", re.S
)
_HEADER_TAG = re.compile(rf"<{_P}header[\s>/]")
_HEADER_END = re.compile(rf"</{_P}header\s*>")
#: how many closing tags a salvaged record may be cut at (bounds the work on hostile pages)
_MAX_CUTS = 8
_TOKEN_TAG = re.compile(rf"<{_P}resumptionToken[\s>/]")
_RECORD_END = re.compile(rf"</{_P}record\s*>")
_TOKEN = re.compile(
    rf"<{_P}resumptionToken((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*"
    rf"(?:/>|>([^<]*)</{_P}resumptionToken\s*>)"
)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ERROR = re.compile(
    rf"<{_P}error\s+code\s*=\s*[\"']([^\"']*)[\"'][^>]*?(?:/>|>([^<]*)</{_P}error>)"
)
_IDENTIFIER = re.compile(rf"<{_P}identifier\s*>\s*([^<]*?)\s*</{_P}identifier>")
_DATESTAMP = re.compile(rf"<{_P}datestamp\s*>\s*([^<]*?)\s*</{_P}datestamp>")
_RESPONSE_DATE = re.compile(rf"<{_P}responseDate\s*>\s*([^<]*?)\s*</{_P}responseDate>")

#: makes the qualified name of an element of the envelope's namespace (``q("record")``)
_Qualify = Callable[[str], str]


def _qualifier(ns: str) -> _Qualify:
    """``name -> {ns}name``, or the bare name when the envelope has no namespace."""
    if ns:
        return lambda name: f"{{{ns}}}{name}"
    return lambda name: name


class PageError(Exception):
    """The body is not an OAI-PMH response we can read at all."""


class NotOAIResponse(PageError):
    """The body is something else: an HTML page, an empty body, a foreign XML document."""


class MalformedPage(PageError):
    """The body is not well-formed XML and nothing could be salvaged from it."""


@dataclass(frozen=True)
class ResumptionToken:
    """A ``<resumptionToken>``; an empty :attr:`value` means "the list is complete"."""

    value: str
    cursor: int | None = None
    complete_list_size: int | None = None
    expiration_date: str | None = None


@dataclass
class PageRecord:
    """One ``<record>`` (or, for ListIdentifiers, one ``<header>``) of a page.

    Either :attr:`problem` is ``None`` and :attr:`header` is set (and :attr:`metadata` holds
    the first child element of ``<metadata>`` unless the record is deleted, headers-only or
    has no payload), or
    :attr:`problem` says what is wrong and :attr:`identifier` is whatever could be read.
    """

    identifier: str
    datestamp: str = ""
    header: Header | None = None
    metadata: etree._Element | None = None
    element: etree._Element | None = None
    problem: str | None = None

    @property
    def deleted(self) -> bool:
        return bool(self.header and self.header.deleted)

    def xml(self) -> bytes:
        """The record's XML as served (after sanitising), for the raw archive."""
        if self.element is None:
            return b""
        return etree.tostring(self.element, encoding="utf-8")


@dataclass
class Page:
    """Everything one response said."""

    verb: str = ""
    response_date: str = ""
    #: the envelope's namespace (OAI-PMH 2.0's, unless the provider is broken)
    namespace: str = ""
    #: the attributes of ``<request>``: the arguments the provider says it answered
    request: dict[str, str] = field(default_factory=dict)
    records: list[PageRecord] = field(default_factory=list)
    errors: list[ReceivedError] = field(default_factory=list)
    #: ``None`` when the response carries no ``<resumptionToken>`` element at all
    token: ResumptionToken | None = None
    #: the parsed root (for salvaged pages, a rebuilt envelope holding the good records)
    root: etree._Element | None = None
    #: code point -> how many times it was stripped
    stripped: dict[str, int] = field(default_factory=dict)
    bad_bytes: int = 0
    trailing_junk: bool = False
    #: True when the body was not well-formed and was parsed record by record
    salvaged: bool = False
    #: True when a salvaged body has no closing root tag: the transfer was cut short
    truncated: bool = False

    @property
    def failed(self) -> list[PageRecord]:
        return [r for r in self.records if r.problem]


# --------------------------------------------------------------------------- decoding


def decode_body(body: bytes, *, context: str = "") -> tuple[str, int]:
    """Return ``(text, number_of_undecodable_byte_sequences)``.

    UTF-8 is what OAI-PMH requires (§3.2) and what we try first; a BOM or a declared
    non-UTF-8 encoding wins when present; otherwise bad bytes become U+FFFD rather than
    aborting the page (metha#1, Dataverse#9987) and are counted.
    """
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, errors="replace").lstrip("\ufeff"), 0
    try:
        return body.decode("utf-8"), 0
    except UnicodeDecodeError as exc:
        first_error = exc
    match = _DECL_ENCODING.match(body)
    if match:
        declared = match.group(1).decode("ascii").lower()
        try:
            if codecs.lookup(declared).name != "utf-8":
                text = body.decode(declared)
                log.warning("%s event=decode_declared encoding=%s", context, declared)
                return text, 0
        except (LookupError, UnicodeDecodeError):
            pass
    text = body.decode("utf-8", errors="replace")
    bad = _count_bad_utf8(body, text)
    log.warning(
        "%s event=invalid_utf8 bad_bytes=%d first_offset=%d", context, bad, first_error.start
    )
    return text, bad


def _count_bad_utf8(body: bytes, text: str) -> int:
    # Every undecodable sequence became one U+FFFD; genuine U+FFFD in the body do not count.
    return text.count("\ufffd") - body.count("\ufffd".encode())


def strip_illegal(text: str) -> tuple[str, Counter[str]]:
    """Remove characters (and character references) XML 1.0 forbids; count them by code point.

    >>> strip_illegal("Lu\\x03ận v\\ufffeăn &#3;x")
    ('Luận văn x', Counter({'U+0003': 2, 'U+FFFE': 1}))
    """
    removed: Counter[str] = Counter()
    if _ILLEGAL_CHARS.search(text):
        def drop(m: re.Match[str]) -> str:
            removed[f"U+{ord(m.group()):04X}"] += 1
            return ""

        text = _ILLEGAL_CHARS.sub(drop, text)
    if "&#" in text:
        def drop_ref(m: re.Match[str]) -> str:
            ref = m.group(1)
            try:
                cp = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
            except ValueError:
                return m.group()
            if _is_legal_codepoint(cp):
                return m.group()
            removed[f"U+{cp:04X}"] += 1
            return ""

        text = _CHAR_REF.sub(drop_ref, text)
    return text, removed


def _is_legal_codepoint(cp: int) -> bool:
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or 0x10000 <= cp <= 0x10FFFF
    )


# --------------------------------------------------------------------------- parsing


def parse_page(body: bytes, *, repository: str = "", status: int | None = None) -> Page:
    """Parse one response body.  See the module docstring for what is tolerated.

    :param body: raw bytes as received (already un-gzipped by the transport).
    :param repository: used in log messages only.
    :param status: the HTTP status, used in error messages only.
    :raises NotOAIResponse: HTML, empty body, or a well-formed document that is not OAI-PMH.
    :raises MalformedPage: not well-formed and nothing (no record, token or error) salvaged.
    """
    ctx = f"repository={repository}" if repository else "repository=-"
    text, bad_bytes = decode_body(body, context=ctx)
    if not text.strip():
        raise NotOAIResponse(f"empty body (HTTP {status})")
    if _HTML_START.match(text):
        raise NotOAIResponse(f"HTML page instead of OAI-PMH XML (HTTP {status}): {text[:120]!r}")
    text, removed = strip_illegal(text)
    if removed:
        log.warning(
            "%s event=stripped_chars chars=%s",
            ctx, ",".join(f"{cp}x{n}" for cp, n in sorted(removed.items())),
        )
    text = _XML_DECL.sub("", text, count=1).lstrip()
    trailing = False
    ends = list(_ROOT_END.finditer(text))
    if ends:
        end = ends[-1].end()
        if text[end:].strip():
            trailing = True
            log.warning("%s event=trailing_junk cut=%r", ctx, text[end:end + 80])
        text = text[:end]
    data = text.encode("utf-8")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        page = _salvage(text, exc, ctx, truncated=not ends)
    else:
        page = _from_root(root, ctx)
    page.stripped = dict(removed)
    page.bad_bytes = bad_bytes
    page.trailing_junk = trailing
    return page


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments, processing instructions
    return tag.rsplit("}", 1)[-1]


def _ns_of(root: etree._Element) -> str:
    tag = root.tag
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _from_root(root: etree._Element, ctx: str) -> Page:
    if _local(root.tag) != "OAI-PMH":
        raise NotOAIResponse(f"root element is <{_local(root.tag)}>, not <OAI-PMH>")
    ns = _ns_of(root)
    q = _qualifier(ns)
    page = Page(root=root, namespace=ns)
    req = root.find(q("request"))
    if req is not None:
        page.request = {str(k): str(v) for k, v in req.attrib.items()}
    rd = root.find(q("responseDate"))
    page.response_date = (rd.text or "").strip() if rd is not None else ""
    for err in root.iterfind(q("error")):
        page.errors.append(ReceivedError(err.get("code", ""), (err.text or "").strip()))
    for child in root:
        name = _local(child.tag)
        if name in ("responseDate", "request", "error", ""):
            continue
        page.verb = name
        if name in ("ListRecords", "GetRecord"):
            page.records = [_record(el, q, ctx) for el in child.iterfind(q("record"))]
        elif name == "ListIdentifiers":
            page.records = [_header_only(el, q, ctx) for el in child.iterfind(q("header"))]
        tok = child.find(q("resumptionToken"))
        if tok is not None:
            page.token = _token(tok.text, {str(k): str(v) for k, v in tok.attrib.items()})
        break
    return page


def _read_header(el: etree._Element, q: _Qualify) -> Header:
    ident = el.findtext(q("identifier"))
    if not ident or not ident.strip():
        raise ValueError("header without identifier")
    return Header(
        identifier=ident.strip(),
        datestamp=(el.findtext(q("datestamp")) or "").strip(),
        sets=tuple((s.text or "").strip() for s in el.iterfind(q("setSpec"))),
        deleted=el.get("status") == "deleted",
    )


def _record(el: etree._Element, q: _Qualify, ctx: str) -> PageRecord:
    header_el = el.find(q("header"))
    if header_el is None:
        return _problem(el, "record without header", ctx)
    try:
        header = _read_header(header_el, q)
    except ValueError as exc:
        return _problem(el, str(exc), ctx)
    metadata = None
    if not header.deleted:
        md = el.find(q("metadata"))
        children = [c for c in md if isinstance(c.tag, str)] if md is not None else []
        # No payload is not a parse problem: it is what withdrawn items look like in some
        # repositories; the crosswalk says so (NoUsableMetadata) and the runner removes them.
        metadata = children[0] if children else None
    return PageRecord(
        identifier=header.identifier, datestamp=header.datestamp, header=header,
        metadata=metadata, element=el,
    )


def _header_only(el: etree._Element, q: _Qualify, ctx: str) -> PageRecord:
    try:
        header = _read_header(el, q)
    except ValueError as exc:
        return _problem(el, str(exc), ctx)
    return PageRecord(header.identifier, header.datestamp, header=header, element=el)


def _problem(el: etree._Element, problem: str, ctx: str) -> PageRecord:
    ident = ""
    for sub in el.iter():
        if _local(sub.tag) == "identifier" and sub.text:
            ident = sub.text.strip()
            break
    log.warning("%s identifier=%s event=bad_record problem=%r", ctx, ident or "-", problem)
    return PageRecord(identifier=ident, element=el, problem=problem)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _token(text: str | None, attrib: dict[str, str]) -> ResumptionToken:
    return ResumptionToken(
        value=(text or "").strip(),
        cursor=_int_or_none(attrib.get("cursor")),
        complete_list_size=_int_or_none(attrib.get("completeListSize")),
        expiration_date=attrib.get("expirationDate") or None,
    )


# --------------------------------------------------------------------------- salvage


def _salvage(text: str, exc: etree.XMLSyntaxError, ctx: str, *, truncated: bool) -> Page:
    """Parse a not-well-formed body record by record (see module docstring)."""
    log.warning("%s event=malformed_page error=%r truncated=%s", ctx, str(exc), truncated)
    root_start = _ROOT_START.search(text)
    ns_decls = " ".join(
        m.group(0).strip() for m in _NS_DECL.finditer(root_start.group(0))
    ) if root_start else f'xmlns="{OAI_NS}"'
    ns = OAI_NS
    if root_start:
        default = re.search(r"""\sxmlns\s*=\s*["']([^"']*)["']""", root_start.group(0))
        prefixed = re.match(r"<([\w.-]+):OAI-PMH", root_start.group(0))
        if prefixed:
            m = re.search(
                rf"""\sxmlns:{re.escape(prefixed.group(1))}\s*=\s*["']([^"']*)["']""",
                root_start.group(0),
            )
            ns = m.group(1) if m else OAI_NS
        elif default:
            ns = default.group(1)
        else:
            ns = ""
    q = _qualifier(ns)

    page = Page(salvaged=True, truncated=truncated, namespace=ns)
    req = re.search(rf"<{_P}request((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>", text)
    if req:
        page.request = {a: v1 or v2 for a, v1, v2 in _ATTR.findall(req.group(1) or "")}
    m = _RESPONSE_DATE.search(text)
    page.response_date = m.group(1) if m else ""
    page.errors = [ReceivedError(c, (msg or "").strip()) for c, msg in _ERROR.findall(text)]
    verb = re.search(r"<(?:[\w.-]+:)?(ListRecords|GetRecord|ListIdentifiers)[\s>]", text)
    page.verb = verb.group(1) if verb else ""

    headers_only = page.verb == "ListIdentifiers"
    starts = [m.start() for m in (_HEADER_TAG if headers_only else _RECORD_START).finditer(text)]
    tail = len(text)
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else tail
        chunk = text[start:stop]
        ends = list((_HEADER_END if headers_only else _RECORD_END).finditer(chunk))
        # The record ends at its last closing tag (payloads such as MARCXML have <record>s
        # of their own), unless what follows an earlier one is a record whose start tag was
        # broken: then the earliest end that makes a well-formed record is the right one.
        cuts = [m.end() for m in reversed(ends[-_MAX_CUTS:])] or [len(chunk)]
        record = None
        for cut in cuts:
            record = _parse_chunk(chunk[:cut], ns_decls, q, ctx, quiet=cut != cuts[-1])
            if record.problem is None or not record.problem.startswith("not well-formed"):
                break
        assert record is not None
        page.records.append(record)
    # Every OAI record has one <header>: headers no record start was found for are records
    # the page lists but we could not even delimit.  They are counted, never dropped silently.
    missed = len(_HEADER_TAG.findall(text)) - len(starts)
    if missed > 0 and not headers_only:
        log.warning("%s event=undelimited_records n=%d", ctx, missed)
        page.records.extend(
            PageRecord(identifier="", problem="record could not be delimited in a malformed page")
            for _ in range(missed)
        )

    tokens = list(_TOKEN.finditer(text))
    if tokens:
        last = tokens[-1]
        attrib = {a: v1 or v2 for a, v1, v2 in _ATTR.findall(last.group(1) or "")}
        page.token = _token(last.group(2), attrib)
    elif _TOKEN_TAG.search(text):
        # The list goes on, but we cannot read where: ending it here would lose the rest.
        raise MalformedPage(f"resumptionToken present but unreadable: {exc}") from exc
    if not page.records and page.token is None and not page.errors:
        raise MalformedPage(f"not well-formed and nothing salvageable: {exc}") from exc
    page.root = _rebuild(page, ns)
    bad = sum(1 for r in page.records if r.problem)
    log.warning(
        "%s event=salvaged records=%d broken=%d token=%s",
        ctx, len(page.records) - bad, bad, bool(page.token and page.token.value),
    )
    return page


def _parse_chunk(chunk: str, ns_decls: str, q: _Qualify, ctx: str, *,
                 quiet: bool = False) -> PageRecord:
    wrapped = f"<salvage {ns_decls}>{chunk}</salvage>".encode()
    try:
        holder = etree.fromstring(wrapped, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        ident = _IDENTIFIER.search(chunk)
        stamp = _DATESTAMP.search(chunk)
        ident_s = ident.group(1) if ident else ""
        if not quiet:
            log.warning(
                "%s identifier=%s event=bad_record problem=not_well_formed error=%r",
                ctx, ident_s or "-", str(exc),
            )
        return PageRecord(
            identifier=ident_s, datestamp=stamp.group(1) if stamp else "",
            problem=f"not well-formed: {exc}",
        )
    el = holder[0]
    if _local(el.tag) == "header":  # ListIdentifiers does not have records
        return _header_only(el, q, ctx)
    return _record(el, q, ctx)


def _rebuild(page: Page, ns: str) -> etree._Element:
    """A well-formed envelope holding the salvaged records, for tree-based consumers."""
    q = _qualifier(ns)
    # None is lxml's key of the default namespace; lxml-stubs types nsmap keys as str only
    root = etree.Element(q("OAI-PMH"), nsmap={None: ns} if ns else None)  # type: ignore[dict-item]  # lxml takes None for the default namespace; lxml-stubs do not
    etree.SubElement(root, q("responseDate")).text = page.response_date
    for err in page.errors:
        e = etree.SubElement(root, q("error"), code=err.code)
        e.text = err.message
    if page.verb:
        verb = etree.SubElement(root, q(page.verb))
        for rec in page.records:
            if rec.element is not None:
                verb.append(rec.element)
        if page.token is not None:
            tok = etree.SubElement(verb, q("resumptionToken"))
            tok.text = page.token.value
            if page.token.cursor is not None:
                tok.set("cursor", str(page.token.cursor))
            if page.token.complete_list_size is not None:
                tok.set("completeListSize", str(page.token.complete_list_size))
            if page.token.expiration_date:
                tok.set("expirationDate", page.token.expiration_date)
    return root


# --------------------------------------------------------------------------- the archive


def parse_archived_record(xml: bytes) -> PageRecord:
    """Read one ``<record>`` as the raw archive keeps it (:meth:`PageRecord.xml`).

    The same parser settings and the same record reading as a harvested page, so that an
    index rebuild or an OAI sync sees exactly what the harvest saw: a record the harvest
    accepted is never dropped by a rebuild (e.g. a payload after a comment, a huge text node).

    :raises etree.XMLSyntaxError: the bytes are not well-formed (the archive is damaged).
    """
    root = etree.fromstring(xml, parser=_PARSER)
    ns = _ns_of(root)
    q = _qualifier(ns)
    if _local(root.tag) != "record" or root.find(q("header")) is None:
        # a bare payload (archives can hold one: kept readable across upgrades)
        return PageRecord(identifier="", metadata=root, element=root)
    return _record(root, q, "repository=archive")
