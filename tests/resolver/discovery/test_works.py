"""A record's work as the record page and the API list it (resolver/discovery/works.py)."""

from __future__ import annotations

import index
from index.record import Record
from resolver.discovery.works import cluster_of


def _copy(rid: str, institution: str, title: str) -> Record:
    return Record(id=rid, oai_identifier=f"oai:{rid}", repository=f"{institution}-repo",
                  institution=institution, titles=[title], doi="10.5555/lu-lut-2020",
                  year=2020, creators=["Nguyễn Văn An"])


def test_copies_with_different_titles_are_one_work_itself_first(tmp_path):  # type: ignore[no-untyped-def]
    """Copies joined by a DOI need not share a title: the old title-phrase search missed
    them (and listed nothing for an untitled copy)."""
    ix = index.open_index(tmp_path / "index")
    copies = [_copy("tvu-1", "tvu", "Lũ lụt ở đồng bằng sông Cửu Long"),
              _copy("hue-1", "hue", "Flooding in the Mekong Delta"),
              _copy("ctu-1", "ctu", "")]
    with ix.writer() as w:
        w.add(copies)
    for shown in copies:
        got = [r.id for r in cluster_of(ix, shown)]
        assert got[0] == shown.id
        assert sorted(got) == ["ctu-1", "hue-1", "tvu-1"]
    alone = _copy("vnu-9", "vnu", "Không có bản sao")
    alone.doi = None
    assert [r.id for r in cluster_of(ix, alone)] == ["vnu-9"]  # not indexed: itself only
