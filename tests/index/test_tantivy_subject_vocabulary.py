"""Subject facets over a large subject vocabulary (a real union holds hundreds of thousands of
distinct subjects): the work stays bounded — no walk over every subject term, no count of
every value — and the subjects listed carry the counts the set algebra gives them."""

from __future__ import annotations

import pytest

from index import open_index
from index.discovery import SearchSnapshot
from index.tantivy_engine import query as tantivy_query
from index.tantivy_engine import snapshot as tantivy_snapshot
from tests.support.catalogue import rec

COMMON = ["Kinh tế", "Nông nghiệp", "Giáo dục"]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):  # type: ignore[no-untyped-def]
    records = []
    for i in range(240):
        subjects = [COMMON[i % 3], f"Chủ đề riêng {i}"]  # one rare subject a record
        if i % 4 == 0:
            subjects.append("Môi trường")
        records.append(rec(f"r{i}", f"Nghiên cứu vùng {i % 5}", year=2000 + i % 20,
                           subjects=subjects, doi=f"10.7777/w{i // 2}" if i < 60 else None,
                           institution=["Đại học Huế", "Đại học Vinh"][i % 2]))
    path = tmp_path_factory.mktemp("vocab") / "index"
    index = open_index(path, engine="tantivy")
    with index.writer() as w:
        w.add(records)
    return open_index(path, readonly=True)


@pytest.fixture
def large(monkeypatch):  # type: ignore[no-untyped-def]
    """This index's 244 subjects count as a large vocabulary; 6 spellings are counted."""
    monkeypatch.setattr(tantivy_query, "SUBJECT_TERMS", 50)
    monkeypatch.setattr(tantivy_query, "SUBJECT_TOP", 6)
    monkeypatch.setattr(tantivy_query, "_SUBJECT_TOP_AGG",
                        {"subject": {"terms": {"field": "subject", "size": 6}}})
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)


def _subjects(res) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f.value: f.count for f in res.facets["subject"]}


@pytest.mark.parametrize("by_score", [True, False])
@pytest.mark.parametrize(("q", "filters"), [
    ("nghien cuu", None), ("vung 3", None), ("nghien cuu", {"institution": ["Đại học Vinh"]})])
def test_the_leading_subjects_as_the_set_algebra_counts_them(ix, large, monkeypatch, by_score,
                                                            q, filters
                                                            ):  # type: ignore[no-untyped-def]
    if by_score:
        monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_MATCHES", 0)
    snap = ix._snapshot()
    res = ix.search(q, filters=filters)
    with monkeypatch.context() as m:
        m.setattr(snap, "works", lambda *a, **k: SearchSnapshot.works(snap, *a, **k))
        full = ix.search(q, filters=filters)
    ours, theirs = _subjects(res), _subjects(full)
    assert res.total == full.total > 0
    assert 0 < len(ours) <= 6 < len(theirs)  # bounded: the rare subjects are not counted
    assert all(theirs[v] == n for v, n in ours.items())  # exact for those listed
    leaders = sorted(theirs.values(), reverse=True)[:len(ours)]
    assert sorted(ours.values(), reverse=True) == leaders
    assert {f: v for f, v in res.facets.items() if f != "subject"} == \
        {f: v for f, v in full.facets.items() if f != "subject"}


def test_a_small_vocabulary_is_counted_in_full(ix, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)
    snap = ix._snapshot()
    res = ix.search("nghien cuu")
    with monkeypatch.context() as m:
        m.setattr(snap, "works", lambda *a, **k: SearchSnapshot.works(snap, *a, **k))
        full = ix.search("nghien cuu")
    assert res.facets == full.facets
    assert snap.subject_vocabulary() == 244
