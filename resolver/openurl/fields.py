"""Filling a :class:`Citation` from a decoded KEV multi-dict (0.1, 1.0 or a hybrid).

Precedence rule for hybrids: a 1.0 ``rft.*`` value wins, the bare 0.1 key fills gaps.
Identifiers go through :mod:`resolver.openurl.numbers` (whose rules are
:mod:`index.identifiers`'), dates through :mod:`resolver.openurl.dates`; what is left here
is which key means what, and the repairs publishers' slips call for (an ISBN sent as ISSN,
``aulast="Surname, Given"``, a Primo ``rft_val_fmt`` of ``:article``), each with a note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from index.identifiers import DOI_PREFIX
from resolver.openurl.citation import FORMATS, Citation
from resolver.openurl.dates import MONTHS, QUARTERS, SEASONS, parse_date
from resolver.openurl.decoding import Notes
from resolver.openurl.numbers import (
    StandardNumber,
    normalize_doi,
    normalize_isbn,
    normalize_issn,
)

__all__ = ["fill_citation"]

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
#: compiled once: the parser runs on every resolver request
_WIKI_LINK = re.compile(r"^\[\[(.*)\]\]$")
_NOT_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"\w")
_ID_SCHEME = re.compile(r"(doi|pmid|oclcnum):", re.I)
_NOT_DIGIT = re.compile(r"\D")
_DIGIT = re.compile(r"\d")
_URI_LIKE = re.compile(r"[:/]")
_EMPTY_URI = re.compile(r"[a-z]+:[a-z]*/?")
_PMID = re.compile(r"\s*\d{1,9}\s*")
_ISBN_SPLIT = re.compile(r"[,;]|\s{2,}")
_ISSN_SPLIT = re.compile(r"[,;+]|\s(?=\d{4}-?\d{3}[\dXx])")
_ELECTRONIC = re.compile(r"electronic|online|\be-?issn", re.I)
_PRINT = re.compile(r"print", re.I)
_DASH_SPACE = re.compile(r"[\s\-]")
_ISBN_DIGITS = re.compile(r"97[89]\d{10}|\d{9}[\dXx]")
_ISSN_DIGITS = re.compile(r"\d{7}[\dXx]")
_LETTERS = re.compile(r"[a-z]+")
_PAGES = re.compile(r"(?:pp?\.?\s*)?([A-Za-z]?\d+)\s*(?:[-–—]\s*([A-Za-z]?\d+))?")
_INST = re.compile(r"[\w.\-]{1,32}")
_SID_PREFIX = re.compile(r"^info:sid/")


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
    if s.startswith("[["):  # Wikipedia markup in COinS
        s = _WIKI_LINK.sub(r"\1", s)
    s = _TRAILING_PUNCT.sub("", s).strip()
    return s or None


def _author_key(a: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKD", a).lower())


def _authors(d: Mapping[str, list[str]], c: Citation, notes: Notes) -> None:
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
            if v and _WORD.search(v):
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


def _ids(d: Mapping[str, list[str]], c: Citation, notes: Notes) -> None:
    ids = list(d.get("rft_id", ())) + [
        v.replace(":", "/", 1) if _ID_SCHEME.match(v) else v
        for v in d.get("id", ())
    ]
    dois = list(d.get("rft.doi", ())) + list(d.get("doi", ()))
    pmids = list(d.get("rft.pmid", ())) + list(d.get("pmid", ()))
    isbns: list[str] = []
    issns: list[str] = []
    for raw in ids:
        low = raw.lower()
        if low.startswith("doi/"):  # a 0.1 ``id=doi:…``, rewritten above
            dois.append(raw[4:])
        elif DOI_PREFIX.match(raw):
            dois.append(raw)
        elif low.startswith(("info:pmid/", "pmid/")):
            pmids.append(raw.split("/", 1)[1])
        elif low.startswith(("info:oclcnum/", "oclcnum/")):
            num = _NOT_DIGIT.sub("", raw.split("/", 1)[1])
            if num and not c.oclcnum:
                c.oclcnum = num
        elif low.startswith("urn:isbn:"):
            isbns.append(raw[9:])
        elif low.startswith("urn:issn:"):
            issns.append(raw[9:])
        elif _URI_LIKE.search(raw) and not _EMPTY_URI.fullmatch(low):
            c.other_ids.append(raw)
    for raw in dois:
        doi = normalize_doi(raw)
        if doi:
            c.doi = doi
            break
        if _DIGIT.search(raw):
            notes.add(f"not a DOI, ignored: {raw[:80]!r}")
    for raw in pmids:
        if _PMID.fullmatch(raw):
            c.pmid = raw.strip()
            break
    if not c.oclcnum:
        num = _NOT_DIGIT.sub("", _both(d, "oclcnum") or "")
        c.oclcnum = num or None

    _issns(d, c, issns, notes)
    isbns = (
        list(d.get("rft.isbn", ())) + list(d.get("rft.eisbn", ())) + isbns
        + list(d.get("isbn", ())) + list(d.get("eisbn", ())) + isbns
    )
    if c.isbn is None:
        for raw in isbns:
            for part in _ISBN_SPLIT.split(raw):
                n = normalize_isbn(part)
                if n:
                    c.isbn, c.isbn_valid = n.value, n.valid
                    if not n.valid:
                        notes.add(f"ISBN {part.strip()!r} has a wrong check digit (kept)")
                    break
            if c.isbn:
                break


def _issns(d: Mapping[str, list[str]], c: Citation, extra: list[str], notes: Notes) -> None:
    """Fill issn/eissn; handle "1860-1839(ELECTRONIC),15937879(PRINT)" and ISBNs in issn."""
    print_raw = list(d.get("rft.issn", ())) + extra + list(d.get("issn", ()))
    e_raw = list(d.get("rft.eissn", ())) + list(d.get("eissn", ()))
    found_print: list[StandardNumber] = []
    found_e: list[StandardNumber] = []
    for bucket, raws in ((found_print, print_raw), (found_e, e_raw)):
        for raw in raws:
            for part in _ISSN_SPLIT.split(raw):
                target = bucket
                if _ELECTRONIC.search(part):
                    target = found_e
                elif _PRINT.search(part):
                    target = found_print
                digits = _DASH_SPACE.sub("", part)
                if _ISBN_DIGITS.fullmatch(digits) and not _ISSN_DIGITS.fullmatch(digits):
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


def _genre_and_format(d: Mapping[str, list[str]], c: Citation, notes: Notes) -> None:
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
    gkey = (_LETTERS.findall(graw) or [""])[0]  # "dissertations & theses"
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


def fill_citation(d: dict[str, list[str]], notes: Notes) -> Citation:
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
        if ssn in SEASONS:
            c.month, c.month_end = SEASONS[ssn]
        elif quarter.strip() in ("1", "2", "3", "4"):
            c.month, c.month_end = QUARTERS[int(quarter)]
        elif mo.isdigit() and 1 <= int(mo) <= 12:
            c.month = int(mo)
        elif mo.lower() in MONTHS:
            c.month = MONTHS[mo.lower()]

    for name in ("volume", "issue", "part", "spage", "epage", "pages", "artnum", "edition"):
        setattr(c, name, _both(d, name))
    if c.pages and not (c.spage and c.epage):
        m = _PAGES.fullmatch(c.pages)
        if m and (c.spage is None or c.spage == m.group(1)):
            c.spage, c.epage = m.group(1), c.epage or m.group(2)
    c.publisher = _title(_first(d, "rft.pub", "rft.publisher", "pub", "publisher"))
    c.place = _title(_both(d, "place"))
    if c.format == "dissertation":
        c.degree_inst = _title(_first(d, "rft.inst", "rft.co"))
    inst = _first(d, "inst")
    c.inst = inst.strip() if inst and _INST.fullmatch(inst.strip()) else None

    rfr = _first(d, "rfr_id")
    sid = _first(d, "sid")
    c.rfr_id = rfr or (f"info:sid/{sid}" if sid else None)
    c.sid = sid or (_SID_PREFIX.sub("", rfr) if rfr else None)
    if _first(d, "pid") and not sid:
        notes.add("pid without sid (invalid in 0.1; ignored)")
    if _first(d, "url_ctx_val", "url_ctx_ref"):
        notes.add("XML/by-reference ContextObject not supported; used the KEV keys only")
    return c
