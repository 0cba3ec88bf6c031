"""MODS 3.x (``mods``)."""

from __future__ import annotations

from lxml import etree

from harvesters.crosswalk._common import Draft, text_of, xpath_elements, xpath_strings
from harvesters.normalize import clean_text

NS_MODS = "http://www.loc.gov/mods/v3"
NS_XLINK = "http://www.w3.org/1999/xlink"
_NS = {"m": NS_MODS}

_CONTRIBUTOR_ROLES = {
    "ths", "dgs", "edt", "trl", "ill", "ctb", "thesis advisor", "advisor", "editor",
    "translator", "degree supervisor", "illustrator", "contributor", "người hướng dẫn",
    "biên tập",
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
    for info in xpath_elements(mods, "m:titleInfo", _NS):
        def part(name: str, info: etree._Element = info) -> str:
            return " ".join(text_of(e) for e in xpath_elements(info, f"m:{name}", _NS))

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
    parts = {p.get("type"): text_of(p) for p in xpath_elements(name_el, "m:namePart", _NS)}
    if "family" in parts or "given" in parts:
        text = ", ".join(v for v in (parts.get("family"), parts.get("given")) if v)
    else:
        text = " ".join(text_of(p) for p in xpath_elements(name_el, "m:namePart", _NS))
    if not text:
        text = " ".join(text_of(d) for d in xpath_elements(name_el, "m:displayForm", _NS))
    return text


def _is_contributor(name_el: etree._Element) -> bool:
    roles = {text_of(r).casefold() for r in xpath_elements(name_el, "m:role/m:roleTerm", _NS)}
    return bool(roles & _CONTRIBUTOR_ROLES)


def _add_part(draft: Draft, part_el: etree._Element) -> None:
    for detail in xpath_elements(part_el, "m:detail", _NS):
        number = clean_text(" ".join(xpath_strings(detail, "m:number//text()", _NS)))
        kind = (detail.get("type") or "").lower()
        if kind in {"volume", "issue"} and number:
            getattr(draft, kind).append(number)
        elif kind == "number" and number:
            draft.issue.append(number)
    for extent in xpath_elements(part_el, "m:extent", _NS):
        start = clean_text(" ".join(xpath_strings(extent, "m:start//text()", _NS)))
        end = clean_text(" ".join(xpath_strings(extent, "m:end//text()", _NS)))
        listed = clean_text(" ".join(xpath_strings(extent, "m:list//text()", _NS)))
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
        return [text_of(e) for e in xpath_elements(mods, path, _NS)]

    draft.titles.extend(_titles(mods))
    for name_el in xpath_elements(mods, "m:name", _NS):
        (draft.contributors if _is_contributor(name_el) else draft.creators).append(
            _name(name_el)
        )
    for subject in xpath_elements(mods, "m:subject", _NS):
        terms = [
            _name(c) if etree.QName(c).localname == "name" else text_of(c)
            for c in subject
            if isinstance(c.tag, str) and etree.QName(c).localname != "cartographics"
        ]
        draft.subjects.append(" -- ".join(t for t in terms if t))
    draft.abstracts.extend(texts("m:abstract"))

    for origin in xpath_elements(mods, "m:originInfo", _NS):
        draft.publishers.extend(texts_of(origin, "m:publisher"))
        issued = xpath_elements(origin, "m:dateIssued", _NS)
        keyed = [e for e in issued if e.get("keyDate") == "yes"]
        draft.issued.extend(text_of(e) for e in keyed + [e for e in issued if e not in keyed])
        draft.dates.extend(texts_of(origin, "m:dateCreated | m:copyrightDate | m:dateOther"))

    draft.types.extend(texts("m:genre") + texts("m:typeOfResource"))
    draft.languages.extend(
        texts("m:language/m:languageTerm[@type='code']")
        + texts("m:language/m:languageTerm[not(@type='code')]")
    )

    for ident in xpath_elements(mods, "m:identifier", _NS):
        kind = (ident.get("type") or "").lower()
        target = _TYPED_IDENTIFIERS.get(kind, "identifiers")
        getattr(draft, target).append(text_of(ident))
    for url in xpath_elements(mods, "m:location/m:url", _NS):
        # the object itself (a file) is the full text; the other locations are links to
        # the record (a landing page). A link that is both is listed once as each.
        if url.get("access") == "raw object":
            draft.fulltext.append(text_of(url))
        else:
            draft.identifiers.append(text_of(url))

    for condition in xpath_elements(mods, "m:accessCondition", _NS):
        draft.rights.extend(v for v in (text_of(condition), condition.get(f"{{{NS_XLINK}}}href"))
                            if v)

    for host in xpath_elements(mods, "m:relatedItem[@type='host']", _NS):
        # A host is also how MODS names the collection an item belongs to; only a host with
        # enumeration or an ISSN is the journal an article appeared in.
        if xpath_elements(host, "m:part | m:identifier[@type='issn']", _NS) or xpath_elements(
            mods, "m:part", _NS
        ):
            draft.journal.extend(texts_of(host, "m:titleInfo/m:title"))
        draft.issns.extend(texts_of(host, "m:identifier[@type='issn']"))
        for part_el in xpath_elements(host, "m:part", _NS):
            _add_part(draft, part_el)
    for part_el in xpath_elements(mods, "m:part", _NS):
        _add_part(draft, part_el)
    return draft


def texts_of(element: etree._Element, path: str) -> list[str]:
    """Cleaned text of every match of an XPath (mods: prefix) below an element."""
    return [text_of(e) for e in xpath_elements(element, path, _NS)]
