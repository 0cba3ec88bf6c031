"""MARC21 slim (``marcxml`` / ``marc21``), as Koha and library systems serve it."""

from __future__ import annotations

import re

from lxml import etree

from harvesters.crosswalk._common import Draft, all_text
from harvesters.normalize import clean_text, is_fulltext_url, map_type, trim_punctuation

NS_MARC = "http://www.loc.gov/MARC21/slim"

# Relator codes/terms (700 $4/$e) for people who are not authors of the work.
_CONTRIBUTOR_ROLES = re.compile(
    r"\b(?:ths|dgs|edt|trl|ill|adv|advisor|editor|ed\.|translator|supervisor"
    r"|hướng dẫn|người hướng dẫn|biên tập|dịch|hiệu đính)\b",
    re.IGNORECASE,
)


class _Marc:
    """Namespace-agnostic accessors over one MARC record element."""

    def __init__(self, record: etree._Element) -> None:
        ns = etree.QName(record).namespace
        self.q = f"{{{ns}}}" if ns else ""
        self.record = record

    def leader(self) -> str:
        el = self.record.find(f"{self.q}leader")
        return (el.text or "") if el is not None else ""

    def control(self, tag: str) -> str:
        for el in self.record.iterfind(f"{self.q}controlfield"):
            if el.get("tag") == tag:
                return el.text or ""
        return ""

    def fields(self, *tags: str) -> list[etree._Element]:
        return [f for f in self.record.iterfind(f"{self.q}datafield") if f.get("tag") in tags]

    def subfields(self, field_el: etree._Element, codes: str) -> list[tuple[str, str]]:
        return [
            (sf.get("code") or "", clean_text(all_text(sf)))
            for sf in field_el.iterfind(f"{self.q}subfield")
            if (sf.get("code") or "") in codes
        ]

    def values(self, tags: tuple[str, ...], code: str) -> list[str]:
        return [v for f in self.fields(*tags) for _, v in self.subfields(f, code) if v]


def _record_element(metadata: etree._Element) -> etree._Element:
    # <marc:collection> wrappers hold one record per OAI record.
    if etree.QName(metadata).localname == "collection":
        for child in metadata:
            if isinstance(child.tag, str) and etree.QName(child).localname == "record":
                return child
    return metadata


def _join(parts: list[tuple[str, str]], separators: dict[str, str]) -> str:
    text = ""
    for code, value in parts:
        value = trim_punctuation(value)
        if value:
            text = f"{text}{separators.get(code, ' ') if text else ''}{value}"
    return text


def _title(marc: _Marc, field_el: etree._Element) -> str:
    return _join(marc.subfields(field_el, "abnp"), {"b": " : ", "n": ". ", "p": ". "})


def _leader_type(leader: str) -> str:
    if len(leader) < 8:
        return "other"
    kind, level = leader[6], leader[7]
    if kind in "at" and level in "ab":
        return "article"
    if kind in "at" and level in "mc":
        return "book"
    return "other"


def to_draft(metadata: etree._Element) -> Draft:
    """Collect the values of one MARC21 slim record."""
    marc = _Marc(_record_element(metadata))
    draft = Draft()

    for f in marc.fields("245"):
        draft.titles.append(_title(marc, f))
    for f in marc.fields("246", "240", "242"):
        draft.titles.append(_title(marc, f))

    for f in marc.fields("100", "110", "111"):
        draft.creators.append(_join(marc.subfields(f, "a"), {}))
    for f in marc.fields("700", "710", "711"):
        name = _join(marc.subfields(f, "a"), {})
        roles = " ".join(v for _, v in marc.subfields(f, "e4"))
        (draft.contributors if _CONTRIBUTOR_ROLES.search(roles) else draft.creators).append(name)

    for f in marc.fields("600", "610", "611", "630", "650", "651", "653"):
        draft.subjects.append(_join(marc.subfields(f, "abcdvxyz"), {c: " -- " for c in "vxyz"}))
    draft.abstracts.extend(marc.values(("520",), "a"))

    # 264 second indicator 1 = publication; 260 is the pre-RDA field.
    publication = [f for f in marc.fields("264") if f.get("ind2") == "1"] + marc.fields("260")
    for f in publication:
        draft.publishers.extend(trim_punctuation(v) for _, v in marc.subfields(f, "b"))
        draft.issued.extend(trim_punctuation(v) for _, v in marc.subfields(f, "c"))
    fixed = marc.control("008")
    if len(fixed) >= 11 and fixed[7:11].isdigit():
        draft.dates.append(fixed[7:11])

    languages = marc.values(("041",), "a")
    if len(fixed) >= 38:
        languages.append(fixed[35:38])
    draft.languages.extend(v for v in languages if v.strip(" |"))

    draft.isbns.extend(marc.values(("020",), "a"))
    draft.issns.extend(marc.values(("022",), "a"))
    for f in marc.fields("024"):
        scheme = " ".join(v for _, v in marc.subfields(f, "2")).lower()
        for _, value in marc.subfields(f, "a"):
            (draft.dois if scheme == "doi" or value.startswith("10.") else draft.identifiers
             ).append(value)

    for f in marc.fields("856"):
        notes = " ".join(v for _, v in marc.subfields(f, "3yqz")).lower()
        for _, url in marc.subfields(f, "u"):
            draft.identifiers.append(url)
            # Koha links often carry no ".pdf"; the link text ("Toàn văn") says what it is.
            if any(w in notes for w in ("pdf", "toàn văn", "full text")) or is_fulltext_url(url):
                draft.fulltext.append(url)

    for f in marc.fields("773"):
        draft.journal.extend(trim_punctuation(v) for _, v in marc.subfields(f, "t"))
        draft.citations.extend(v for _, v in marc.subfields(f, "g"))
        draft.issns.extend(v for _, v in marc.subfields(f, "x"))

    for f in marc.fields("506", "540"):
        draft.rights.extend(v for _, v in marc.subfields(f, "afu"))

    thesis_notes = marc.values(("502",), "abcd")
    genres = marc.values(("655",), "a")
    if thesis_notes:
        draft.type = "dissertation" if map_type(thesis_notes) == "dissertation" else "thesis"
    elif genres and map_type(genres) != "other":
        draft.type = map_type(genres)
    elif len(fixed) >= 28 and "m" in fixed[24:28] and marc.leader()[6:7] in {"a", "t"}:
        draft.type = "thesis"  # 008/24-27 nature of contents "m" = theses
    else:
        draft.type = _leader_type(marc.leader())
    return draft
