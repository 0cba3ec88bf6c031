"""The pure core of the OAI-PMH 2.0 data provider: arguments, dates, tokens, XML.

No database, no Flask: :mod:`resolver.views.oai` feeds these functions rows and streams
what they return.

* :func:`validate` turns a request's multi-valued arguments into a :class:`Query`, or raises
  the protocol's server-side error (:class:`harvesters.protocol.ErrorReply`: badVerb,
  badArgument, badResumptionToken, cannotDisseminateFormat). The error codes, their XML and
  which of them echo the request live in :mod:`harvesters.protocol`, shared with the
  harvester's demo repository.
* Tokens (:func:`encode_token`/:func:`decode_token`) are stateless and HMAC-signed: they carry
  the whole list request plus the keyset position ``(datestamp, record id)`` of the last item
  sent, so a token stays valid while the table changes (no offsets), until it expires.
* An item changed during a walk gets a new datestamp, so it moves behind the keyset position
  and is delivered (again) later in the same walk: nothing is lost, and a harvester sees a
  record twice only when it changed in between (the second copy is the newer). Items never
  leave the table, so a token's next page is never empty unless the request named an
  ``until`` the changed items moved past; that rare page answers ``badResumptionToken``
  (protocol §3.5.1: the harvester restarts from its last datestamp).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from harvesters.normalize import licence_from_rights
from harvesters.protocol import OAI_NS, ErrorCode, ErrorReply, error_element
from index.record import OPEN, RESTRICTED, Record

OAI_XSD = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MODS_NS = "http://www.loc.gov/mods/v3"
PROV_NS = "http://www.openarchives.org/OAI/2.0/provenance"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"

#: prefix -> (schema, namespace) of what we disseminate
FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS),
    "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd", MODS_NS),
}

#: namespaces of formats sources serve (provenance metadataNamespace)
SOURCE_NAMESPACES = {
    "oai_dc": OAI_DC_NS,
    "mods": MODS_NS,
    "marcxml": "http://www.loc.gov/MARC21/slim",
    "marc21": "http://www.loc.gov/MARC21/slim",
    "oai_datacite": "http://schema.datacite.org/oai/oai-1.1/",
    "datacite": "http://datacite.org/schema/kernel-4",
    "dim": "http://www.dspace.org/xmlns/dspace/dim",
    "xoai": "http://www.lyncode.com/xoai",
    "qdc": "http://purl.org/dc/terms/",
}

VERBS = ("Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers",
         "ListRecords")
#: verb -> (required, optional, exclusive)
ARGS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                        "resumptionToken"),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                    "resumptionToken"),
}

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_TTL = dt.timedelta(hours=24)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")

#: type set names (vi, en), in index.record.TYPES order
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "article": ("Bài báo", "Article"),
    "thesis": ("Luận văn", "Thesis"),
    "dissertation": ("Luận án", "Dissertation"),
    "book": ("Sách", "Book"),
    "report": ("Báo cáo", "Report"),
    "conference paper": ("Bài hội nghị", "Conference paper"),
    "dataset": ("Bộ dữ liệu", "Dataset"),
    "other": ("Khác", "Other"),
}



@dataclass
class Query:
    """A validated request; list requests carry their keyset position."""

    verb: str
    args: dict[str, str] = field(default_factory=dict)  # echoed in <request>
    identifier: str | None = None
    prefix: str | None = None
    set: str | None = None
    from_: dt.datetime | None = None
    until: dt.datetime | None = None
    # flow control (from a token)
    last: tuple[dt.datetime, str] | None = None
    cursor: int = 0
    size: int | None = None  # completeListSize, computed on the first page
    issued: dt.datetime | None = None


# ------------------------------------------------------------------------------ dates


def fmt(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: str, *, end: bool) -> tuple[dt.datetime, str]:
    """An argument date and its granularity; ``end`` makes a day cover its last second."""
    if _DAY.match(value):
        day = dt.datetime.strptime(value, "%Y-%m-%d")
        return (day + dt.timedelta(days=1, seconds=-1) if end else day), "day"
    if _SECONDS.match(value):
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ"), "seconds"
    raise ValueError(value)


# ------------------------------------------------------------------------------ tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(q: Query, secret: str) -> str:
    assert q.last is not None and q.issued is not None
    payload = {
        "v": q.verb, "p": q.prefix, "s": q.set,
        "f": fmt(q.from_) if q.from_ else None, "u": fmt(q.until) if q.until else None,
        "d": fmt(q.last[0]), "i": q.last[1], "c": q.cursor, "n": q.size, "t": fmt(q.issued),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:12]
    return f"{body}.{_b64(sig)}"


def decode_token(token: str, verb: str, secret: str, now: dt.datetime) -> Query:
    """The list request a token continues; forged, garbled, foreign or expired: an error."""
    bad = ErrorReply(ErrorCode.BAD_RESUMPTION_TOKEN,
                     "the resumptionToken is invalid or has expired")
    try:
        body, sig = token.split(".")
        want = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:12]
        if not hmac.compare_digest(_unb64(sig), want):
            raise bad
        p = json.loads(_unb64(body))
        issued = parse_date(p["t"], end=False)[0]
        q = Query(
            verb=p["v"], prefix=p["p"], set=p["s"],
            from_=parse_date(p["f"], end=False)[0] if p["f"] else None,
            until=parse_date(p["u"], end=False)[0] if p["u"] else None,
            last=(parse_date(p["d"], end=False)[0], str(p["i"])),
            cursor=int(p["c"]), size=int(p["n"]), issued=issued,
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad from exc
    if q.verb != verb or now > issued + TOKEN_TTL:
        raise bad
    return q


def expiration(q: Query) -> dt.datetime:
    assert q.issued is not None
    return q.issued + TOKEN_TTL


# ------------------------------------------------------------------------------ validation


def validate(params: dict[str, list[str]], *, secret: str, now: dt.datetime,
             identifier_prefix: str) -> Query:
    """Check a request's arguments (each name -> every value given); raise :class:`ErrorReply`."""
    verbs = params.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise ErrorReply(ErrorCode.BAD_VERB, "missing, repeated or illegal verb")
    verb = verbs[0]
    required, optional, exclusive = ARGS[verb]
    names = set(params) - {"verb"}
    for name, values in params.items():
        if len(values) != 1:
            raise ErrorReply(ErrorCode.BAD_ARGUMENT, f"argument {name} is repeated")
    args = {k: v[0] for k, v in params.items() if k != "verb"}
    allowed = required | optional | ({exclusive} if exclusive else set())
    if names - allowed:
        raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                         "illegal argument: " + ", ".join(sorted(names - allowed)))
    if exclusive and exclusive in names:
        if names != {exclusive}:
            raise ErrorReply(ErrorCode.BAD_ARGUMENT, f"{exclusive} is an exclusive argument")
        if verb == "ListSets":  # ListSets is never paged: no token of ours names it
            raise ErrorReply(ErrorCode.BAD_RESUMPTION_TOKEN, "ListSets is returned whole")
        q = decode_token(args[exclusive], verb, secret, now)
        q.args = args
        return q
    if required - names:
        raise ErrorReply(ErrorCode.BAD_ARGUMENT,
                         "missing argument: " + ", ".join(sorted(required - names)))
    q = Query(verb=verb, args=args, identifier=args.get("identifier"),
              prefix=args.get("metadataPrefix"), set=args.get("set"))
    if q.set is not None and not _SPEC.match(q.set):
        raise ErrorReply(ErrorCode.BAD_ARGUMENT, "set is not a setSpec")
    grans = []
    for name, end in (("from", False), ("until", True)):
        if name in args:
            try:
                value, gran = parse_date(args[name], end=end)
            except ValueError:
                raise ErrorReply(ErrorCode.BAD_ARGUMENT, f"{name} is not a UTC date") from None
            grans.append(gran)
            setattr(q, "from_" if name == "from" else "until", value)
    if len(set(grans)) > 1:
        raise ErrorReply(ErrorCode.BAD_ARGUMENT, "from and until have different granularities")
    if q.from_ and q.until and q.from_ > q.until:
        raise ErrorReply(ErrorCode.BAD_ARGUMENT, "from is later than until")
    if q.prefix is not None and q.prefix not in FORMATS:
        raise ErrorReply(ErrorCode.CANNOT_DISSEMINATE_FORMAT, f"{q.prefix} is not served here")
    return q


def first_page(q: Query, now: dt.datetime) -> Query:
    """A new list: its tokens expire ``TOKEN_TTL`` after this first response."""
    return replace(q, issued=now)


def local_id(identifier: str, identifier_prefix: str) -> str | None:
    """``oai:<repositoryIdentifier>:<record id>`` -> record id (None when not ours)."""
    head = f"oai:{identifier_prefix}:"
    return identifier[len(head):] if identifier.startswith(head) and len(identifier) > len(
        head) else None


# ------------------------------------------------------------------------------ XML


def envelope_open(now: dt.datetime, base_url: str, args: dict[str, str] | None,
                  verb: str | None) -> str:
    """The envelope up to the verb's content; ``args`` None: a <request> without attributes."""
    attrs = ""
    if args is not None and verb:
        attrs = f" verb={quoteattr(verb)}" + "".join(
            f" {k}={quoteattr(v)}" for k, v in sorted(args.items()))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{OAI_NS} {OAI_XSD}">'
        f"<responseDate>{fmt(now)}</responseDate>"
        f"<request{attrs}>{escape(base_url)}</request>"
    )


ENVELOPE_CLOSE = "</OAI-PMH>"


def error_xml(errors: list[ErrorReply]) -> str:
    return "".join(error_element(e) for e in errors)


def token_xml(q: Query | None, token: str | None, *, cursor: int, size: int) -> str:
    """The resumptionToken element; an empty one closes a list that had more than one page."""
    if token is None:
        return f'<resumptionToken completeListSize="{size}" cursor="{cursor}"/>'
    assert q is not None
    return (f'<resumptionToken expirationDate="{fmt(expiration(q))}" completeListSize="{size}"'
            f' cursor="{cursor}">{escape(token)}</resumptionToken>')


def header_xml(identifier: str, datestamp: dt.datetime, specs: list[str], deleted: bool) -> str:
    status = ' status="deleted"' if deleted else ""
    sets = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in specs)
    return (f"<header{status}><identifier>{escape(identifier)}</identifier>"
            f"<datestamp>{fmt(datestamp)}</datestamp>{sets}</header>")


def _clean(text: str) -> str:
    # XML 1.0 forbids most C0 controls; a stray one from a source must not break the stream.
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


def _sub(parent: etree._Element, tag: str, text: str | None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrib=attrs)
    if text:
        el.text = _clean(text)
    return el


def identifiers_of(rec: Record, extra_urls: Sequence[str] = ()) -> list[str]:
    """A record's dc:identifiers, each in the form harvesters read: the DOI and the Handle
    as resolver URLs, ISBNs and ISSNs as URNs (RFC 3187, RFC 3044), then its links."""
    ids = []
    if rec.doi:
        ids.append("https://doi.org/" + rec.doi)
    if rec.handle:
        ids.append("http://hdl.handle.net/" + rec.handle)
    ids += [f"urn:isbn:{i}" for i in rec.isbn] + [f"urn:issn:{i}" for i in rec.issn]
    ids += list(rec.urls) + list(extra_urls)
    return list(dict.fromkeys(ids))


def holdings_identifiers(recs: Sequence[Record]) -> list[str]:
    """Every identifier and URL of every holding, the representative's first, no repeats."""
    return list(dict.fromkeys(i for rec in recs for i in identifiers_of(rec)))


_W3CDTF_DAY = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def publication_date(rec: Record) -> str | None:
    """The one date a record says it was published: its first W3CDTF date in its year, or
    the year alone; None without a year.

    Harvesters take dc:date (and MODS dateIssued) for the publication date (DRIVER and
    OpenAIRE guidelines: one dc:date, the publication's), and lienhop's own harvester reads
    the earliest year of several: the accession and availability dates a source listed
    (``rec.dates``) stay out of what lienhop serves.
    """
    if rec.year is None:
        return None
    year = str(rec.year)
    return next((d for d in rec.dates if _W3CDTF_DAY.match(d) and d.startswith(year)), year)


def source_citation(rec: Record) -> str:
    """dc:source of an article: "Journal, Vol. 3, No. 2, pp. 1-9", each part labelled as
    citation parsers (lienhop's, harvesters/normalize/citations.py, among them) read it."""
    parts = [rec.journal] + [f"{label} {value}" for label, value in (
        ("Vol.", rec.volume), ("No.", rec.issue), ("pp.", rec.pages)) if value]
    return ", ".join(parts)


#: the access right of a record in the vocabulary of the DRIVER/OpenAIRE guidelines
ACCESS_TERMS = {OPEN: "info:eu-repo/semantics/openAccess",
                RESTRICTED: "info:eu-repo/semantics/restrictedAccess"}


def rights_statements(rec: Record) -> list[tuple[str, str]]:
    """(kind, text) of what a record says of its rights: ``rights`` as the source wrote it,
    ``license`` only when that text does not already name it (harvesters derive the licence
    from the rights), and ``access``, the record's access right as a term."""
    out = [("rights", rec.rights)] if rec.rights else []
    if rec.licence and licence_from_rights([rec.rights]) != rec.licence:
        out.append(("license", rec.licence))
    out.append(("access", ACCESS_TERMS.get(rec.access, ACCESS_TERMS[RESTRICTED])))
    return out


def oai_dc(rec: Record, members: Sequence[Record] = ()) -> etree._Element:
    """Simple Dublin Core of a work: ``rec`` (its representative) describes it, and every
    holding's (``rec`` and the other ``members``) identifiers are dc:identifiers."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS,
                                                       "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {FORMATS['oai_dc'][0]}")
    d = f"{{{DC_NS}}}"
    for t in rec.titles:
        _sub(root, d + "title", t)
    for c in rec.creators:
        _sub(root, d + "creator", c)
    for c in rec.contributors:
        _sub(root, d + "contributor", c)
    for s in rec.subjects:
        _sub(root, d + "subject", s)
    if rec.abstract:
        _sub(root, d + "description", rec.abstract)
    if rec.publisher:
        _sub(root, d + "publisher", rec.publisher)
    if date := publication_date(rec):
        _sub(root, d + "date", date)
    _sub(root, d + "type", rec.type)
    for i in holdings_identifiers([rec, *members]):
        _sub(root, d + "identifier", i)
    if rec.language:
        _sub(root, d + "language", rec.language)
    if rec.journal:
        _sub(root, d + "source", source_citation(rec))
    # full text that is none of the links: a relation, as OJS lists its galleys
    holdings = [rec, *members]
    links = {u for h in holdings for u in h.urls}
    for url in dict.fromkeys(u for h in holdings for u in h.fulltext_links):
        if url not in links:
            _sub(root, d + "relation", url)
    for _, text in rights_statements(rec):
        _sub(root, d + "rights", text)
    return root


_MODS_GENRE = {"conference paper": "conference publication", "dataset": "dataset"}


def _typed_identifiers(recs: Sequence[Record], *, issn: bool) -> list[tuple[str, str]]:
    """(type, value) of every holding's DOI, handle, ISBNs (and ISSNs), no repeats."""
    out: list[tuple[str, str]] = []
    for rec in recs:
        out += [("doi", rec.doi)] if rec.doi else []
        out += [("hdl", rec.handle)] if rec.handle else []
        out += [("isbn", i) for i in rec.isbn]
        out += [("issn", i) for i in rec.issn] if issn else []
    return list(dict.fromkeys(out))


def mods(rec: Record, members: Sequence[Record] = ()) -> etree._Element:
    """MODS 3.7 of a work: the richer fields (roles, journal parts, typed identifiers) of
    ``rec`` (its representative); identifiers and one location per URL of every holding."""
    holdings = [rec, *members]
    m = f"{{{MODS_NS}}}"
    # None is lxml's key of the default namespace; lxml-stubs types nsmap keys as str only
    root = etree.Element(m + "mods", nsmap={None: MODS_NS, "xsi": XSI_NS},  # type: ignore[dict-item]  # lxml takes None for the default namespace; lxml-stubs do not
                         version="3.7")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} {FORMATS['mods'][0]}")
    for n, t in enumerate(rec.titles):
        info = _sub(root, m + "titleInfo", None, **({} if n == 0 else {"type": "alternative"}))
        _sub(info, m + "title", t)
    for names, role in ((rec.creators, "author"), (rec.contributors, "contributor")):
        for person in names:
            name = _sub(root, m + "name", None, type="personal")
            _sub(name, m + "namePart", person)
            r = _sub(name, m + "role", None)
            _sub(r, m + "roleTerm", role, type="text", authority="marcrelator")
    _sub(root, m + "genre", _MODS_GENRE.get(rec.type, rec.type))
    issued = publication_date(rec)
    if rec.publisher or issued:
        origin = _sub(root, m + "originInfo", None)
        if rec.publisher:
            _sub(origin, m + "publisher", rec.publisher)
        if issued:
            _sub(origin, m + "dateIssued", issued, encoding="w3cdtf")
    if rec.language:
        lang = _sub(root, m + "language", None)
        _sub(lang, m + "languageTerm", rec.language, type="code", authority="iso639-3")
    if rec.abstract:
        _sub(root, m + "abstract", rec.abstract)
    for s in rec.subjects:
        _sub(_sub(root, m + "subject", None), m + "topic", s)
    if rec.journal:
        host = _sub(root, m + "relatedItem", None, type="host")
        _sub(_sub(host, m + "titleInfo", None), m + "title", rec.journal)
        for issn in dict.fromkeys(i for h in holdings for i in h.issn):
            _sub(host, m + "identifier", issn, type="issn")
        part = _sub(root, m + "part", None)
        for kind, value in (("volume", rec.volume), ("issue", rec.issue)):
            if value:
                _sub(_sub(part, m + "detail", None, type=kind), m + "number", value)
        if rec.pages:
            _sub(_sub(part, m + "extent", None, unit="pages"), m + "list", rec.pages)
    # with a journal the ISSNs are the host's (above), not the work's
    for kind, value in _typed_identifiers(holdings, issn=not rec.journal):
        _sub(root, m + "identifier", value, type=kind)
    # a location per link, then one per full text ("raw object"); a link to the full text
    # is both, so a harvester knows it for each
    for url in dict.fromkeys(u for h in holdings for u in h.urls):
        _sub(_sub(root, m + "location", None), m + "url", url)
    for url in dict.fromkeys(u for h in holdings for u in h.fulltext_links):
        _sub(_sub(root, m + "location", None), m + "url", url, access="raw object")
    kinds = {"rights": "use and reproduction", "license": "license",
             "access": "restriction on access"}
    for kind, text in rights_statements(rec):
        _sub(root, m + "accessCondition", text, type=kinds[kind])
    return root


WRITERS = {"oai_dc": oai_dc, "mods": mods}


def metadata_xml(rec: Record, prefix: str, members: Sequence[Record] = ()) -> str:
    return etree.tostring(WRITERS[prefix](rec, members), encoding="unicode")


def provenance_xml(rec: Record, *, base_url: str, harvest_date: dt.datetime,
                   source_prefix: str) -> str:
    """``<about>`` per the OAI provenance guideline: where and when we got the record.

    A provenance describes one origin, so a work held by several members gets one
    ``<about>`` per holding (recordType allows any number).
    """
    ns = SOURCE_NAMESPACES.get(source_prefix, f"urn:x-oai-metadataPrefix:{source_prefix}")
    datestamp = rec.datestamp if (_DAY.match(rec.datestamp or "")
                                  or _SECONDS.match(rec.datestamp or "")) else ""
    return (
        f'<about><provenance xmlns="{PROV_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{PROV_NS} http://www.openarchives.org/OAI/2.0/provenance.xsd">'
        f'<originDescription harvestDate="{fmt(harvest_date)}" altered="true">'
        f"<baseURL>{escape(base_url)}</baseURL>"
        f"<identifier>{escape(rec.oai_identifier)}</identifier>"
        f"<datestamp>{escape(datestamp)}</datestamp>"
        f"<metadataNamespace>{escape(ns)}</metadataNamespace>"
        "</originDescription></provenance></about>"
    )


def identify_xml(*, name: str, base_url: str, earliest: dt.datetime, admin_email: str,
                 repository_id: str, sample_id: str) -> str:
    return (
        f"<Identify><repositoryName>{escape(name)}</repositoryName>"
        f"<baseURL>{escape(base_url)}</baseURL><protocolVersion>2.0</protocolVersion>"
        f"<adminEmail>{escape(admin_email)}</adminEmail>"
        f"<earliestDatestamp>{fmt(earliest)}</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord>"
        f"<granularity>{GRANULARITY}</granularity>"
        f'<description><oai-identifier xmlns="{ID_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{ID_NS} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
        "<scheme>oai</scheme>"
        f"<repositoryIdentifier>{escape(repository_id)}</repositoryIdentifier>"
        "<delimiter>:</delimiter>"
        f"<sampleIdentifier>{escape(sample_id)}</sampleIdentifier>"
        "</oai-identifier></description></Identify>"
    )


def formats_xml() -> str:
    return "<ListMetadataFormats>" + "".join(
        f"<metadataFormat><metadataPrefix>{p}</metadataPrefix><schema>{s}</schema>"
        f"<metadataNamespace>{ns}</metadataNamespace></metadataFormat>"
        for p, (s, ns) in FORMATS.items()) + "</ListMetadataFormats>"


def set_xml(spec: str, name_vi: str, name_en: str) -> str:
    """A set with a bilingual setName and both names as dc:title in its setDescription."""
    name = name_vi if not name_en or name_en == name_vi else f"{name_vi} / {name_en}"
    titles = "".join(f'<dc:title xml:lang="{lang}">{escape(t)}</dc:title>'
                     for lang, t in (("vi", name_vi), ("en", name_en)) if t)
    return (
        f"<set><setSpec>{escape(spec)}</setSpec><setName>{escape(name)}</setName>"
        f'<setDescription><oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">'
        f"{titles}</oai_dc:dc></setDescription></set>"
    )


def sets_of_registry(institutions: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Every set we define: (spec, name_vi, name_en); institutions are (code, vi, en)."""
    out = [("inst", "Theo cơ quan thành viên", "By member institution")]
    out += [(f"inst:{code}", vi, en or vi) for code, vi, en in institutions]
    out.append(("type", "Theo loại tài liệu", "By resource type"))
    out += [("type:" + t.replace(" ", "_"), vi, en) for t, (vi, en) in TYPE_NAMES.items()]
    out.append(("open", "Truy cập mở", "Open access"))
    return out
