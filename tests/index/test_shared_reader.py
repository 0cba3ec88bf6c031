"""One reader shared by a worker's threads while a writer commits: every answer whole.

A web worker opens the index once and serves every thread from it; the Whoosh engine shares
one snapshot (and its caches) between those threads, each reading through its own Whoosh
searcher (issue 14). tests/index/test_concurrency.py gives each reader thread an index of
its own; here they share one.
"""

from __future__ import annotations

import threading

from index import open_index
from tests.support.catalogue import rec

BATCH = 20


def test_threads_sharing_one_reader_see_whole_commits(tmp_path, engine):
    path = tmp_path / "ix"
    writer_ix = open_index(path, engine=engine)
    reader = open_index(path, readonly=True)
    errors: list[BaseException] = []
    done = threading.Event()
    seen: list[int] = []

    def write() -> None:
        try:
            for b in range(10):
                with writer_ix.writer(timeout=10) as w:
                    w.add(rec(f"b{b}-{i}", f"Lô {b} tài liệu số {i}", year=2000 + b,
                              institution=f"Trường {b % 3}") for i in range(BATCH))
                    if b >= 2:  # a deletion and a re-add in the same commit
                        w.delete([f"b{b - 2}-0"])
                        w.add([rec(f"b{b - 2}-0", f"Lô {b - 2} tài liệu số 0", year=2000,
                                   institution=f"Trường {(b - 2) % 3}")])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                res = reader.search("tai lieu", size=5)
                assert res.total % BATCH == 0, res.total
                assert sum(f.count for f in res.facets["institution"]) == res.total
                assert all(h.record.title.startswith("Lô") for h in res.hits)
                dated = reader.search("tai lieu", year_range=(2000, 2004)).total
                assert dated <= res.total or dated % BATCH == 0
                seen.append(res.total)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    wt = threading.Thread(target=write)
    for t in readers:
        t.start()
    wt.start()
    wt.join(120)
    for t in readers:
        t.join(30)
    assert not errors, errors[:3]
    assert seen and max(seen) <= 10 * BATCH
    assert reader.search("tai lieu").total == 10 * BATCH  # the last commit, seen at once
    assert reader.search("tai lieu", filters={"institution": ["Trường 1"]}).total == 3 * BATCH
