"""Every dc:source of the shared OAI-PMH corpus through parse_source_citation (skipped without
the corpus): a year in brackets never becomes an issue or a volume, and the
"journal, volume(issue), pages, (date)" shape Zenodo writes is read field by field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from harvesters.normalize import clean_text, parse_source_citation

OAI_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "oai"
DC_SOURCE = "{http://purl.org/dc/elements/1.1/}source"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not OAI_DIR.is_dir(), reason=f"shared OAI corpus not found at {OAI_DIR}"),
]

#: Zenodo: "Journal, 5(11), 11-15, (2025-11-18)" (pages optional)
ZENODO = re.compile(r"^(?P<journal>[^()]+?), (?P<volume>\d+)\((?P<issue>\d+)\), "
                    r"(?:(?P<pages>\d+-\d+), )?\((?P<year>\d{4})-\d\d(?:-\d\d)?\)$")


def _sources() -> Iterator[str]:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    for path in sorted(OAI_DIR.rglob("*.xml")):
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        if root is None:
            continue
        for el in root.iter(DC_SOURCE):
            text = clean_text("".join(el.itertext()))
            if text:
                yield text


def test_corpus_sources_never_take_a_bracketed_year_for_an_issue() -> None:
    sources = list(_sources())
    assert len(sources) > 500
    wrong = []
    zenodo = 0
    for text in sources:
        parsed = parse_source_citation(text)
        for name in ("volume", "issue"):
            value = getattr(parsed, name)
            if value and re.search(rf"\(\s*{re.escape(value)}\s*[)\-/]", text) and \
                    re.fullmatch(r"(?:1[89]|20)\d\d", value):
                wrong.append(f"{text!r}: {name} {value}")
        if m := ZENODO.match(text):
            zenodo += 1
            expected = (m["journal"], m["volume"], m["issue"], m["pages"] or "", int(m["year"]))
            if tuple(parsed) != expected:
                wrong.append(f"{text!r}: {tuple(parsed)} != {expected}")
    assert zenodo >= 5, zenodo
    assert not wrong, "\n".join(wrong[:20])
