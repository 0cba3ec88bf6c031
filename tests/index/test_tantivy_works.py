"""The tantivy engine answers a page of works itself (``Snapshot.works``: ranked a few hits
at a time in tantivy, works counted from the records marked as sharing a cluster): it must
give exactly what the engine-neutral set algebra gives on the same snapshot — totals,
ranks, scores, representatives, cluster members and facet counts — on a corpus full of
ties (the same title and year in several works, copies at several institutions), written
in several sessions (copies joining works already indexed, copies deleted again), for
every sort order and several pages."""

from __future__ import annotations

import functools
import random
import threading

import pytest

from index import Record, discovery, open_index
from index.discovery import SearchSnapshot
from index.docsets import NO_YEAR
from index.tantivy_engine import schema as tantivy_schema
from index.tantivy_engine import snapshot as tantivy_snapshot
from index.tantivy_engine.order import shortest_key
from tests.support.catalogue import rec

INSTITUTIONS = ["Đại học Huế", "Đại học Vinh", "Đại học Cần Thơ", "Trường Đại học Y"]
WORDS = ["nông", "nghiệp", "thư", "viện", "phát", "triển", "bền", "vững", "đồng", "bằng",
         "kinh", "tế", "xã", "hội", "nghiên", "cứu"]
SUBJECTS = ["Nông nghiệp", "Thư viện học", "Kinh tế", "Xã hội", "Môi trường",
            # spellings of the values above: one facet value each (index/facets.py)
            "nông nghiệp", "Kinh tế.", "KINH TẾ", "Môi  trường "]


def _corpus(seed: int = 14) -> list[list[Record]]:
    """Sessions of records: many share a title and year (ties), some are copies of one
    work (same DOI) at other institutions, some come back in a later session."""
    rng = random.Random(seed)
    titles = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).capitalize()
              for _ in range(25)]
    sessions: list[list[Record]] = [[], [], []]
    for i in range(260):
        title = rng.choice(titles)
        year = rng.choice([None, 1988, 2005, 2012, 2012, 2020, 2020, 2021])
        kw = dict(year=year, institution=rng.choice(INSTITUTIONS),
                  type=rng.choice(["article", "thesis", "book"]),
                  language=rng.choice(["vie", "eng", ""]),
                  access=rng.choice(["open", "restricted"]),
                  subjects=rng.sample(SUBJECTS, rng.randint(0, 2)),
                  abstract=" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12))))
        doi = f"10.1234/w{i}" if rng.random() < 0.35 else None
        first = rec(f"r{i:03d}", title, doi=doi, **kw)
        sessions[rng.randrange(3)].append(first)
        if doi:
            for c in range(rng.randint(1, 3)):  # copies, often in a later session
                copy = first.to_dict()
                copy.update(id=f"r{i:03d}-c{c}", oai_identifier=f"oai:c:{i}-{c}",
                            institution=rng.choice(INSTITUTIONS))
                if rng.random() < 0.3:
                    copy["access"] = "open"  # copies need not agree on every value
                if rng.random() < 0.3:  # nor on how a subject is written
                    copy["subjects"] = [s.lower() for s in copy["subjects"]]
                sessions[rng.randrange(3)].append(Record.from_dict(copy))
    # Titles too long for the ``shortest`` number, and years out of its range.
    sessions[0] += [rec(f"long{i}", "Nông nghiệp " + "rất dài " * 900, year=2000 + i)
                    for i in range(3)]
    sessions[1] += [rec("y-neg", "Nông nghiệp cổ", year=-200),
                    rec("y-far", "Nông nghiệp tương lai", year=20000),
                    rec("y-far2", "Nông nghiệp tương lai", year=30000)]
    return sessions


QUERIES: list[tuple[str, dict[str, list[str]] | None, tuple[int | None, int | None] | None]] = [
    ("nong nghiep", None, None),
    ("nông nghiệp", None, None),
    ("thu", None, None),
    ('"phát triển"', None, None),
    ("kinh te xa hoi", None, None),
    ("title:vien", None, None),
    ("nong -thu", None, None),
    ("nông OR viện", None, None),
    ("", None, None),
    ("nong", {"institution": ["Đại học Vinh", "Đại học Huế"]}, None),
    ("nghien cuu", {"subject": ["Kinh tế"]}, (2005, 2020)),
    ("", {"subject": ["nông nghiệp.", "MÔI TRƯỜNG"]}, None),
    ("", {"access": ["open"]}, None),
    ("ben vung", {"year": ["2010-2019", "-1989"]}, None),
    ("nong", {"year": ["2020"]}, (2012, 2012)),
    ("thu year:2005", None, (2005, None)),
    ("zzzz", None, None),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):  # type: ignore[no-untyped-def]
    index = open_index(tmp_path_factory.mktemp("works") / "index", engine="tantivy")
    sessions = _corpus()
    for session in sessions:
        with index.writer() as w:
            w.add(session)
    with index.writer() as w:  # copies leave again: marks stay on lone records
        w.delete([r.id for r in sessions[2] if r.id.endswith("-c0")][:15])
    return index


def _answer(snap, q, filters, years, sort, page, size):  # type: ignore[no-untyped-def]
    r = discovery.search(snap, q, filters=filters, year_range=years, sort=sort, page=page,
                         size=size)
    return (r.total, [(h.record.id, h.score, h.cluster_key, h.member_ids, h.institutions)
                      for h in r.hits], r.facets, r.suggestions)


@pytest.mark.parametrize(("q", "filters", "years"), QUERIES)
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "title"])
def test_works_as_the_set_algebra_does(ix, monkeypatch, q, filters, years, sort
                                       ):  # type: ignore[no-untyped-def]
    snap = ix._snapshot()
    assert snap.native
    ours = [_answer(snap, q, filters, years, sort, page, 7) for page in (1, 2, 5)]
    ours.append(_answer(snap, q, filters, years, sort, 1, 200))
    monkeypatch.setattr(snap, "works", functools.partial(SearchSnapshot.works, snap))
    theirs = [_answer(snap, q, filters, years, sort, page, 7) for page in (1, 2, 5)]
    theirs.append(_answer(snap, q, filters, years, sort, 1, 200))
    assert ours == theirs


@pytest.fixture(scope="module")
def big(tmp_path_factory):  # type: ignore[no-untyped-def]
    """3,000 records all holding "Nông nghiệp": groups of one score or year far larger than
    a page, read by tantivy group by group; copies among them, some added later."""
    path = tmp_path_factory.mktemp("big") / "index"
    ix = open_index(path, engine="tantivy")
    rng = random.Random(9)
    records = [rec(f"w{i}", "Nông nghiệp " + " ".join(rng.choice(WORDS)
                                                     for _ in range(rng.randint(1, 4)))
                   + (" lúa" if i % 97 == 0 else ""),
                   year=rng.choice([2001, 2010, 2020, None]),
                   doi=f"10.4321/b{i // 3}" if i % 7 == 0 else None,
                   abstract="Trồng lúa gạo" if i % 5 else "",
                   institution=rng.choice(INSTITUTIONS), subjects=rng.sample(SUBJECTS, 1))
               for i in range(3000)]
    with ix.writer() as w:
        w.add(records[:2000])
    with ix.writer() as w:
        w.add(records[2000:])
    return open_index(path, readonly=True)


@pytest.mark.parametrize("q", ["nong", "nong nghiep thu", "nông viện", "phat trien ben",
                               "lúa", "nông nghiệp lúa gạo", "trồng nông"])
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "title"])
def test_large_groups_as_the_set_algebra_does(big, monkeypatch, q, sort
                                              ):  # type: ignore[no-untyped-def]
    snap = big._snapshot()
    pages = [(1, 10), (3, 10), (2, 150)]
    ours = [_answer(snap, q, None, None, sort, page, size) for page, size in pages]
    monkeypatch.setattr(snap, "works", functools.partial(SearchSnapshot.works, snap))
    assert ours == [_answer(snap, q, None, None, sort, page, size) for page, size in pages]


def test_the_page_is_read_a_few_hits_at_a_time(tmp_path, big, monkeypatch
                                               ):  # type: ignore[no-untyped-def]
    """A page of 10 works reads hundreds of hits at most, not every match of a word all
    3,000 records hold — nor every document, nor the set algebra's columns."""
    reader = open_index(big.path, readonly=True)
    snap = reader._snapshot()
    read: list[int] = []
    searcher = snap.searcher

    class Counting:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(searcher, name)

        def search(self, *a, **kw):  # type: ignore[no-untyped-def]
            res = searcher.search(*a, **kw)
            read.append(len(res.hits))
            return res

    monkeypatch.setattr(snap, "searcher", Counting())
    for q in ("nong", "nong nghiep thu", "nông vien"):
        for sort in ("relevance", "newest", "title"):
            read.clear()
            res = discovery.search(snap, q, sort=sort, size=10, facets=False)
            assert res.total > 500 and len(res.hits) == 10
            assert sum(read) < 1000, (q, sort, read)
    assert snap._addr is None and snap._columns is None


def test_copies_joining_a_work_later_count_once(tmp_path):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path / "ix", engine="tantivy")
    first = rec("a", "Nông nghiệp bền vững", year=2012, doi="10.5555/x", type="article",
                subjects=["Nông nghiệp"], institution="Đại học Huế")
    with ix.writer() as w:
        w.add([first])
    for n, inst in enumerate(["Đại học Vinh", "Đại học Cần Thơ"]):
        copy = first.to_dict()
        copy.update(id=f"a{n}", oai_identifier=f"oai:a{n}", institution=inst)
        with ix.writer() as w:
            w.add([Record.from_dict(copy)])
    res = ix.search("nong nghiep")
    assert res.total == 1
    assert sorted(res.hits[0].member_ids) == ["a", "a0", "a1"]
    assert {f.value: f.count for f in res.facets["type"]} == {"article": 1}
    assert {f.value: f.count for f in res.facets["institution"]} == {
        "Đại học Huế": 1, "Đại học Vinh": 1, "Đại học Cần Thơ": 1}
    with ix.writer() as w:
        w.delete(["a0", "a1"])
    res = ix.search("nong nghiep")
    assert res.total == 1 and res.hits[0].member_ids == ["a"]


def test_one_snapshot_for_every_thread(ix):  # type: ignore[no-untyped-def]
    seen: list[object] = []
    results: list[tuple[int, list[str]]] = []
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for _ in range(5):
                r = ix.search("nong nghiep", size=5)
                results.append((r.total, [h.record.id for h in r.hits]))
                seen.append(ix._snapshot())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len({id(s) for s in seen}) == 1
    assert len(set(map(repr, results))) == 1


def test_an_index_without_the_new_fields_searches_alike(tmp_path, monkeypatch, ix
                                                         ):  # type: ignore[no-untyped-def]
    """An index made before ``shortest`` and ``copies`` existed keeps its schema; it is
    searched by set algebra, with the same answers."""
    build = tantivy_schema.build_schema

    def old_schema():  # type: ignore[no-untyped-def]
        import tantivy

        sb = tantivy.SchemaBuilder()
        for name in tantivy_schema.KEYWORDS:
            sb.add_text_field(name, stored=name == "id", tokenizer_name="raw",
                              index_option="basic")
        for name in tantivy_schema.FAST_KEYWORDS:
            sb.add_text_field(name, stored=name == "cluster", fast=True,
                              tokenizer_name="raw", index_option="basic")
        sb.add_integer_field("year", indexed=True, fast=True)
        sb.add_integer_field(tantivy_schema.INDEXED, fast=True)
        sb.add_bytes_field("rec", stored=True)
        for group in ("title", "creator", "subject", "all"):
            for suffix in ("x", "f", "b"):
                sb.add_text_field(f"{group}_{suffix}", tokenizer_name=tantivy_schema.WS,
                                  index_option="freq")
        return sb.build()

    monkeypatch.setattr(tantivy_schema, "build_schema", old_schema)
    old = open_index(tmp_path / "old", engine="tantivy")
    monkeypatch.setattr(tantivy_schema, "build_schema", build)
    sessions = _corpus()
    for session in sessions:
        with old.writer() as w:
            w.add(session)
    with old.writer() as w:
        w.delete([r.id for r in sessions[2] if r.id.endswith("-c0")][:15])
    assert not old._snapshot().native
    for q, filters, years in QUERIES[:6]:
        for sort in ("relevance", "newest"):
            a = old.search(q, filters=filters, year_range=years, sort=sort, size=9)
            b = ix.search(q, filters=filters, year_range=years, sort=sort, size=9)
            assert (a.total, a.facets) == (b.total, b.facets)
            assert [h.cluster_key for h in a.hits] == [h.cluster_key for h in b.hits]


def test_shortest_number_never_contradicts_the_order():
    from index.collation import sort_key

    rng = random.Random(3)
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy 0123456789.-中"
    keyed = []
    for _ in range(3000):
        title = "".join(rng.choice(letters) for _ in range(rng.randint(0, 9)))
        year = rng.choice([NO_YEAR, -7, 0, 1999, 2024, 16380, 16381, 40000])
        ts = sort_key(title)
        keyed.append(((len(ts), -year, ts), shortest_key(ts, year)))
    keyed.sort()
    assert all(a[1] <= b[1] for a, b in zip(keyed, keyed[1:], strict=False))


def test_docnums_from_the_segment_list(tmp_path):  # type: ignore[no-untyped-def]
    """Docnums come from the segment sizes in ``meta.json`` (no listing of every document);
    with several segments and deletions they still name each live document once."""
    ix = open_index(tmp_path / "ix", engine="tantivy")
    for b, n in enumerate((30, 12, 45)):  # segments of different sizes
        with ix.writer() as w:
            w.delete([f"s{b - 1}-11", f"s{b - 1}-0"])  # a segment's last document, its first
            w.add(rec(f"s{b}-{i}", f"Tài liệu {b} số {i}", year=2000 + i) for i in range(n))
    snap = ix._snapshot()
    assert snap.searcher.num_segments > 1
    live = snap.live()
    assert len(live) == snap.n == 30 + 12 + 45 - 4 and max(live) < snap.size
    ids = [snap.stored_value(d, "id") for d in sorted(live)]
    assert len(set(ids)) == len(ids) and "s1-0" not in ids and "s2-44" in ids
    for rid in ("s0-3", "s1-10", "s2-44"):
        (d,) = snap.term_docs("id", rid)
        assert snap.record(d).id == rid


@pytest.fixture(scope="module")
def dense(tmp_path_factory):  # type: ignore[no-untyped-def]
    """900 records, most holding "gạo" and "lúa", in works of one to four copies whose copies
    differ in text (some lack the common words), institution, access and the spelling of
    their subjects: searches matching most of the index, counted from the records that do
    not match (index/tantivy_engine/copies.py, query.py), in two sessions."""
    rng = random.Random(21)
    records: list[Record] = []
    for w in range(420):
        n = rng.choice([1, 1, 2, 2, 3, 4])
        year = rng.choice([None, 1999, 2012, 2020])
        subjects = rng.sample(SUBJECTS, rng.randint(0, 2))
        for c in range(n):
            words = "lúa gạo" if rng.random() < 0.85 else "ngô khoai"
            records.append(rec(
                f"d{w}-{c}", f"Trồng {words} vùng {rng.choice(WORDS)}", year=year,
                doi=f"10.7777/d{w}" if n > 1 else None,
                abstract=rng.choice(["", "Gạo ngon", "Hiếm gặp"]),
                institution=rng.choice(INSTITUTIONS), access=rng.choice(["open", "restricted"]),
                type=rng.choice(["article", "thesis"]),
                subjects=[s.lower() if rng.random() < 0.3 else s for s in subjects]))
    rng.shuffle(records)
    path = tmp_path_factory.mktemp("dense") / "index"
    ix = open_index(path, engine="tantivy")
    with ix.writer() as w:
        w.add(records[:500])
    with ix.writer() as w:
        w.add(records[500:])
    return open_index(path, readonly=True)


@pytest.mark.parametrize(("q", "filters"), [
    ("gao", None), ("lua gao", None), ("", None), ("-hiem", None), ("trong", None),
    ("gao", {"access": ["open"]}), ("trong", {"subject": ["kinh tế"]}),
    ("-ngo", {"type": ["article", "thesis"]}), ("ngo khoai", None)])
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_most_of_the_index_matching_as_the_set_algebra_does(dense, monkeypatch, q, filters, sort
                                                            ):  # type: ignore[no-untyped-def]
    snap = dense._snapshot()
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)  # count each search afresh
    outside: list[bool] = []
    copies = snap.copies()
    listed = copies.matching

    def spy(match, out=False):  # type: ignore[no-untyped-def]
        outside.append(out)
        return listed(match, out)

    monkeypatch.setattr(copies, "matching", spy)
    pages = [(1, 10), (2, 10), (1, 150)]
    ours = [_answer(snap, q, filters, None, sort, page, size) for page, size in pages]
    if filters is None and q in ("gao", "", "-hiem", "trong"):
        assert outside and all(outside)  # the records not matching were listed
    if q == "ngo khoai":
        assert not any(outside)
    monkeypatch.setattr(snap, "works", functools.partial(SearchSnapshot.works, snap))
    assert ours == [_answer(snap, q, filters, None, sort, page, size) for page, size in pages]


@pytest.mark.parametrize("budget", [0, 60, 10**9])
def test_relevance_read_score_by_score_as_the_set_algebra_does(ix, dense, monkeypatch, budget
                                                               ):  # type: ignore[no-untyped-def]
    """Relevance read one score at a time from the top (``Ordered.by_score``, used when many
    records match), then, past its budget, the whole order from the top: the same works,
    scores and facets as the set algebra, whatever the budget."""
    from index.tantivy_engine import ranking

    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_MATCHES", 0)
    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_BUDGET", budget)
    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_SHARE", 0)
    rounds: list[int] = []
    by_score = ranking.Ordered.by_score

    def spy(self, budget):  # type: ignore[no-untyped-def]
        rounds.append(budget)
        return by_score(self, budget)

    monkeypatch.setattr(ranking.Ordered, "by_score", spy)
    cases = [(ix, q, filters, years) for q, filters, years in QUERIES if q] + \
        [(dense, q, None, None) for q in ("gao", "lua gao", "trong vung", "-hiem gao")] + \
        [(dense, "gao", {"subject": ["kinh tế"]}, (2000, 2020))]
    for index, q, filters, years in cases:
        snap = index._snapshot()
        pages = [(1, 7), (2, 7), (1, 60)]
        ours = [_answer(snap, q, filters, years, "relevance", p, n) for p, n in pages]
        with monkeypatch.context() as m:
            m.setattr(snap, "works", functools.partial(SearchSnapshot.works, snap))
            theirs = [_answer(snap, q, filters, years, "relevance", p, n) for p, n in pages]
        assert ours == theirs, (q, filters, years)
    assert rounds and set(rounds) == {budget}
