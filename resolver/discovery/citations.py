"""Citation formats of one :class:`index.Record`: pure functions, no Flask.

RIS, BibTeX and CSL-JSON for reference managers, an APA 7 reference for people, and the
OpenURL 1.0 KEV that COinS spans and the "Find full text" button carry. Vietnamese names
are written family name first ("Nguyễn Văn An"); a name with a comma is "Family, Given".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from markupsafe import Markup, escape

from index import Record
from resolver.openurl import Citation, citation_to_kev

RFR_ID = "info:sid/lienhop.vn:discovery"

# Surnames that tell a comma-less name is written family name first (Vietnamese order).
_VI_SURNAMES = frozenset((
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ",
    "hồ", "ngô", "dương", "lý", "đào", "đoàn", "vương", "trịnh", "đinh", "lâm", "phùng", "mai",
    "tô", "trương", "hà", "lương", "lưu", "thái", "cao", "chu", "châu", "quách", "tạ", "thạch",
    "kim", "văn", "la", "triệu", "mạc", "tăng", "hứa", "giang", "khúc", "bạch", "âu",
))

RIS_TYPES = {"article": "JOUR", "thesis": "THES", "dissertation": "THES", "book": "BOOK",
             "report": "RPRT", "conference paper": "CPAPER", "dataset": "DATA"}
BIBTEX_TYPES = {"article": "article", "thesis": "mastersthesis", "dissertation": "phdthesis",
                "book": "book", "report": "techreport", "conference paper": "inproceedings"}
CSL_TYPES = {"article": "article-journal", "thesis": "thesis", "dissertation": "thesis",
             "book": "book", "report": "report", "conference paper": "paper-conference",
             "dataset": "dataset"}
# ISO 639-3 → the BCP 47 tags CSL and schema.org expect.
LANG_TAGS = {"vie": "vi", "eng": "en", "fra": "fr", "rus": "ru", "zho": "zh", "deu": "de",
             "jpn": "ja", "kor": "ko"}


# ------------------------------------------------------------------------------ names


def split_name(name: str) -> tuple[str, str]:
    """``(family, given)`` of a personal name as repositories write them."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip()
    parts = name.split(" ")
    if len(parts) == 1:
        return name, ""
    if parts[0].lower() in _VI_SURNAMES:
        return parts[0], " ".join(parts[1:])
    return parts[-1], " ".join(parts[:-1])


def _initials(given: str) -> str:
    out = []
    for part in given.split():
        for piece in part.split("-"):
            letters = [c for c in piece if c.isalpha()]
            if letters:
                out.append(letters[0].upper() + ".")
    return " ".join(out)


def apa_name(name: str) -> str:
    family, given = split_name(name)
    initials = _initials(given)
    return f"{family}, {initials}" if initials else family


# ---------------------------------------------------------------------------- helpers


def doi_url(record: Record) -> str | None:
    return f"https://doi.org/{record.doi}" if record.doi else None


def handle_url(record: Record) -> str | None:
    return f"https://hdl.handle.net/{record.handle}" if record.handle else None


def best_url(record: Record) -> str | None:
    """The one link a citation should carry: DOI, handle, then the record's own URL."""
    return doi_url(record) or handle_url(record) or (record.urls[0] if record.urls else None)


def _page_range(pages: str) -> tuple[str, str]:
    m = re.match(r"^\s*(\w+)\s*[-–]+\s*(\w+)\s*$", pages or "")
    if m:
        return m.group(1), m.group(2)
    return (pages.strip(), "") if pages else ("", "")


def citation_key(record: Record) -> str:
    """An ASCII BibTeX key: first author's folded family name + year + record id tail."""
    family = split_name(record.creators[0])[0] if record.creators else "anon"
    folded = unicodedata.normalize("NFKD", family.replace("đ", "d").replace("Đ", "D"))
    ascii_name = re.sub(r"[^A-Za-z]", "", folded.encode("ascii", "ignore").decode()) or "anon"
    return f"{ascii_name.lower()}{record.year or ''}_{record.id.rsplit('-', 1)[-1][:6]}"


# -------------------------------------------------------------------------------- RIS


def to_ris(record: Record) -> str:
    """RIS (Research Information Systems), CRLF line ends as the format wants."""
    lines = [("TY", RIS_TYPES.get(record.type, "GEN"))]
    lines += [("TI" if i == 0 else "T2", t) for i, t in enumerate(record.titles[:1])]
    lines += [("AU", a) for a in record.creators]
    lines += [("A2", a) for a in record.contributors]
    if record.year:
        lines.append(("PY", str(record.year)))
    if record.journal:
        lines.append(("JO", record.journal))
    for tag, value in (("VL", record.volume), ("IS", record.issue)):
        if value:
            lines.append((tag, value))
    sp, ep = _page_range(record.pages)
    if sp:
        lines.append(("SP", sp))
    if ep:
        lines.append(("EP", ep))
    if record.publisher:
        lines.append(("PB", record.publisher))
    lines += [("SN", v) for v in (*record.issn, *record.isbn)]
    if record.doi:
        lines.append(("DO", record.doi))
    lines += [("KW", s) for s in record.subjects]
    if record.abstract:
        lines.append(("AB", record.abstract))
    if record.language:
        lines.append(("LA", record.language))
    url = best_url(record)
    if url:
        lines.append(("UR", url))
    lines += [("L1", u) for u in record.fulltext_links]
    lines.append(("ID", record.id))
    lines.append(("ER", ""))
    # A newline inside a value would start a bogus tag line: fold it to a space.
    return "".join(f"{tag}  - {' '.join(value.split())}\r\n" for tag, value in lines)


# ----------------------------------------------------------------------------- BibTeX

_BIB_SPECIAL = re.compile(r"([\\{}&%$#_^~])")


def _bib(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        c = m.group(1)
        if c == "\\":
            return r"\textbackslash{}"
        if c in "^~":
            return rf"\{c}{{}}"
        return "\\" + c

    return _BIB_SPECIAL.sub(repl, " ".join(value.split()))


def to_bibtex(record: Record) -> str:
    """BibTeX in UTF-8 (biber and modern BibTeX read it); specials escaped, not unicode."""
    kind = BIBTEX_TYPES.get(record.type, "misc")
    fields: list[tuple[str, str]] = []
    if record.title:
        fields.append(("title", "{" + _bib(record.title) + "}"))  # keep the title's case
    if record.creators:
        fields.append(("author", " and ".join(
            _bib(f"{f}, {g}" if g else f) for f, g in map(split_name, record.creators))))
    if record.year:
        fields.append(("year", str(record.year)))
    if record.journal:
        fields.append(("booktitle" if kind == "inproceedings" else "journal", _bib(record.journal)))
    for name, value in (("volume", record.volume), ("number", record.issue)):
        if value:
            fields.append((name, _bib(value)))
    if record.pages:
        fields.append(("pages", _bib(record.pages.replace("–", "--"))))
    if record.publisher:
        name = {"thesis": "school", "dissertation": "school", "report": "institution"}.get(
            record.type, "publisher")
        fields.append((name, _bib(record.publisher)))
    if record.doi:
        fields.append(("doi", _bib(record.doi)))
    if record.isbn:
        fields.append(("isbn", record.isbn[0]))
    if record.issn:
        fields.append(("issn", record.issn[0]))
    url = best_url(record)
    if url:
        fields.append(("url", _bib(url)))
    if record.subjects:
        fields.append(("keywords", _bib(", ".join(record.subjects))))
    if record.abstract:
        fields.append(("abstract", _bib(record.abstract)))
    if record.language:
        fields.append(("language", _bib(record.language)))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{kind}{{{citation_key(record)},\n{body}\n}}\n"


# --------------------------------------------------------------------------- CSL-JSON


def to_csl(record: Record) -> dict[str, Any]:
    """One CSL-JSON item (citeproc, Zotero, Pandoc)."""
    item: dict[str, Any] = {"id": record.id, "type": CSL_TYPES.get(record.type, "document")}
    if record.title:
        item["title"] = record.title
    if record.creators:
        item["author"] = [({"family": f, "given": g} if g else {"literal": f})
                          for f, g in map(split_name, record.creators)]
    if record.year:
        item["issued"] = {"date-parts": [[record.year]]}
    simple = {"container-title": record.journal, "volume": record.volume,
              "issue": record.issue, "page": record.pages, "publisher": record.publisher,
              "DOI": record.doi, "abstract": record.abstract,
              "language": LANG_TAGS.get(record.language, record.language),
              "URL": best_url(record)}
    item.update({k: v for k, v in simple.items() if v})
    if record.isbn:
        item["ISBN"] = record.isbn[0]
    if record.issn:
        item["ISSN"] = record.issn[0]
    if record.subjects:
        item["keyword"] = ", ".join(record.subjects)
    return item


# -------------------------------------------------------------------------------- APA


def _apa_authors(creators: list[str]) -> str:
    names = [apa_name(c) for c in creators]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) > 20:  # APA 7: first 19, an ellipsis, the last
        return ", ".join(names[:19]) + ", … " + names[-1]
    return ", ".join(names[:-1]) + ", & " + names[-1]


#: the words an APA reference adds of its own, in the language of the text it is cited in:
#: APA 7 writes the bracketed description and "n.d." in the language of the paper, and a
#: reader of the Vietnamese page copies the reference into Vietnamese writing (issue 15:
#: "[Master's thesis]" on a Vietnamese page). Titles and names stay as the record gives them.
APA_WORDS = {
    "en": {"thesis": "Master's thesis", "dissertation": "Doctoral dissertation",
           "no date": "n.d."},
    "vi": {"thesis": "Luận văn thạc sĩ", "dissertation": "Luận án tiến sĩ",
           "no date": "không rõ năm"},
}


def apa(record: Record, lang: str = "en") -> Markup:
    """An APA 7 reference as safe HTML (the italic part in <i>); every value is escaped.
    ``lang`` (``en`` or ``vi``) is the language of the words APA adds (:data:`APA_WORDS`)."""
    words = APA_WORDS.get(lang, APA_WORDS["en"])
    parts: list[Markup] = []
    authors = _apa_authors(record.creators)
    year = f"({record.year})." if record.year else f"({words['no date']})."
    title = record.title.rstrip(".") if record.title else ""
    if authors:
        parts.append(escape(authors.rstrip(".") + "."))
        parts.append(escape(year))
    if record.journal:
        if title:
            parts.append(escape(title + "."))
        source = Markup("<i>{}</i>").format(record.journal)
        if record.volume:
            source += Markup(", <i>{}</i>").format(record.volume)
        if record.issue:
            source += escape(f"({record.issue})")
        if record.pages:
            source += escape(", " + record.pages.replace("--", "–"))
        parts.append(source + Markup("."))
    else:
        if title:
            kind = words.get(record.type) if record.type in ("thesis", "dissertation") \
                else None
            italic = Markup("<i>{}</i>").format(title)
            parts.append(italic + (escape(f" [{kind}].") if kind else Markup(".")))
        if record.publisher:
            parts.append(escape(record.publisher.rstrip(".") + "."))
    if not authors:  # APA moves the title to the author position; the date follows it
        parts.insert(1 if parts else 0, escape(year))
    url = best_url(record)
    if url:
        parts.append(escape(url))
    return Markup(" ").join(parts)


# ---------------------------------------------------------------------- OpenURL / COinS


def to_citation(record: Record) -> Citation:
    """The record as the resolver's :class:`Citation`, for KEV links and COinS."""
    c = Citation()
    kind = record.type
    if kind in ("thesis", "dissertation"):
        c.format, c.genre, c.title = "dissertation", "dissertation", record.title or None
        c.degree_inst = record.publisher or None
    elif kind in ("book", "report"):
        c.format, c.genre = "book", ("report" if kind == "report" else "book")
        c.btitle = c.title = record.title or None
        c.publisher = record.publisher or None
    elif kind == "conference paper":
        c.format, c.genre, c.atitle = "book", "proceeding", record.title or None
        c.btitle = c.title = record.journal or None
    else:
        c.format, c.genre = "journal", "article"
        c.atitle = record.title or None
        c.jtitle = c.title = record.journal or None
    c.authors = list(record.creators)
    if record.creators:
        family, given = split_name(record.creators[0])
        c.aulast, c.aufirst = family or None, given or None
    c.doi = record.doi or None
    c.issn = record.issn[0] if record.issn else None
    c.isbn = record.isbn[0] if record.isbn else None
    c.year = record.year
    c.date = str(record.year) if record.year else None
    c.volume, c.issue = record.volume or None, record.issue or None
    sp, ep = _page_range(record.pages)
    c.spage, c.epage = sp or None, ep or None
    c.pages = record.pages or None
    return c


def to_kev(record: Record) -> str:
    """OpenURL 1.0 KEV of the record (also the ``title`` of its COinS span)."""
    return citation_to_kev(to_citation(record), rfr_id=RFR_ID)


# ------------------------------------------------------------------- meta for crawlers


def highwire_meta(record: Record) -> list[tuple[str, str]]:
    """Highwire Press ``citation_*`` tags (Google Scholar, Zotero) as (name, content)."""
    tags: list[tuple[str, str]] = []
    if record.title:
        tags.append(("citation_title", record.title))
    tags += [("citation_author", a) for a in record.creators]
    if record.year:
        tags.append(("citation_publication_date", str(record.year)))
    if record.journal:
        tags.append(("citation_journal_title", record.journal))
    for name, value in (("citation_volume", record.volume), ("citation_issue", record.issue)):
        if value:
            tags.append((name, value))
    sp, ep = _page_range(record.pages)
    if sp:
        tags.append(("citation_firstpage", sp))
    if ep:
        tags.append(("citation_lastpage", ep))
    if record.publisher:
        name = ("citation_dissertation_institution" if record.type in ("thesis", "dissertation")
                else "citation_publisher")
        tags.append((name, record.publisher))
    if record.doi:
        tags.append(("citation_doi", record.doi))
    tags += [("citation_issn", v) for v in record.issn]
    tags += [("citation_isbn", v) for v in record.isbn]
    if record.language:
        tags.append(("citation_language", LANG_TAGS.get(record.language, record.language)))
    tags += [("citation_keywords", s) for s in record.subjects]
    tags += [("citation_pdf_url", u) for u in record.fulltext_links if u.lower().endswith(".pdf")]
    if record.abstract:
        tags.append(("citation_abstract", record.abstract))
    return tags


SCHEMA_TYPES = {"article": "ScholarlyArticle", "thesis": "Thesis", "dissertation": "Thesis",
                "book": "Book", "report": "Report", "conference paper": "ScholarlyArticle",
                "dataset": "Dataset"}


def json_ld(record: Record, url: str) -> dict[str, Any]:
    """schema.org description of the record (embed with ``|tojson``, which escapes ``<``)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(record.type, "CreativeWork"),
        "@id": url,
        "url": url,
        "name": record.title,
        "author": [{"@type": "Person", "name": a} for a in record.creators],
    }
    optional = {"datePublished": str(record.year) if record.year else None,
                "abstract": record.abstract, "keywords": ", ".join(record.subjects),
                "inLanguage": LANG_TAGS.get(record.language, record.language),
                "license": record.licence, "isAccessibleForFree": record.access == "open"}
    data.update({k: v for k, v in optional.items() if v not in (None, "")})
    if record.publisher:
        data["publisher"] = {"@type": "Organization", "name": record.publisher}
    if record.journal:
        data["isPartOf"] = {"@type": "Periodical", "name": record.journal,
                            **({"issn": record.issn} if record.issn else {})}
    ids = [doi_url(record), handle_url(record), *(f"urn:isbn:{i}" for i in record.isbn)]
    if any(ids):
        data["sameAs"] = [i for i in ids if i]
    return data
