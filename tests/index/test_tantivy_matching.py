"""The tantivy engine matches, scores and counts facets inside tantivy
(index/tantivy_engine/query.py); the engine-neutral set algebra it replaces
(``SearchSnapshot.matches`` in index/discovery.py) must give exactly the same answers on the
same snapshot — the same records, coordination scores, ranks, totals and facet counts."""

from __future__ import annotations

import functools

import pytest

from index import Record, discovery, open_index
from index import querylang as qlang
from index.discovery import SearchSnapshot
from index.features import ranking_features
from tests.support.catalogue import CATALOGUE, rec


def _copy(record: Record, rid: str, institution: str) -> Record:
    """The same work held by another member (same DOI: one cluster)."""
    data = record.to_dict()
    data.update(id=rid, oai_identifier=f"oai:test:{rid}", institution=institution)
    return Record.from_dict(data)


EXTRA = [
    rec("nn1", "Nông nghiệp bền vững ở đồng bằng", year=2012, doi="10.1000/nn", type="article",
        subjects=["Nông nghiệp", "Môi trường"], language="vie", access="open"),
    rec("nn-noyear", "Nông nghiệp và nông thôn", subjects=["Nông nghiệp"], language="vie"),
    rec("tv2", "Thư viện và xã hội", year=1988, subjects=["Thư viện học", "Xã hội"],
        doi="10.1000/tv", institution="Đại học Vinh", type="thesis", language="vie"),
]
RECORDS = CATALOGUE + EXTRA + [
    _copy(EXTRA[0], "nn1-copy", "Đại học Cần Thơ"),
    _copy(EXTRA[0], "nn1-copy2", "Đại học Vinh"),
    _copy(EXTRA[2], "tv2-copy", "Đại học Huế"),
]

CASES: list[tuple[str, dict[str, list[str]] | None, tuple[int | None, int | None] | None]] = [
    ("nong nghiep", None, None),
    ("nông nghiệp", None, None),
    ('"nông nghiệp bền"', None, None),
    ("title:thu vien", None, None),
    ("author:nam", None, None),
    ("subject:nong", None, None),
    ("thu vien -xa", None, None),
    ("thư viện OR nông nghiệp", None, None),
    ("-nong", None, None),
    ("doi:10.1234/dl.2019.7", None, None),
    ("year:2010-2020", None, None),
    ("nong year:2000-", None, None),
    ("", None, None),
    ("", {"institution": ["Đại học Vinh", "Đại học Huế"]}, None),
    ("", {"subject": ["Nông nghiệp"]}, None),
    ("", {"year": ["2010-2019", "-1989"]}, None),
    ("", {"year": ["nonsense"]}, None),
    ("", {"colour": ["red"]}, None),
    ("", {"type": []}, (2005, None)),
    ("nong", {"access": ["open"], "language": ["vie"]}, (2000, 2025)),
    ("zzzz khong co", None, None),
]


@pytest.fixture(scope="module")
def snap(tmp_path_factory):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path_factory.mktemp("tm") / "index", engine="tantivy")
    with ix.writer() as w:
        w.add(RECORDS)
    return ix._snapshot()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("q", "filters", "years"), CASES)
def test_matches_as_the_set_algebra_does(snap, q, filters, years):  # type: ignore[no-untyped-def]
    ast = qlang.parse(q)
    for features in (ranking_features(ast), None):
        ours = snap.matches(ast, filters, years, features)
        theirs = SearchSnapshot.matches(snap, ast, filters, years, features)
        assert ours.docs == theirs.docs
        assert ours.score == theirs.score


@pytest.mark.parametrize(("q", "filters", "years"), CASES)
@pytest.mark.parametrize("sort", ["relevance", "newest", "title"])
def test_search_as_the_set_algebra_does(snap, monkeypatch, q, filters, years, sort
                                        ):  # type: ignore[no-untyped-def]
    def run():  # type: ignore[no-untyped-def]
        r = discovery.search(snap, q, filters=filters, year_range=years, sort=sort, size=5)
        return (r.total, [(h.record.id, h.score, h.member_ids) for h in r.hits], r.facets)

    ours = run()
    # The reference: set algebra all the way (no page of works answered by tantivy).
    monkeypatch.setattr(snap, "works", functools.partial(SearchSnapshot.works, snap))
    monkeypatch.setattr(snap, "matches", functools.partial(SearchSnapshot.matches, snap))
    assert ours == run()


def test_clusters_are_counted_once(snap):  # type: ignore[no-untyped-def]
    r = discovery.search(snap, "nong nghiep ben vung", filters=None, year_range=None)
    assert r.total == 1
    counts = {f.value: f.count for f in r.facets["institution"]}
    assert counts == {"Đại học Huế": 1, "Đại học Cần Thơ": 1, "Đại học Vinh": 1}
    assert {f.value: f.count for f in r.facets["subject"]} == {"Nông nghiệp": 1,
                                                               "Môi trường": 1}
