"""Every record of the shared OAI-PMH corpus through crosswalk() (skipped without the corpus)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from harvesters.crosswalk import CrosswalkError, Header, crosswalk, format_of
from harvesters.normalize import clean_text

OAI_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "oai"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not OAI_DIR.is_dir(), reason=f"shared OAI corpus not found at {OAI_DIR}"),
]

NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "marc": "http://www.loc.gov/MARC21/slim",
    "mods": "http://www.loc.gov/mods/v3",
    "dim": "http://www.dspace.org/xmlns/dspace/dim",
    "xoai": "http://www.lyncode.com/xoai",
}


def _parse(path: Path) -> etree._Element | None:
    data = path.read_bytes()
    try:
        return etree.fromstring(data)
    except etree.XMLSyntaxError:
        pass
    try:
        cleaned = _ILLEGAL_XML.sub("", data.decode("utf-8", errors="replace"))
        return etree.fromstring(cleaned.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None  # broken pages are another test's business


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _payloads(root: etree._Element) -> Iterator[tuple[Header, etree._Element]]:
    """(header, metadata child) of every OAI record; bare metadata fragments get a dummy header."""
    if _local(root) in {"dc", "metadata"} and not any(
        isinstance(c.tag, str) and _local(c) == "record" for c in root.iter()
    ):
        yield Header("oai:fragment", ""), root
        return
    for rec in root.iter("{*}record"):
        kids = [c for c in rec if isinstance(c.tag, str)]
        head = next((c for c in kids if _local(c) == "header"), None)
        meta = next((c for c in kids if _local(c) == "metadata"), None)
        if head is None or meta is None:
            continue
        payload = next((c for c in meta if isinstance(c.tag, str)), None)
        if payload is None:
            continue
        ident = next((clean_text(c.text) for c in head if _local(c) == "identifier"), "")
        stamp = next((clean_text(c.text) for c in head if _local(c) == "datestamp"), "")
        yield Header(ident, stamp), payload


def _text(el: etree._Element) -> str:
    return clean_text("".join(el.itertext()))


def _source_title(fmt: str, payload: etree._Element) -> str:
    """The first title as the source gives it, found independently of the crosswalks."""
    if fmt == "oai_dc":
        found = payload.xpath("dc:title | *[local-name()='title']", namespaces=NS)
    elif fmt == "marcxml":
        found = payload.xpath(
            "*[local-name()='datafield'][@tag='245']/*[local-name()='subfield'][@code='a']"
        )
    elif fmt == "mods":
        found = payload.xpath("mods:titleInfo/mods:title", namespaces=NS)
    elif fmt == "dim":
        found = payload.xpath(
            "dim:field[@element='title'][not(@qualifier)][@mdschema='dc']", namespaces=NS
        )
    elif fmt == "xoai":
        found = payload.xpath(
            "xoai:element[@name='dc']/xoai:element[@name='title']"
            "/descendant-or-self::xoai:element[count(ancestor::xoai:element)<=2]"
            "/xoai:field[@name='value']",
            namespaces=NS,
        )
    else:
        return ""
    return next((t for t in (_text(e) for e in found) if t), "")


def test_every_record_crosswalks_and_keeps_its_title() -> None:
    stats: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    mismatches: list[str] = []
    for path in sorted(OAI_DIR.rglob("*.xml")):
        root = _parse(path)
        if root is None:
            stats["files skipped (not well-formed)"] += 1
            continue
        seen = False
        for header, payload in _payloads(root):
            seen = True
            fmt = format_of("", payload) or _local(payload)
            try:
                record = crosswalk(fmt, payload, header, repository="test", institution="T")
            except CrosswalkError:
                unsupported[fmt] += 1
                continue
            stats["records"] += 1
            expected = _source_title(format_of("", payload) or "", payload)
            if not expected:
                continue
            stats["with title"] += 1
            # MARC/MODS titles add $b / subTitle / nonSort around the main title.
            got = record.title
            exact = fmt in {"oai_dc", "dim", "xoai"}
            marc_main = expected.rstrip(" /:;,=.")
            ok = got == expected if exact else (marc_main in got)
            if ok:
                stats["title matched"] += 1
            else:
                mismatches.append(f"{path.name} {header.identifier}: {expected!r} -> {got!r}")
        stats["files with records"] += seen
    print(f"\nrealdata crosswalk: {dict(stats)}; CrosswalkError by format: {dict(unsupported)}")
    assert stats["records"] > 3000
    assert not mismatches, "\n".join(mismatches[:20])
    assert set(unsupported) <= {"arXiv", "mets", "rfc1807", "resource", "foo"}, unsupported
