"""A search's independent passes side by side (index/tantivy_engine/beside.py): the result
or the exception of the part run beside, never a wait behind another search, and the same
answers whether a thread was free or not."""

from __future__ import annotations

import threading

import pytest

from index import open_index
from index.tantivy_engine import beside as beside_module
from index.tantivy_engine import snapshot as tantivy_snapshot
from index.tantivy_engine.beside import beside
from tests.support.catalogue import rec


@pytest.fixture
def two_cores(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(beside_module, "THREADS", 1)


def test_the_part_runs_in_another_thread(two_cores):  # type: ignore[no-untyped-def]
    where = beside(threading.get_ident)()
    assert where != threading.get_ident()


def test_its_exception_reaches_the_caller(two_cores):  # type: ignore[no-untyped-def]
    def broken() -> int:
        raise ValueError("no such field")

    wait = beside(broken)
    with pytest.raises(ValueError, match="no such field"):
        wait()
    assert beside(lambda: 7)() == 7  # the thread was given back


def test_no_free_thread_means_the_caller_runs_it(two_cores):  # type: ignore[no-untyped-def]
    release = threading.Event()
    busy = beside(lambda: release.wait(5))  # the only thread, held
    where = beside(threading.get_ident)
    assert where() == threading.get_ident()  # not queued behind the busy one
    release.set()
    assert busy() is True


def test_one_core_runs_everything_in_the_caller(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(beside_module, "THREADS", 0)
    assert beside(threading.get_ident)() == threading.get_ident()


def test_a_forked_process_makes_its_own_threads(two_cores, monkeypatch
                                                ):  # type: ignore[no-untyped-def]
    beside(lambda: None)()
    before = beside_module._pool
    monkeypatch.setattr(beside_module.os, "getpid", lambda: -1)  # as in a forked worker
    assert beside(threading.get_ident)() != threading.get_ident()
    assert beside_module._pool is not before


@pytest.fixture(scope="module")
def ix(tmp_path_factory):  # type: ignore[no-untyped-def]
    records = []
    for i in range(400):
        words = "lúa gạo" if i % 5 else "ngô khoai"
        records.append(rec(f"r{i}", f"Trồng {words} vùng {i % 9} năm {i % 4}",
                           year=1995 + i % 30, institution=["Đại học Huế", "Đại học Vinh",
                                                           "Đại học Cần Thơ"][i % 3],
                           subjects=[["Nông nghiệp"], ["Kinh tế"], []][i % 3],
                           doi=f"10.7777/w{i // 3}" if i < 150 else None))
    path = tmp_path_factory.mktemp("beside") / "index"
    index = open_index(path, engine="tantivy")
    with index.writer() as w:
        w.add(records)
    return open_index(path, readonly=True)


def _answer(ix, q, filters):  # type: ignore[no-untyped-def]
    out = []
    for page in (1, 2):
        r = ix.search(q, filters=filters, page=page, size=10)
        out.append((r.total, [(h.record.id, h.score, sorted(h.member_ids)) for h in r.hits],
                    r.facets))
    return out


@pytest.mark.parametrize(("q", "filters"), [
    ("lua gao", None), ("trong", None), ("vung", {"institution": ["Đại học Vinh"]}),
    ("ngo khoai", None), ("lúa gạo năm", {"subject": ["kinh tế"]})])
def test_the_same_answers_with_and_without_a_thread(ix, monkeypatch, q, filters
                                                    ):  # type: ignore[no-untyped-def]
    """Large match sets ranked by relevance with facets count beside the listing of their
    copies: forced here for a small index (every match set is large)."""
    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_MATCHES", 0)
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)
    answers = []
    for threads in (1, 0):
        monkeypatch.setattr(beside_module, "THREADS", threads)
        answers.append(_answer(ix, q, filters))
    assert answers[0] == answers[1]
    assert answers[0][0][0] > 0


def test_counts_the_engine_cannot_give_fall_back_to_the_set_algebra(ix, monkeypatch
                                                                      ):  # type: ignore[no-untyped-def]
    """A facet with more values than an aggregation returns (``value_counts`` gives None),
    learnt only after the page's hits were made: the set algebra answers the search."""
    from index.discovery import SearchSnapshot
    from index.tantivy_engine import query as tantivy_query

    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_MATCHES", 0)
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)
    monkeypatch.setattr(beside_module, "THREADS", 1)
    snap = ix._snapshot()
    with monkeypatch.context() as m:
        m.setattr(snap, "works", lambda *a, **k: SearchSnapshot.works(snap, *a, **k))
        expected = _answer(ix, "lua gao", None)
    asked: list[int] = []

    def too_many(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(1)
        return None

    monkeypatch.setattr(tantivy_query, "value_counts", too_many)
    assert _answer(ix, "lua gao", None) == expected
    assert asked  # the engine tried, then left it to the set algebra


@pytest.mark.parametrize(("q", "filters", "years"), [
    ("lua gao", {"institution": ["Đại học Huế"]}, None),
    ("trong", None, (2000, 2010)),
    ("trong year:1995-2001", None, None),
    ("vung", {"year": ["2010-2019"], "subject": ["nông nghiệp"]}, (2012, None)),
    ("trong -ngo", {"access": ["open"], "type": ["article", "thesis"]}, None),
    ("trong", {"nonsense": ["x"]}, None)])
def test_filtered_searches_as_the_set_algebra_does(ix, monkeypatch, q, filters, years
                                                   ):  # type: ignore[no-untyped-def]
    """How many records a filtered search matches is estimated from the whole index's
    counts to choose how to count (listing the copies inside or outside the matches, which
    aggregation): whatever it guesses, the answer is the set algebra's."""
    from index.discovery import SearchSnapshot

    monkeypatch.setattr(tantivy_snapshot, "_BY_SCORE_MATCHES", 0)
    monkeypatch.setattr(tantivy_snapshot, "_COUNTED", 0)

    def answer():  # type: ignore[no-untyped-def]
        out = []
        for page in (1, 3):
            r = ix.search(q, filters=filters, year_range=years, page=page, size=10)
            out.append((r.total, [(h.record.id, h.score, sorted(h.member_ids))
                                  for h in r.hits], r.facets))
        return out

    ours = answer()
    snap = ix._snapshot()
    with monkeypatch.context() as m:
        m.setattr(snap, "works", lambda *a, **k: SearchSnapshot.works(snap, *a, **k))
        assert answer() == ours
