"""Every title of the shared OAI-PMH corpus finds its other copies the way the record page
looks for them (a ``title:"…"`` phrase of the title as written): issue 11, where titles
such as "The Polygram, February 8, 1924" missed every copy."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from lxml import etree

from harvesters.crosswalk import CrosswalkError, Header, crosswalk, format_of
from index import Record, open_index
from resolver.discovery.works import cluster_of

OAI_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "oai"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not OAI_DIR.is_dir(), reason=f"shared OAI corpus not found at {OAI_DIR}"),
]
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _records() -> list[Record]:
    out: list[Record] = []
    for f, path in enumerate(sorted(OAI_DIR.rglob("*.xml"))):
        text = _ILLEGAL_XML.sub("", path.read_bytes().decode("utf-8", errors="replace"))
        try:
            root = etree.fromstring(text.encode("utf-8"))
        except etree.XMLSyntaxError:
            continue
        for n, rec in enumerate(root.iter("{*}record")):
            meta = next((c for c in rec if isinstance(c.tag, str)
                         and etree.QName(c).localname == "metadata"), None)
            payload = next((c for c in meta if isinstance(c.tag, str)), None) \
                if meta is not None else None
            if payload is None:
                continue
            try:
                r = crosswalk(format_of("", payload) or "", payload, Header(f"oai:{f}:{n}", ""),
                              repository=f"src{f}", institution="A")
            except CrosswalkError:
                continue
            if r.title:  # only what the title search and the clustering read: fast
                out.append(Record(id=f"a-{f}-{n}", oai_identifier=r.oai_identifier,
                                  repository=r.repository, institution="A", titles=r.titles,
                                  creators=r.creators[:1], year=r.year,
                                  doi=f"10.9999/{f}.{n}"))
    return out


def test_record_page_finds_the_other_copy_of_every_real_title(tmp_path, engine):
    originals = _records()
    assert len(originals) > 3000
    copies = [dataclasses.replace(r, id="b" + r.id[1:], institution="B", repository="other")
              for r in originals]
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add(originals + copies)
    # The corpus repeats some records, so a cluster may hold more than these two.
    missed = [r.title for r in originals
              if "b" + r.id[1:] not in [h.id for h in cluster_of(ix, r)]]
    assert not missed, f"{len(missed)} of {len(originals)}: {missed[:10]}"
