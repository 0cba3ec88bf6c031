"""A tantivy snapshot keeps what a search counted (matches, works, facets), so the next page,
another order or the same query again are answered without counting again — and never with
another search's counts, nor with counts from before a commit."""

from __future__ import annotations

import pytest

from index import open_index
from index.tantivy_engine import copies as tantivy_copies
from index.tantivy_engine import query as tantivy_query
from index.tantivy_engine import snapshot as tantivy_snapshot
from tests.support.catalogue import rec


def _records(n: int) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(n):
        words = "lúa gạo" if i % 3 else "ngô khoai"
        out.append(rec(f"r{i}", f"Trồng {words} vùng {i % 7}", year=2000 + i % 5,
                       institution=["Đại học Huế", "Đại học Vinh"][i % 2],
                       type=["article", "thesis"][i % 3 == 0],
                       doi=f"10.7777/w{i // 2}" if i < 40 else None))  # copies: one work
    return out


@pytest.fixture
def ix(tmp_path):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path / "ix", engine="tantivy")
    with ix.writer() as w:
        w.add(_records(90))
    return ix


def _facets(res) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    return {name: {f.value: f.count for f in values} for name, values in res.facets.items()}


@pytest.fixture
def counting(monkeypatch):  # type: ignore[no-untyped-def]
    """How many times the facets were counted and the copies listed."""
    calls: list[str] = []
    value_counts, matching = tantivy_query.value_counts, tantivy_copies.Copies.matching

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("facets")
        return value_counts(*args, **kwargs)

    def listed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("copies")
        return matching(self, *args, **kwargs)

    monkeypatch.setattr(tantivy_query, "value_counts", counted)
    monkeypatch.setattr(tantivy_copies.Copies, "matching", listed)
    return calls


def test_the_next_page_and_another_order_reuse_the_counts(ix, counting
                                                          ):  # type: ignore[no-untyped-def]
    first = ix.search("lua gao", size=5)
    assert counting.count("facets") == 1
    counting.clear()
    second = ix.search("lua gao", size=5, page=2)
    newest = ix.search("lua gao", size=5, sort="newest")
    assert counting == []  # neither counted facets nor listed copies again
    assert second.total == newest.total == first.total
    assert _facets(second) == _facets(newest) == _facets(first)
    assert [h.record.id for h in second.hits] != [h.record.id for h in first.hits]
    ix.search("lua gao", size=5, filters={"type": ["thesis"]})
    assert counting.count("facets") == 1  # another search counts its own


def test_counts_belong_to_their_own_query_and_filters(ix):  # type: ignore[no-untyped-def]
    whole = ix.search("lua gao")
    huế = ix.search("lua gao", filters={"institution": ["Đại học Huế"]})
    vinh = ix.search("lua gao", filters={"institution": ["Đại học Vinh"]})
    dated = ix.search("lua gao", year_range=(2001, 2002))
    other = ix.search("ngo khoai")
    assert huế.total + vinh.total >= whole.total > max(huế.total, vinh.total) > 0
    assert _facets(huế)["institution"] == {"Đại học Huế": huế.total}
    assert _facets(vinh)["institution"] == {"Đại học Vinh": vinh.total}
    assert 0 < dated.total < whole.total
    assert set(_facets(dated)["year"]) == {"2000-2009"}
    assert _facets(dated)["type"] != _facets(whole)["type"]
    assert other.total != whole.total
    # asked again, in another order: the same answers
    assert ix.search("lua gao", filters={"institution": ["Đại học Vinh"]},
                     sort="title").total == vinh.total
    assert _facets(ix.search("lua gao", page=2)) == _facets(whole)


def test_a_commit_counts_afresh(ix):  # type: ignore[no-untyped-def]
    before = ix.search("lua gao")
    with ix.writer() as w:
        w.add([rec("new", "Trồng lúa gạo mới", year=2024, institution="Đại học Cần Thơ")])
    after = ix.search("lua gao", page=2)
    assert after.total == before.total + 1
    assert _facets(after)["institution"].get("Đại học Cần Thơ") == 1
    with ix.writer() as w:
        w.delete(["new"])
    assert ix.search("lua gao").total == before.total


def test_the_counts_kept_are_bounded(ix, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 3)
    answers = {q: ix.search(q).total for q in ("lua", "gao", "ngo", "khoai", "vung", "trong")}
    snap = ix._snapshot()
    assert len(snap._counted) <= 3
    assert {q: ix.search(q, page=2).total for q in answers} == answers


def test_filters_and_years_given_as_lists(ix):  # type: ignore[no-untyped-def]
    """Callers pass JSON-shaped arguments too (lists, not tuples)."""
    a = ix.search("lua gao", filters={"type": ["article"]}, year_range=[2001, 2003])
    b = ix.search("lua gao", filters={"type": ("article",)}, year_range=(2001, 2003), page=2)
    assert a.total == b.total > 0
