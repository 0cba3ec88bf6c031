"""The bitmap algebra of index/docsets.py gives what the set algebra gives (issue 14).

A snapshot made of plain sets (term postings, live docnums, columns) is answered both ways:
by the bitmap methods of ``DocSets`` and by the set rules of index/discovery.py
(``filtered_docs``, ``feature_scores``) and plain counting.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from index import querylang as qlang
from index.discovery import feature_scores, filtered_docs
from index.docsets import NO_YEAR, Columns, DocSets, bitmap, flags_of, from_flags, members

N = 3000
TERMS = {  # (field, term) → how many docnums hold it
    ("all_f", "thu"): 2000, ("all_f", "vien"): 900, ("all_f", "so"): 40, ("all_f", "hiem"): 3,
    ("all_b", "thu vien"): 700, ("title_f", "thu"): 1200, ("title_b", "thu vien"): 300,
    ("all_x", "thư"): 1500, ("subject", "Thư viện học"): 500,
}


class SetSnapshot(DocSets):
    """Postings and live docnums as sets: the bitmaps come from DocSets' defaults."""

    def __init__(self, seed: int = 3):
        super().__init__()
        rng = random.Random(seed)
        self.postings = {t: frozenset(rng.sample(range(N), k)) for t, k in TERMS.items()}
        self.alive = frozenset(d for d in range(N) if rng.random() > 0.1)
        self.cols = Columns(
            single={"institution": [rng.choice(["A", "B", "C", ""]) for _ in range(N)],
                    "type": [rng.choice(["book", "article"]) for _ in range(N)],
                    "language": [rng.choice(["vie", "eng"]) for _ in range(N)],
                    "access": [rng.choice(["open", ""]) for _ in range(N)],
                    "cluster": [f"c{d}" for d in range(N)],
                    "title_sort": [f"t{d}" for d in range(N)]},
            subject=[() for _ in range(N)],
            year=[rng.choice([NO_YEAR, 1999, 2005, 2012, 2021]) for _ in range(N)],
            multi=bytearray(N))

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        return self.postings.get((fieldname, text), frozenset())

    def live(self) -> frozenset[int]:
        return self.alive

    def columns(self) -> Columns:
        return self.cols


@pytest.mark.parametrize("docnums", [set(), {0}, {5, 64, 1000}, {63, 64, 127, 128, N},
                                     set(range(0, N, 50)), set(range(0, N, 3)),
                                     set(range(N)), set(random.Random(1).sample(range(N), 600))])
def test_bitmaps_hold_exactly_their_docnums(docnums):
    bits = bitmap(docnums)
    assert list(members(bits)) == sorted(docnums)
    assert bits.bit_count() == len(docnums)
    assert bitmap(iter(sorted(docnums))) == bits == from_flags(flags_of(bits))


QUERIES = ["thu vien", "thu -vien", "thu OR hiem", "NOT so", "year:2000-2015 thu", "",
           "thu AND (vien OR so) -hiem", "nothing here"]
FILTERS = [None, {"institution": ["A", "C"]}, {"year": ["2010-2019"], "type": ["book"]},
           {"subject": ["Thư viện học"]}, {"language": []}, {"nosuch": ["x"]}]


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("filters", FILTERS)
def test_matches_on_bitmaps_are_the_set_rules(q, filters):
    snap = SetSnapshot()
    ast = qlang.parse(q)
    for years in (None, (2005, None), (None, 2005)):
        expected = filtered_docs(snap, snap.docs(ast), filters, years)
        assert set(members(snap.filtered_bits(ast, filters, years))) == expected


@pytest.mark.parametrize("scale", [1, 40, 9000])  # scores up to a byte, two, four
@pytest.mark.parametrize("step", [1, 97, N])  # many docs (a counter each), few, one
def test_feature_scores_on_bitmaps_are_the_counted_scores(scale, step):
    snap = SetSnapshot()
    docs = set(sorted(snap.live())[::step])
    features = [("all_b", "thu vien", 2 * scale), ("title_b", "thu vien", 3 * scale),
                ("title_f", "thu", 1 * scale), ("all_x", "thư", 4 * scale),
                ("all_f", "hiem", 2 * scale), ("all_f", "missing", 5 * scale)]
    assert snap.feature_scores(bitmap(docs), features) == feature_scores(snap, docs, features)
    assert snap.feature_scores(0, features) == Counter()
    assert snap.feature_scores(bitmap(docs), []) == Counter()


def test_value_counts_on_bitmaps_are_the_column_counts():
    snap = SetSnapshot()
    docs = set(members(snap.filtered_bits(qlang.parse("thu"), None, None)))
    counts = snap.value_counts(bitmap(docs))
    for name in ("institution", "type", "language", "access"):
        column = snap.cols.single[name]
        assert counts[name] == Counter(column[d] for d in docs)
    assert counts["year"] == Counter(snap.cols.year[d] for d in docs)
