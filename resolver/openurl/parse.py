"""OpenURL 0.1 / 1.0 (Z39.88-2004 KEV) parsing into one normalised :class:`Citation`.

Pure functions only: the Flask layer hands over the raw query string (or the already
decoded multi-dict) and gets a dataclass back. Real OpenURLs are messy (see
``/work/shared/notes/openurl-kbart.md``): half-decoded logs, double encoding, Latin-1
bytes, mojibake, literal ``\\uXXXX`` escapes, Primo's unfilled templates, hybrids that
carry both 0.1 and 1.0 keys. Every repair leaves a human-readable note in
``Citation.warnings`` so that support staff can see why a link looked the way it did.

Precedence rule for hybrids: a 1.0 ``rft.*`` value wins, the bare 0.1 key fills gaps.
"""

from __future__ import annotations

import calendar
import copy
import dataclasses
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import unquote, unquote_to_bytes

from index.identifiers import DOI_PREFIX, isbn10_check, isbn13_check, issn_check

__all__ = [
    "Citation",
    "CitationError",
    "StandardNumber",
    "citation_to_dict",
    "citation_to_kev",
    "normalize_doi",
    "normalize_isbn",
    "normalize_issn",
    "parse_coins",
    "parse_date",
    "parse_openurl",
]

# Limits that keep a hostile or broken 100 KB query cheap: real OpenURLs are < 4 KB.
MAX_QUERY_CHARS = 16_384
MAX_KEYS = 200
MAX_VALUE_CHARS = 1_000
MAX_VALUES_PER_KEY = 20

GENRES = (
    "article", "journal", "book", "bookitem", "dissertation",
    "conference", "proceeding", "report", "unknown",
)
FORMATS = ("journal", "book", "dissertation")


class CitationError(ValueError):
    """Raised when the input holds nothing citation-like (no title, no identifier)."""


@dataclass(slots=True)
class Citation:
    """One normalised citation. All text is NFC; empty means absent (None)."""

    genre: str = "unknown"
    format: str = "journal"
    atitle: str | None = None
    jtitle: str | None = None
    btitle: str | None = None
    title: str | None = None  # main title of the whole work: jtitle, btitle or thesis title
    stitle: str | None = None
    authors: list[str] = field(default_factory=list)  # "Last, First" where we can tell
    aulast: str | None = None
    aufirst: str | None = None
    issn: str | None = None
    issn_valid: bool | None = None
    eissn: str | None = None
    eissn_valid: bool | None = None
    isbn: str | None = None  # ISBN-13 digits
    isbn_valid: bool | None = None
    doi: str | None = None
    pmid: str | None = None
    oclcnum: str | None = None
    other_ids: list[str] = field(default_factory=list)  # http(s) rft_id, lccn, oai ...
    date: str | None = None  # as given
    year: int | None = None
    month: int | None = None
    month_end: int | None = None  # a season or quarter spans months
    day: int | None = None
    volume: str | None = None
    issue: str | None = None
    part: str | None = None
    spage: str | None = None
    epage: str | None = None
    pages: str | None = None
    artnum: str | None = None
    edition: str | None = None
    publisher: str | None = None
    place: str | None = None
    degree_inst: str | None = None  # rft.inst of a dissertation (the university)
    inst: str | None = None  # the `inst` parameter: member institution code
    sid: str | None = None
    rfr_id: str | None = None
    version: str = "unknown"  # "1.0", "0.1", "hybrid"
    warnings: list[str] = field(default_factory=list)

    def date_bounds(self) -> tuple[date, date] | None:
        """First and last day the citation date can mean, or None without a year.

        A year-only date spans the whole year, a month (or season) the whole month(s).
        """
        if self.year is None:
            return None
        if self.month is None:
            return date(self.year, 1, 1), date(self.year, 12, 31)
        m_end = self.month_end or self.month
        last = calendar.monthrange(self.year, m_end)[1]
        if self.day is not None and self.month_end is None:
            d = date(self.year, self.month, self.day)
            return d, d
        return date(self.year, self.month, 1), date(self.year, m_end, last)

    @property
    def date_precision(self) -> str:
        """'day', 'month', 'year' or 'none'."""
        if self.year is None:
            return "none"
        if self.month is None or self.month_end is not None:
            return "year" if self.month is None else "month"
        return "day" if self.day is not None else "month"


# --------------------------------------------------------------------------------------
# Standard numbers
# --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StandardNumber:
    """A normalised ISSN or ISBN and whether its check digit is right."""

    value: str
    valid: bool


_ISSN_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4})\s*[-‐‑–]?\s*(\d{3}[\dXx])(?![0-9A-Za-z])")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


def normalize_issn(raw: str | None) -> StandardNumber | None:
    """Find one ISSN in *raw* and return it as ``NNNN-NNNC``.

    Returns None when nothing ISSN-shaped is present. A wrong check digit is kept
    (``valid=False``): the knowledge base may still hold the same typo, and a user
    should not lose a match because a publisher mistyped a digit.
    """
    if not raw:
        return None
    m = _ISSN_RE.search(raw.strip())
    if not m:
        return None
    digits = (m.group(1) + m.group(2)).upper()
    value = f"{digits[:4]}-{digits[4:]}"
    return StandardNumber(value, issn_check(digits[:7]) == digits[7])


def _isbn10_valid(d: str) -> bool:
    return isbn10_check(d) == d[9]


def isbn_digits(raw: str | None) -> str | None:
    """Strip an ISBN-ish string to its digits (and a final X); None if not 10 or 13 long."""
    if not raw:
        return None
    s = re.sub(r"^\s*(?:urn:isbn:|isbn[:\s]*)", "", raw.strip(), flags=re.IGNORECASE)
    # Stop at the first qualifier such as "(pbk.)" or a second ISBN after a space.
    m = re.match(r"[\d\s\-‐‑–]*[\dXx]", s)
    if not m or re.match(r"\w", s[m.end():]):
        return None
    d = re.sub(r"[^\dXx]", "", m.group(0)).upper()
    if len(d) == 10 and "X" not in d[:9]:
        return d
    if len(d) == 13 and "X" not in d:
        return d
    return None


def normalize_isbn(raw: str | None) -> StandardNumber | None:
    """Return the ISBN-13 digits for an ISBN-10 or ISBN-13; None when not ISBN-shaped.

    An ISBN-10 with a bad check digit is converted anyway (its body is usually right)
    and flagged invalid; an ISBN-13 with a bad check digit is kept as given.
    """
    d = isbn_digits(raw)
    if d is None:
        return None
    if len(d) == 10:
        body = "978" + d[:9]
        return StandardNumber(body + isbn13_check(body), _isbn10_valid(d))
    return StandardNumber(d, d.startswith(("978", "979")) and isbn13_check(d[:12]) == d[12])


def normalize_doi(raw: str | None) -> str | None:
    """Strip doi:/info:doi//https://doi.org/ prefixes and lower-case; None if not a DOI.

    DOIs are case-insensitive by definition, so lower-casing makes them comparable.
    """
    if not raw:
        return None
    s = raw.strip()
    for _ in range(2):  # "doi:https://doi.org/10..." happens
        s = DOI_PREFIX.sub("", s)
    if "%2f" in s.lower():
        s = unquote(s)
    s = s.strip().rstrip(".,;")
    s = s.lower()
    if _DOI_RE.match(s):
        return s
    # Junk in front ("Org/10.1002/...", "DOI 10.1/x") is common; the 10.NNNN/ core is not.
    m = re.search(r"(?<![\w.])10\.\d{4,9}/\S+", s)
    return m.group(0).rstrip(".,;") if m else None


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

_MONTHS = {
    name.lower(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i])
}
_MONTHS["sept"] = 9
# Seasons and quarters become a month range inside the stated year.
_SEASONS = {
    "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11),
    "winter": (1, 3), "xuân": (1, 3), "hạ": (4, 6), "hè": (4, 6), "thu": (7, 9),
    "đông": (10, 12),
}
_QUARTERS = {1: (1, 3), 2: (4, 6), 3: (7, 9), 4: (10, 12)}
_YEAR_RE = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d|2100)(?!\d)")


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A citation date: year, optional month (or month range) and day."""

    year: int | None
    month: int | None = None
    month_end: int | None = None
    day: int | None = None
    note: str | None = None  # set when the parse had to guess


def _valid_ymd(y: int, m: int, d: int | None) -> bool:
    if not 1 <= m <= 12:
        return False
    return d is None or 1 <= d <= calendar.monthrange(y, m)[1]


def parse_date(raw: str | None) -> ParsedDate:
    """Parse the date shapes found in real OpenURLs.

    Handles YYYY, YYYY-MM, YYYY-MM-DD (also unpadded), YYYYMMDD (EBSCO), "July 28, 2012",
    "24 October 2019", seasons ("Spring 2019"), "1994; 1998" (first year, noted), "1982.".
    Month and day are kept only when unambiguous.
    """
    if not raw:
        return ParsedDate(None)
    s = raw.strip().lower()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if mo == 0 or (mo, d) == (1, 1):
            # EBSCO pads year-only dates to YYYY0101: January 1st is not really known.
            return ParsedDate(y)
        if d == 0 and 1 <= mo <= 12:
            return ParsedDate(y, mo)
        if _valid_ymd(y, mo, d):
            return ParsedDate(y, mo, None, d)
        return ParsedDate(y, note=f"date {raw!r}: only the year is usable")
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:t[\d:.z+\-]*)?\.?", s)
    if m:
        y = int(m.group(1))
        mo = int(m.group(2)) if m.group(2) else None
        d = int(m.group(3)) if m.group(3) else None
        if mo is None:
            return ParsedDate(y)
        if _valid_ymd(y, mo, d):
            return ParsedDate(y, mo, None, d)
        return ParsedDate(y, note=f"date {raw!r}: only the year is usable")
    years = _YEAR_RE.findall(s)
    if not years:
        return ParsedDate(None, note=f"date {raw!r} has no year")
    y = int(years[0])
    note = None
    if len(set(years)) > 1:
        note = f"date {raw!r} names several years; using {y}"
    words = re.findall(r"[^\W\d_]+", s)
    for w in words:
        if w in _SEASONS:
            a, b = _SEASONS[w]
            return ParsedDate(y, a, b, None, note or f"season {w!r} read as months {a}-{b}")
    qm = re.search(r"\bq([1-4])\b", s)
    if qm:
        a, b = _QUARTERS[int(qm.group(1))]
        return ParsedDate(y, a, b, None, note)
    tm = re.search(r"tháng\s*(\d{1,2})", s)
    month = int(tm.group(1)) if tm and 1 <= int(tm.group(1)) <= 12 else None
    if month is None:
        for w in words:
            if w in _MONTHS:
                month = _MONTHS[w]
                break
    day = None
    if month is not None and tm is None:
        # "July 28, 2012" / "24 October 2019": a 1-2 digit number next to the month name.
        dm = re.search(r"(?<!\d)(\d{1,2})(?!\d)", _YEAR_RE.sub(" ", s))
        if dm and _valid_ymd(y, month, int(dm.group(1))):
            day = int(dm.group(1))
    return ParsedDate(y, month, None, day, note)


def _iso_date(c: Citation) -> str | None:
    if c.year is None:
        return None
    if c.month is None or c.month_end is not None:
        return f"{c.year:04d}"
    if c.day is None:
        return f"{c.year:04d}-{c.month:02d}"
    return f"{c.year:04d}-{c.month:02d}-{c.day:02d}"


# --------------------------------------------------------------------------------------
# Query-string decoding
# --------------------------------------------------------------------------------------

_PCT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_SPACES_RE = re.compile(r"\s+")
_UESC_RE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_TEMPLATE_RE = re.compile(r"^\{\{.*\}\}$|^\$\{.*\}$")
_KEY_RE = re.compile(r"^[A-Za-z_][^\s=&]*$")
# Characters that show up when UTF-8 bytes were read as cp1252/Latin-1 ("ThÆ°", "Ã©").
_MOJIBAKE_HINT = re.compile("[ÂÃÄÅÆÇáâãäåæçèéêëìíîïðñòóôõö][\x80-\xbf\u0152-\u2122]")
_CP1252_EXTRA = {ch: b for b in range(0x80, 0xA0)
                 if (ch := bytes([b]).decode("cp1252", errors="ignore"))}


class _Notes(list[str]):
    """Warnings list that ignores repeats (one note per kind of repair is enough)."""

    def add(self, msg: str) -> None:
        if msg not in self and len(self) < 50:
            self.append(msg)


def _bytes_to_text(b: bytes, notes: _Notes, latin1: bool = False) -> str:
    if latin1:
        return b.decode("latin-1")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        notes.add("bytes that are not UTF-8 were read as Windows-1252/Latin-1")
        return b.decode("cp1252", errors="replace").replace("\ufffd", "")


def _fix_mojibake(s: str, notes: _Notes) -> str:
    """Undo UTF-8-read-as-cp1252 ("ThÆ°" -> "Thư"); keep *s* unless the result is clean."""
    if s.isascii():  # the hint needs non-ASCII characters; most values are plain ASCII
        return s
    for _ in range(2):  # doubly mangled strings exist
        if not _MOJIBAKE_HINT.search(s):
            return s
        out = bytearray()
        for ch in s:
            o = ord(ch)
            if o < 0x100:
                out.append(o)
            elif ch in _CP1252_EXTRA:
                out.append(_CP1252_EXTRA[ch])
            else:
                return s
        try:
            fixed = out.decode("utf-8")
        except UnicodeDecodeError:
            return s
        if fixed == s:
            return s
        notes.add("repaired mojibake (UTF-8 read as Latin-1)")
        s = fixed
    return s


def _unescape_u(s: str, notes: _Notes) -> str:
    if "\\u" not in s:
        return s
    notes.add("replaced literal \\uXXXX escapes")
    out = _UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), s)
    # Rejoin surrogate pairs written as two escapes; drop lone halves.
    return out.encode("utf-16", "surrogatepass").decode("utf-16", errors="ignore")


def _clean_text(s: str, notes: _Notes) -> str:
    s = _unescape_u(s, notes)
    s = _fix_mojibake(s, notes)
    if "&" in s and ";" in s:
        s = html.unescape(s)
    s = unicodedata.normalize("NFC", s)
    if not s.isprintable():  # the per-character pass only when something needs replacing
        s = "".join(ch if ch.isprintable() else " " for ch in s)
    s = _SPACES_RE.sub(" ", s).strip()
    if len(s) > MAX_VALUE_CHARS:
        notes.add(f"a value longer than {MAX_VALUE_CHARS} characters was cut")
        s = s[:MAX_VALUE_CHARS]
    return s


def _decode_component(
    raw: str, notes: _Notes, latin1: bool, already: bool, plus_is_space: bool = True
) -> str:
    """Percent-decode once (unless *already* decoded), twice when %XX survives."""
    s = raw
    if not already:
        if plus_is_space:
            s = s.replace("+", " ")
        # Without '%', ASCII text decodes to itself (in UTF-8 and in Latin-1 alike).
        if "%" in s or not s.isascii():
            s = _bytes_to_text(unquote_to_bytes(s), notes, latin1)
    if "%" in s and _PCT_RE.search(s):
        notes.add("value was percent-encoded twice; decoded again")
        s = _bytes_to_text(unquote_to_bytes(s), notes, latin1)
    return s


def _split_query(text: str, notes: _Notes) -> list[tuple[str, str]]:
    """Split a KEV string into raw (key, value) pairs, gluing stray '&' back into values.

    Logged OpenURLs are often half-decoded: "title=Mind & Society&issn=..." has an '&'
    that belongs to the title. A segment without '=' or whose key contains spaces is
    therefore appended to the previous value instead of becoming a bogus key.
    """
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        notes.add(f"query longer than {MAX_QUERY_CHARS} characters was cut")
        text = text[:MAX_QUERY_CHARS]
    q = text.find("?")
    eq = text.find("=")
    if q != -1 and (eq == -1 or q < eq):
        text = text[q:]
    if text.startswith("??"):
        notes.add("query started with '??'")
    text = text.lstrip("?&")
    if "&amp;" in text:
        # A KEV copied out of HTML (COinS-like) without unescaping.
        notes.add("HTML-escaped '&amp;' separators unescaped")
        text = text.replace("&amp;", "&")
    pairs: list[tuple[str, str]] = []
    for n, seg in enumerate(text.split("&")):
        if n > MAX_KEYS * 2 or len(pairs) >= MAX_KEYS:
            notes.add(f"more than {MAX_KEYS} parameters; the rest were ignored")
            break
        if not seg:
            continue
        key, sep, val = seg.partition("=")
        dkey = unquote(key.replace("+", " "))
        glue = not sep or (not _KEY_RE.match(dkey) and dkey[:1] in ("", " ", "\t"))
        if glue:
            if pairs:
                # "Mind & Society=" : the lone trailing '=' is a logging artefact.
                if seg.count("=") == 1 and seg.endswith("="):
                    seg = seg[:-1]
                notes.add("stray '&' inside a value was kept as text")
                pk, pv = pairs[-1]
                pairs[-1] = (pk, pv + "&" + seg)
            continue
        pairs.append((key, val))
    return pairs


def _collect(
    items: Iterable[tuple[str, str]],
    notes: _Notes,
    latin1: bool,
    already: bool,
    plus_is_space: bool = True,
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rkey, rval in items:
        key = rkey if already else _decode_component(rkey, notes, latin1, False)
        key = key.strip().lower()
        if not key or len(key) > 64:
            continue
        val = _decode_component(rval, notes, latin1, already, plus_is_space)
        val = _clean_text(val, notes)
        if not val:
            continue
        if _TEMPLATE_RE.match(val) or val.startswith("{{"):
            notes.add(f"unfilled template in {key!r} ignored")
            continue
        vals = out.setdefault(key, [])
        if len(vals) < MAX_VALUES_PER_KEY and val not in vals:
            vals.append(val)
        if len(out) >= MAX_KEYS:
            break
    return out


def _to_kev_dict(query: str | bytes | Mapping[str, list[str]], notes: _Notes) -> dict:
    if isinstance(query, Mapping):
        items: list[tuple[str, str]] = []
        for k, vs in list(query.items())[: MAX_KEYS]:
            vlist = [vs] if isinstance(vs, str) else list(vs)[:MAX_VALUES_PER_KEY]
            items.extend((str(k), str(v)[: MAX_VALUE_CHARS * 3]) for v in vlist)
        latin1 = any(
            "8859-1" in v for k, vs in items if k == "ctx_enc" for v in [vs]
        )
        return _collect(items, notes, latin1, already=True)
    if isinstance(query, bytes):
        query = _bytes_to_text(query[: MAX_QUERY_CHARS * 4], notes)
    pairs = _split_query(query, notes)
    latin1 = any(k == "ctx_enc" and "8859-1" in unquote(v) for k, v in pairs)
    # Encoders that write spaces as %20 leave '+' as a real plus ("vi+394 pages").
    plus_is_space = "%20" not in query
    return _collect(pairs, notes, latin1, already=False, plus_is_space=plus_is_space)


# --------------------------------------------------------------------------------------
# Building the citation
# --------------------------------------------------------------------------------------

_GENRE_MAP = {
    "article": "article", "preprint": "article", "journal": "journal", "issue": "journal",
    "book": "book", "bookitem": "bookitem", "chapter": "bookitem", "inbook": "bookitem",
    "dissertation": "dissertation", "dissertations": "dissertation", "thesis": "dissertation",
    "conference": "conference", "proceeding": "proceeding", "proceedings": "proceeding",
    "report": "report", "document": "report",
}
_GENRE_FORMAT = {
    "article": "journal", "journal": "journal", "conference": "journal",
    "proceeding": "journal", "book": "book", "bookitem": "book", "report": "book",
    "dissertation": "dissertation",
}
_TRAILING_PUNCT = re.compile(r"[\s/:;,=]+$")
_ROLE_SUFFIX = re.compile(r",?\s*\b(author|editor|ed\.|eds\.|tác giả|chủ biên)\s*$", re.I)


def _first(d: Mapping[str, list[str]], *keys: str) -> str | None:
    for k in keys:
        for v in d.get(k, ()):
            if v:
                return v
    return None


def _both(d: Mapping[str, list[str]], name: str) -> str | None:
    """1.0 ``rft.name`` wins; the bare 0.1 ``name`` fills the gap."""
    return _first(d, f"rft.{name}", name)


def _title(s: str | None) -> str | None:
    if not s:
        return None
    s = re.sub(r"^\[\[(.*)\]\]$", r"\1", s)  # Wikipedia markup in COinS
    s = _TRAILING_PUNCT.sub("", s).strip()
    return s or None


def _author_key(a: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKD", a).lower())


def _authors(d: Mapping[str, list[str]], c: Citation, notes: _Notes) -> None:
    aulast = _both(d, "aulast")
    aufirst = _both(d, "aufirst") or _both(d, "auinit")
    if aulast:
        aulast = _ROLE_SUFFIX.sub("", aulast).strip(" ,")
        if "," in aulast and not aufirst:
            # EBSCO sends aulast="Surname, Given".
            last, _, first = aulast.partition(",")
            aulast, aufirst = last.strip(), first.strip() or None
            notes.add("aulast held 'Surname, Given'; split it")
    c.aulast = aulast or None
    c.aufirst = aufirst or None
    names: list[str] = []
    if c.aulast:
        names.append(f"{c.aulast}, {c.aufirst}" if c.aufirst else c.aulast)
    for key in ("rft.au", "au", "rft.aucorp", "aucorp"):
        for v in d.get(key, ()):
            v = _ROLE_SUFFIX.sub("", v).strip(" ,;")
            if v and re.search(r"\w", v):
                names.append(v)
    seen: set[str] = set()
    for n in names:
        k = _author_key(n)
        if k and k not in seen:
            seen.add(k)
            c.authors.append(n)
    # "Lewin, David" and "Lewin,David" are the same person; also catch "David Lewin".
    if c.aulast is None and c.authors and "," in c.authors[0]:
        c.aulast, _, first = (p.strip() for p in c.authors[0].partition(","))
        c.aufirst = first or None


def _ids(d: Mapping[str, list[str]], c: Citation, notes: _Notes) -> None:
    ids = list(d.get("rft_id", ())) + [
        v.replace(":", "/", 1) if re.match(r"(doi|pmid|oclcnum):", v, re.I) else v
        for v in d.get("id", ())
    ]
    dois = list(d.get("rft.doi", ())) + list(d.get("doi", ()))
    pmids = list(d.get("rft.pmid", ())) + list(d.get("pmid", ()))
    isbns: list[str] = []
    issns: list[str] = []
    for raw in ids:
        low = raw.lower()
        if low.startswith(("info:doi/", "doi/", "urn:doi:")) or re.match(
            r"https?://(dx\.|www\.)?doi\.org/", low
        ):
            dois.append(raw[4:] if low.startswith("doi/") else raw)
        elif low.startswith(("info:pmid/", "pmid/")):
            pmids.append(raw.split("/", 1)[1])
        elif low.startswith(("info:oclcnum/", "oclcnum/")):
            num = re.sub(r"\D", "", raw.split("/", 1)[1])
            if num and not c.oclcnum:
                c.oclcnum = num
        elif low.startswith("urn:isbn:"):
            isbns.append(raw[9:])
        elif low.startswith("urn:issn:"):
            issns.append(raw[9:])
        elif re.search(r"[:/]", raw) and not re.fullmatch(r"[a-z]+:[a-z]*/?", low):
            c.other_ids.append(raw)
    for raw in dois:
        doi = normalize_doi(raw)
        if doi:
            c.doi = doi
            break
        if re.search(r"\d", raw):
            notes.add(f"not a DOI, ignored: {raw[:80]!r}")
    for raw in pmids:
        if re.fullmatch(r"\s*\d{1,9}\s*", raw):
            c.pmid = raw.strip()
            break
    if not c.oclcnum:
        raw = _both(d, "oclcnum")
        num = re.sub(r"\D", "", raw or "")
        c.oclcnum = num or None

    _issns(d, c, issns, notes)
    isbns = (
        list(d.get("rft.isbn", ())) + list(d.get("rft.eisbn", ())) + isbns
        + list(d.get("isbn", ())) + list(d.get("eisbn", ())) + isbns
    )
    if c.isbn is None:
        for raw in isbns:
            for part in re.split(r"[,;]|\s{2,}", raw):
                n = normalize_isbn(part)
                if n:
                    c.isbn, c.isbn_valid = n.value, n.valid
                    if not n.valid:
                        notes.add(f"ISBN {part.strip()!r} has a wrong check digit (kept)")
                    break
            if c.isbn:
                break


def _issns(d: Mapping[str, list[str]], c: Citation, extra: list[str], notes: _Notes) -> None:
    """Fill issn/eissn; handle "1860-1839(ELECTRONIC),15937879(PRINT)" and ISBNs in issn."""
    print_raw = list(d.get("rft.issn", ())) + extra + list(d.get("issn", ()))
    e_raw = list(d.get("rft.eissn", ())) + list(d.get("eissn", ()))
    found_print: list[StandardNumber] = []
    found_e: list[StandardNumber] = []
    for bucket, raws in ((found_print, print_raw), (found_e, e_raw)):
        for raw in raws:
            for part in re.split(r"[,;+]|\s(?=\d{4}-?\d{3}[\dXx])", raw):
                target = bucket
                if re.search(r"electronic|online|\be-?issn", part, re.I):
                    target = found_e
                elif re.search(r"print", part, re.I):
                    target = found_print
                digits = re.sub(r"[\s\-]", "", part)
                if re.fullmatch(r"97[89]\d{10}|\d{9}[\dXx]", digits) and not re.fullmatch(
                    r"\d{7}[\dXx]", digits
                ):
                    n = normalize_isbn(digits)
                    if n and c.isbn is None:
                        c.isbn, c.isbn_valid = n.value, n.valid
                        notes.add("an ISBN was sent as ISSN; moved it")
                    continue
                n = normalize_issn(part)
                if n is None:
                    if part.strip():
                        notes.add(f"not an ISSN, ignored: {part.strip()[:40]!r}")
                    continue
                if n not in target:
                    target.append(n)
    if found_print:
        c.issn, c.issn_valid = found_print[0].value, found_print[0].valid
    e_cands = [n for n in found_e if n.value != c.issn] or found_print[1:2]
    if e_cands:
        c.eissn, c.eissn_valid = e_cands[0].value, e_cands[0].valid
    for label, val, ok in (("ISSN", c.issn, c.issn_valid), ("eISSN", c.eissn, c.eissn_valid)):
        if val and ok is False:
            notes.add(f"{label} {val} has a wrong check digit (kept, flagged invalid)")


def _genre_and_format(d: Mapping[str, list[str]], c: Citation, notes: _Notes) -> None:
    fmt_raw = (_first(d, "rft_val_fmt") or "").lower()
    fmt = None
    for f in FORMATS:
        if fmt_raw.endswith(":" + f) or fmt_raw.endswith(":" + f + "s"):
            fmt = f
    if fmt_raw.endswith(":article"):  # a frequent Primo slip for :journal
        fmt = "journal"
    if fmt_raw and fmt is None:
        notes.add(f"rft_val_fmt {fmt_raw!r} not usable; ignored")
    graw = (_both(d, "genre") or "").strip().lower()
    gkey = (re.findall(r"[a-z]+", graw) or [""])[0]  # "dissertations & theses"
    genre = _GENRE_MAP.get(gkey)
    if graw and genre is None and gkey != "unknown":
        notes.add(f"genre {graw!r} not recognised")
    if genre is not None:
        gfmt = _GENRE_FORMAT[genre]
        if fmt and fmt != gfmt and genre not in ("conference", "proceeding", "report"):
            notes.add(f"genre {genre!r} disagrees with rft_val_fmt {fmt!r}; genre wins")
        if genre in ("conference", "proceeding", "report") and fmt:
            gfmt = fmt
        fmt = gfmt
    if fmt is None:
        if _first(d, "rft.btitle", "btitle") or (c.isbn and not c.issn and not c.eissn):
            fmt = "book"
        else:
            fmt = "journal"
    if genre is None:
        has_part = bool(_both(d, "atitle"))
        genre = {
            "journal": "article" if has_part else "journal",
            "book": "bookitem" if has_part else "book",
            "dissertation": "dissertation",
        }[fmt]
        if graw:
            notes.add(f"genre inferred as {genre!r}")
    c.genre, c.format = genre, fmt


def _fill(d: dict[str, list[str]], notes: _Notes) -> Citation:
    c = Citation()
    has10 = any(k.startswith(("rft.", "rft_", "ctx_", "url_", "rfr_")) for k in d)
    has01 = any(k in d for k in ("sid", "genre", "title", "atitle", "issn", "id", "aulast"))
    c.version = "hybrid" if has10 and has01 else "1.0" if has10 else "0.1"
    if has10 and "ctx_ver" not in d:
        notes.add("ctx_ver missing (accepted)")

    _ids(d, c, notes)
    _genre_and_format(d, c, notes)
    c.atitle = _title(_both(d, "atitle"))
    c.stitle = _title(_both(d, "stitle"))
    if c.format == "book":
        c.btitle = _title(_first(d, "rft.btitle", "rft.title", "btitle", "title"))
        c.title = c.btitle
        if c.btitle is None and c.atitle and c.genre == "book":
            c.btitle = c.title = c.atitle
            c.atitle = None
    elif c.format == "dissertation":
        c.title = _title(_first(d, "rft.title", "rft.btitle", "title", "btitle"))
    else:
        c.jtitle = _title(
            _first(d, "rft.jtitle", "rft.title", "jtitle", "title")
        ) or c.stitle
        c.title = c.jtitle
    _authors(d, c, notes)

    c.date = _first(d, "rft.date", "date", "rft.year", "year")
    pd = parse_date(c.date)
    if pd.year is None and c.date:
        pd2 = parse_date(_first(d, "rft.year", "year"))
        pd = pd2 if pd2.year is not None else pd
    if pd.note:
        notes.add(pd.note)
    c.year, c.month, c.month_end, c.day = pd.year, pd.month, pd.month_end, pd.day
    if c.year is not None and c.month is None:
        ssn = (_both(d, "ssn") or "").lower()
        quarter = _both(d, "quarter") or ""
        mo = _first(d, "rft.month", "month") or ""
        if ssn in _SEASONS:
            c.month, c.month_end = _SEASONS[ssn]
        elif quarter.strip() in ("1", "2", "3", "4"):
            c.month, c.month_end = _QUARTERS[int(quarter)]
        elif mo.isdigit() and 1 <= int(mo) <= 12:
            c.month = int(mo)
        elif mo.lower() in _MONTHS:
            c.month = _MONTHS[mo.lower()]

    for name in ("volume", "issue", "part", "spage", "epage", "pages", "artnum", "edition"):
        setattr(c, name, _both(d, name))
    if c.pages and not (c.spage and c.epage):
        m = re.fullmatch(r"(?:pp?\.?\s*)?([A-Za-z]?\d+)\s*(?:[-–—]\s*([A-Za-z]?\d+))?", c.pages)
        if m and (c.spage is None or c.spage == m.group(1)):
            c.spage, c.epage = m.group(1), c.epage or m.group(2)
    c.publisher = _title(_first(d, "rft.pub", "rft.publisher", "pub", "publisher"))
    c.place = _title(_both(d, "place"))
    if c.format == "dissertation":
        c.degree_inst = _title(_first(d, "rft.inst", "rft.co"))
    inst = _first(d, "inst")
    c.inst = inst.strip() if inst and re.fullmatch(r"[\w.\-]{1,32}", inst.strip()) else None

    rfr = _first(d, "rfr_id")
    sid = _first(d, "sid")
    c.rfr_id = rfr or (f"info:sid/{sid}" if sid else None)
    c.sid = sid or (re.sub(r"^info:sid/", "", rfr) if rfr else None)
    if _first(d, "pid") and not sid:
        notes.add("pid without sid (invalid in 0.1; ignored)")
    if _first(d, "url_ctx_val", "url_ctx_ref"):
        notes.add("XML/by-reference ContextObject not supported; used the KEV keys only")
    return c


def parse_openurl(query: str | bytes | Mapping[str, list[str]]) -> Citation:
    """Parse an OpenURL 0.1/1.0 KEV query (or full URL, or decoded multi-dict).

    Never raises on malformed input except :class:`CitationError` when no title and no
    identifier (DOI, PMID, ISSN, ISBN, OCLC number) can be found.
    """
    notes = _Notes()
    if query is None:
        raise CitationError("empty OpenURL")
    d = _to_kev_dict(query, notes)
    c = _fill(d, notes)
    c.warnings = list(notes)
    if not any((c.atitle, c.title, c.jtitle, c.btitle, c.stitle, c.doi, c.pmid, c.issn,
                c.eissn, c.isbn, c.oclcnum)):
        raise CitationError("no title and no identifier in the OpenURL")
    return c


def parse_coins(title_attr: str) -> Citation:
    """Parse a COinS ``title`` attribute (HTML-escaped KEV) or a whole ``<span>`` tag."""
    s = title_attr.strip()
    if s.startswith("<"):
        m = re.search(r"""\btitle\s*=\s*("([^"]*)"|'([^']*)')""", s, re.S)
        if not m:
            raise CitationError("COinS span without a title attribute")
        s = m.group(2) if m.group(2) is not None else m.group(3)
    # COinS escape '&' as '&amp;' (and Wikipedia adds &#32; / &nbsp;): unescape first.
    return parse_openurl(html.unescape(s).replace("\xa0", " "))


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------

DEFAULT_RFR_ID = "info:sid/lienhop.vn:resolver"
#: What ``quote(v, safe="")`` escapes: all but the RFC 3986 unreserved characters.
_RESERVED_RUN_RE = re.compile(r"[^A-Za-z0-9_.~-]+")
_PCT_BYTE = tuple(f"%{b:02X}" for b in range(256))


def _pct_run(m: re.Match[str]) -> str:
    return "".join([_PCT_BYTE[b] for b in m.group().encode("utf-8")])


def _quote_all(v: str) -> str:
    """``quote(v, safe="")``, several times faster on titles (only escaped runs are walked)."""
    return _RESERVED_RUN_RE.sub(_pct_run, v)
_CITATION_FIELDS = tuple(f.name for f in dataclasses.fields(Citation))


def citation_to_kev(citation: Citation, rfr_id: str | None = None) -> str:
    """Serialise to an OpenURL 1.0 KEV string (UTF-8, %20 for spaces).

    Used to link to other services and to prefill document delivery, so the date and
    the referrer are always sent (their loss was a recurring ILL complaint).
    """
    c = citation
    fmt = c.format if c.format in FORMATS else "journal"
    pairs: list[tuple[str, str]] = [
        ("url_ver", "Z39.88-2004"),
        ("ctx_ver", "Z39.88-2004"),
        ("ctx_enc", "info:ofi/enc:UTF-8"),
        ("rfr_id", rfr_id or c.rfr_id or DEFAULT_RFR_ID),
        ("rft_val_fmt", f"info:ofi/fmt:kev:mtx:{fmt}"),
    ]
    if c.genre and c.genre != "unknown":
        pairs.append(("rft.genre", c.genre))
    if c.doi:
        pairs.append(("rft_id", f"info:doi/{c.doi}"))
    if c.pmid:
        pairs.append(("rft_id", f"info:pmid/{c.pmid}"))
    if c.oclcnum:
        pairs.append(("rft_id", f"info:oclcnum/{c.oclcnum}"))
    if c.atitle:
        pairs.append(("rft.atitle", c.atitle))
    if fmt == "journal" and c.jtitle:
        pairs.append(("rft.jtitle", c.jtitle))
    elif fmt == "book" and (c.btitle or c.title):
        pairs.append(("rft.btitle", c.btitle or c.title or ""))
    elif fmt == "dissertation" and c.title:
        pairs.append(("rft.title", c.title))
    if c.stitle:
        pairs.append(("rft.stitle", c.stitle))
    if c.aulast:
        pairs.append(("rft.aulast", c.aulast))
    if c.aufirst:
        pairs.append(("rft.aufirst", c.aufirst))
    pairs.extend(("rft.au", a) for a in c.authors)
    iso = _iso_date(c) or c.date
    simple = (
        ("rft.date", iso), ("rft.volume", c.volume), ("rft.issue", c.issue),
        ("rft.part", c.part), ("rft.spage", c.spage), ("rft.epage", c.epage),
        ("rft.pages", c.pages), ("rft.artnum", c.artnum), ("rft.issn", c.issn),
        ("rft.eissn", c.eissn), ("rft.isbn", c.isbn), ("rft.pub", c.publisher),
        ("rft.place", c.place), ("rft.edition", c.edition),
        ("rft.inst", c.degree_inst if fmt == "dissertation" else None),
    )
    pairs.extend((k, v) for k, v in simple if v)
    if c.month_end and c.year:
        quarter = {(1, 3): "1", (4, 6): "2", (7, 9): "3", (10, 12): "4"}
        q = quarter.get((c.month or 0, c.month_end))
        if q:
            pairs.append(("rft.quarter", q))
    return "&".join(f"{k}={_quote_all(v)}" for k, v in pairs)


def citation_to_dict(citation: Citation) -> dict:
    """Plain JSON-ready dict (adds ``date_iso``; drops empty values)."""
    # dataclasses.asdict deep-copies field by field (a fifth of the API view's time); the
    # fields are scalars and lists of strings, for which a list copy is a deep copy.
    out = {}
    for k in _CITATION_FIELDS:
        v = getattr(citation, k)
        if v in (None, [], ""):
            continue
        if type(v) is list and all(type(x) is str for x in v):
            v = list(v)
        elif not isinstance(v, (str, int, float)):
            v = copy.deepcopy(v)
        out[k] = v
    iso = _iso_date(citation)
    if iso:
        out["date_iso"] = iso
    return out
