"""A writer thread and reader threads at the same time: no errors, no torn reads."""

from __future__ import annotations

import threading

from index import open_index
from tests.support.catalogue import rec

BATCH = 25


def test_writer_and_readers_concurrently(tmp_path, engine):
    path = tmp_path / "ix"
    writer_ix = open_index(path, engine=engine)
    errors: list[BaseException] = []
    done = threading.Event()
    observed: list[int] = []

    def write() -> None:
        try:
            for b in range(12):
                with writer_ix.writer(timeout=10) as w:
                    w.add(rec(f"b{b}-{i}", f"Lô {b} tài liệu số {i}", year=2000 + b,
                              institution=f"Trường {b % 3}") for i in range(BATCH))
                    if b >= 2:  # deletes and re-adds in the same commit too
                        w.delete([f"b{b - 2}-0"])
                        w.add([rec(f"b{b - 2}-0", f"Lô {b - 2} tài liệu số 0", year=2000)])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        reader = open_index(path, readonly=True)  # like a web worker
        try:
            while not done.is_set():
                res = reader.search("tai lieu", size=5)
                # A commit is all-or-nothing: readers see whole batches only.
                assert res.total % BATCH == 0, res.total
                assert sum(f.count for f in res.facets["institution"]) == res.total
                assert reader.count() % BATCH == 0
                observed.append(res.total)
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
    assert observed and max(observed) <= 12 * BATCH
    final = open_index(path, readonly=True)
    assert final.search("tai lieu").total == 12 * BATCH  # readers see the last commit
