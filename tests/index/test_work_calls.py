"""The index calls callers used to work around: a record's work (``cluster_of``) and every
id (``iter_ids``), on every engine.

The record page found a record's work with a title-phrase search and the sitemap walked
every page of a match-all search (resolver/discovery/works.py, resolver/views/meta.py);
these tests pin the direct calls that replace both.
"""

from __future__ import annotations

import itertools

import pytest

from index import open_index
from index.record import Record


def _rec(rid: str, institution: str, doi: str | None = None, title: str = "") -> Record:
    return Record(id=rid, oai_identifier=f"oai:{rid}", repository=f"{institution}-repo",
                  institution=institution, titles=[title or f"Tác phẩm {rid}"], doi=doi,
                  year=2020, creators=[f"Tác giả {rid}"])


@pytest.fixture
def works(tmp_path, engine):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path / "index", engine=engine)
    with ix.writer() as w:
        w.add([_rec("tvu-1", "tvu", doi="10.1234/flood"), _rec("hue-1", "hue", doi="10.1234/flood"),
               _rec("ctu-1", "ctu", doi="10.1234/flood"), _rec("ctu-0", "ctu", doi="10.1234/flood"),
               _rec("hue-2", "hue")])
    return ix


def test_cluster_of_lists_every_copy_by_institution_then_id(works):  # type: ignore[no-untyped-def]
    expected = ["ctu-0", "ctu-1", "hue-1", "tvu-1"]
    for rid in expected:
        assert [r.id for r in works.cluster_of(rid)] == expected


def test_cluster_of_a_singleton_and_an_unknown_id(works):  # type: ignore[no-untyped-def]
    assert [r.id for r in works.cluster_of("hue-2")] == ["hue-2"]
    assert works.cluster_of("nowhere-9") == []


def test_cluster_of_after_an_update_moves_a_record_out(works):  # type: ignore[no-untyped-def]
    with works.writer() as w:
        w.add([_rec("hue-1", "hue", doi="10.1234/drought")])
    assert [r.id for r in works.cluster_of("hue-1")] == ["hue-1"]
    assert [r.id for r in works.cluster_of("tvu-1")] == ["ctu-0", "ctu-1", "tvu-1"]
    with works.writer() as w:
        w.delete(["ctu-0"])
    assert [r.id for r in works.cluster_of("ctu-1")] == ["ctu-1", "tvu-1"]
    assert works.cluster_of("ctu-0") == []


def test_iter_ids_is_added_minus_deleted_without_searching(tmp_path, engine,  # type: ignore[no-untyped-def]
                                                           monkeypatch):
    ix = open_index(tmp_path / "index", engine=engine)
    ids = [f"r{i:05d}" for i in range(3000)]
    for start in range(0, len(ids), 1000):  # several commits: several segments
        with ix.writer() as w:
            w.add(_rec(i, ("hue", "tvu", "ctu")[n % 3])
                  for n, i in enumerate(ids[start:start + 1000]))
    gone = set(ids[::7])
    with ix.writer() as w:
        w.delete(gone)

    def no_search(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("iter_ids must not page through searches")

    monkeypatch.setattr(ix, "search", no_search)
    stream = ix.iter_ids()
    assert not isinstance(stream, (list, tuple, set))  # a stream, not a materialised list
    got = list(stream)
    assert len(got) == len(set(got))
    assert set(got) == set(ids) - gone


def test_recent_is_newest_first_and_respects_the_limit(tmp_path, engine,  # type: ignore[no-untyped-def]
                                                       monkeypatch):
    clock = itertools.count(1_700_000_000, 10)  # every commit one tick later
    monkeypatch.setattr("time.time", lambda: float(next(clock)))
    ix = open_index(tmp_path / "index", engine=engine)
    assert ix.recent(5) == []
    for batch in (["a1", "a2"], ["b1"], ["c1", "c2", "c3"]):
        with ix.writer() as w:
            w.add(_rec(i, "hue") for i in batch)
    with ix.writer() as w:  # an update makes an old record new again
        w.add([_rec("a1", "hue", title="Tác phẩm sửa lại")])
    got = [r.id for r in ix.recent(4)]
    assert got[0] == "a1"
    assert set(got[1:]) == {"c1", "c2", "c3"}
    assert [r.id for r in ix.recent(1)] == ["a1"]
    everything = [r.id for r in ix.recent(100)]
    assert len(everything) == 6
    assert everything[0] == "a1" and everything[4:] == ["b1", "a2"]
    assert ix.recent(0) == []


def test_recent_on_a_whoosh_index_made_before_the_indexed_field(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Whoosh keeps the schema it was made with: an existing index has no ``indexed``
    field, and must keep accepting records and answering ``recent`` without a rebuild."""
    from index.whoosh_engine import schema, storage

    def old_schema():  # type: ignore[no-untyped-def]
        s = schema.build_schema()
        s.remove("indexed")
        return s

    monkeypatch.setattr(storage, "build_schema", old_schema)
    ix = open_index(tmp_path / "index", engine="whoosh")
    monkeypatch.undo()
    for batch in (["a1", "a2"], ["b1"]):
        with ix.writer() as w:
            w.add(_rec(i, "hue") for i in batch)
    assert sorted(ix.iter_ids()) == ["a1", "a2", "b1"]
    assert [r.id for r in ix.recent(1)] == ["b1"]
    assert {r.id for r in ix.recent(10)} == {"a1", "a2", "b1"}
