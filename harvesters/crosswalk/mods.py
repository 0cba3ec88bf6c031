"""MODS 3.x (``mods``)."""

from __future__ import annotations

from lxml import etree

from harvesters.crosswalk._common import Draft, text_of
from harvesters.normalize import clean_text

NS_MODS = "http://www.loc.gov/mods/v3"
NS_XLINK = "http://www.w3.org/1999/xlink"
_NS = {"m": NS_MODS}

_CONTRIBUTOR_ROLES = {
    "ths", "dgs", "edt", "trl", "ill", "thesis advisor", "advisor", "editor", "translator",
    "degree supervisor", "illustrator", "người hướng dẫn", "biên tập",
}
_TYPED_IDENTIFIERS = {"doi": "dois", "isbn": "isbns", "issn": "issns", "hdl": "handles",
                      "handle": "handles"}


def _mods_element(metadata: etree._Element) -> etree._Element:
    if etree.QName(metadata).localname == "modsCollection":
        found = metadata.find("m:mods", _NS)
        if found is not None:
            return found
    return metadata


def _titles(mods: etree._Element) -> list[str]:
    titles = []
    for info in mods.xpath("m:titleInfo", namespaces=_NS):
        def part(name: str, info: etree._Element = info) -> str:
            return " ".join(text_of(e) for e in info.xpath(f"m:{name}", namespaces=_NS))

        # nonSort carries its own trailing space ("The ") in most records, not all.
        non_sort, main = part("nonSort"), part("title")
        title = f"{non_sort} {main}".strip() if non_sort and not non_sort.endswith("'") else (
            non_sort + main
        )
        if sub := part("subTitle"):
            title = f"{title}: {sub}"
        for extra in (part("partNumber"), part("partName")):
            if extra:
                title = f"{title}. {extra}"
        titles.append(title)
    return titles


def _name(name_el: etree._Element) -> str:
    parts = {p.get("type"): text_of(p) for p in name_el.xpath("m:namePart", namespaces=_NS)}
    if "family" in parts or "given" in parts:
        text = ", ".join(v for v in (parts.get("family"), parts.get("given")) if v)
    else:
        text = " ".join(text_of(p) for p in name_el.xpath("m:namePart", namespaces=_NS))
    if not text:
        text = " ".join(text_of(d) for d in name_el.xpath("m:displayForm", namespaces=_NS))
    return text


def _is_contributor(name_el: etree._Element) -> bool:
    roles = {text_of(r).casefold() for r in name_el.xpath("m:role/m:roleTerm", namespaces=_NS)}
    return bool(roles & _CONTRIBUTOR_ROLES)


def _add_part(draft: Draft, part_el: etree._Element) -> None:
    for detail in part_el.xpath("m:detail", namespaces=_NS):
        number = clean_text(" ".join(detail.xpath("m:number//text()", namespaces=_NS)))
        kind = (detail.get("type") or "").lower()
        if kind in {"volume", "issue"} and number:
            getattr(draft, kind).append(number)
        elif kind == "number" and number:
            draft.issue.append(number)
    for extent in part_el.xpath("m:extent", namespaces=_NS):
        start = clean_text(" ".join(extent.xpath("m:start//text()", namespaces=_NS)))
        end = clean_text(" ".join(extent.xpath("m:end//text()", namespaces=_NS)))
        listed = clean_text(" ".join(extent.xpath("m:list//text()", namespaces=_NS)))
        if start:
            draft.pages.append(start)
            draft.end_pages.append(end)
        elif listed:
            draft.pages.append(listed)


def to_draft(metadata: etree._Element) -> Draft:
    """Collect the values of one MODS record (the top-level description, not related items)."""
    mods = _mods_element(metadata)
    draft = Draft()

    def texts(path: str) -> list[str]:
        return [text_of(e) for e in mods.xpath(path, namespaces=_NS)]

    draft.titles.extend(_titles(mods))
    for name_el in mods.xpath("m:name", namespaces=_NS):
        (draft.contributors if _is_contributor(name_el) else draft.creators).append(
            _name(name_el)
        )
    for subject in mods.xpath("m:subject", namespaces=_NS):
        terms = [
            _name(c) if etree.QName(c).localname == "name" else text_of(c)
            for c in subject
            if isinstance(c.tag, str) and etree.QName(c).localname != "cartographics"
        ]
        draft.subjects.append(" -- ".join(t for t in terms if t))
    draft.abstracts.extend(texts("m:abstract"))

    for origin in mods.xpath("m:originInfo", namespaces=_NS):
        draft.publishers.extend(texts_of(origin, "m:publisher"))
        issued = origin.xpath("m:dateIssued", namespaces=_NS)
        keyed = [e for e in issued if e.get("keyDate") == "yes"]
        draft.issued.extend(text_of(e) for e in keyed + [e for e in issued if e not in keyed])
        draft.dates.extend(texts_of(origin, "m:dateCreated | m:copyrightDate | m:dateOther"))

    draft.types.extend(texts("m:genre") + texts("m:typeOfResource"))
    draft.languages.extend(
        texts("m:language/m:languageTerm[@type='code']")
        + texts("m:language/m:languageTerm[not(@type='code')]")
    )

    for ident in mods.xpath("m:identifier", namespaces=_NS):
        kind = (ident.get("type") or "").lower()
        target = _TYPED_IDENTIFIERS.get(kind, "identifiers")
        getattr(draft, target).append(text_of(ident))
    for url in mods.xpath("m:location/m:url", namespaces=_NS):
        draft.identifiers.append(text_of(url))
        if url.get("access") == "raw object":
            draft.fulltext.append(text_of(url))

    for condition in mods.xpath("m:accessCondition", namespaces=_NS):
        draft.rights.extend(v for v in (text_of(condition), condition.get(f"{{{NS_XLINK}}}href"))
                            if v)

    for host in mods.xpath("m:relatedItem[@type='host']", namespaces=_NS):
        # A host is also how MODS names the collection an item belongs to; only a host with
        # enumeration or an ISSN is the journal an article appeared in.
        if host.xpath("m:part | m:identifier[@type='issn']", namespaces=_NS) or mods.xpath(
            "m:part", namespaces=_NS
        ):
            draft.journal.extend(texts_of(host, "m:titleInfo/m:title"))
        draft.issns.extend(texts_of(host, "m:identifier[@type='issn']"))
        for part_el in host.xpath("m:part", namespaces=_NS):
            _add_part(draft, part_el)
    for part_el in mods.xpath("m:part", namespaces=_NS):
        _add_part(draft, part_el)
    return draft


def texts_of(element: etree._Element, path: str) -> list[str]:
    """Cleaned text of every match of an XPath (mods: prefix) below an element."""
    return [text_of(e) for e in element.xpath(path, namespaces=_NS)]
