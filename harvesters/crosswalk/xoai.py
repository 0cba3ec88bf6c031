"""DSpace ``xoai`` format: the lyncode element/field tree.

``<element name="dc"><element name="title"><element name="vi"><field name="value">`` — the
last element level is a language ("none", "vi", "en_US", "*"), and some providers leave it out.
Beside the schemas sit ``bundles`` (bitstream URLs) and ``others`` (handle).
"""

from __future__ import annotations

import re

from lxml import etree

from harvesters.crosswalk._common import Draft, text_of, xpath_elements
from harvesters.crosswalk.dim import add_field

NS_XOAI = "http://www.lyncode.com/xoai"
_NS = {"x": NS_XOAI}
_NOT_METADATA = {"bundles", "others", "repository", "license"}
_LANGUAGE_LEVEL = re.compile(r"^(?:none|\*|[a-z]{2}(?:[_-][A-Za-z]{2})?)$")


def _path(field_el: etree._Element, root: etree._Element) -> list[str]:
    names: list[str] = []
    for ancestor in field_el.iterancestors():
        if ancestor is root:
            break
        if etree.QName(ancestor).localname == "element":
            names.append(ancestor.get("name") or "")
    return names[::-1]


def _metadata_root(metadata: etree._Element) -> etree._Element:
    # Either the xoai <metadata> element itself or a wrapper holding it.
    if etree.QName(metadata).localname == "metadata":
        return metadata
    parent = metadata.getparent()
    if etree.QName(metadata).localname == "element" and parent is not None:
        return parent  # handed the first <element> child instead of its <metadata>
    inner = metadata.find(f"{{{NS_XOAI}}}metadata")
    return inner if inner is not None else metadata


def to_draft(metadata: etree._Element) -> Draft:
    """Collect the values of one xoai record."""
    root = _metadata_root(metadata)
    draft = Draft()
    for field_el in xpath_elements(root, ".//x:field[@name='value']", _NS):
        path = _path(field_el, root)
        if len(path) < 2 or path[0] in _NOT_METADATA:
            continue
        schema, element, rest = path[0], path[1], path[2:]
        if rest and (len(rest) == 2 or _LANGUAGE_LEVEL.match(rest[-1])):
            rest = rest[:-1]
        add_field(draft, schema, element, rest[0] if rest else None, text_of(field_el))

    bitstream_urls = xpath_elements(
        root,
        "x:element[@name='bundles']/x:element[@name='bundle']"
        "[x:field[@name='name']='ORIGINAL']//x:element[@name='bitstream']"
        "/x:field[@name='url']",
        _NS,
    )
    draft.fulltext.extend(text_of(u) for u in bitstream_urls)
    handles = xpath_elements(root, "x:element[@name='others']/x:field[@name='handle']", _NS)
    draft.handles.extend(text_of(h) for h in handles)
    return draft
