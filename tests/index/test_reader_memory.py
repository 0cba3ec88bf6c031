"""A Whoosh reader's memory: it does not copy the index in, nor once per thread (issue 14).

Measured with tracemalloc, which sees every allocation of Python code (Whoosh is pure
Python); the bound is the index's size on disk. Before the fix a reader held about twice
the index's size after four searches (Whoosh copied each segment's terms and postings into
memory at every open, and each posting set was cached as a frozenset of ints), and four
threads held eight times it (each thread had its own copy and caches).
"""

from __future__ import annotations

import random
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Record, open_index
from tests.support.catalogue import rec

WORDS = ["thư", "viện", "số", "nông", "nghiệp", "kinh", "tế", "văn", "hóa", "lịch", "sử",
         "giáo", "dục", "công", "nghệ", "thông", "tin", "môi", "trường", "sức", "khỏe", "cộng",
         "đồng", "phát", "triển", "bền", "vững", "nghiên", "cứu", "ứng", "dụng"]
QUERIES = ("thu vien", "nông nghiệp", "van hoa lich su", "cong nghe", '"phát triển"')


def _records(n: int) -> Iterator[Record]:
    rng = random.Random(5)
    for i in range(n):
        yield rec(f"r{i}", " ".join(rng.choice(WORDS) for _ in range(8)), year=1990 + i % 30,
                  abstract=" ".join(rng.choice(WORDS) for _ in range(60)),
                  creators=[f"Nguyễn Văn {rng.choice(WORDS)}"], subjects=[rng.choice(WORDS)],
                  institution=f"Trường {i % 7}", language="vie")


@pytest.fixture(scope="module")
def whoosh_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mem") / "ix"
    ix = open_index(path, engine="whoosh")
    with ix.writer() as w:
        w.add(_records(1500))
    ix.close()
    return path


def _disk_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _traced_while_searching(path: Path, threads: int) -> tuple[int, list[list[int]]]:
    """Python memory held by a reader of ``path`` once ``threads`` threads have each run
    :data:`QUERIES` (measured while the threads are alive), and each thread's totals."""
    reader = open_index(path, readonly=True)
    totals: list[list[int]] = []
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        totals.append([reader.search(q).total for q in QUERIES])
        barrier.wait()
        barrier.wait()

    tracemalloc.start()
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        barrier.wait()
        held, _peak = tracemalloc.get_traced_memory()
        barrier.wait()
        for t in workers:
            t.join()
    finally:
        tracemalloc.stop()
        reader.close()
    return held, totals


def test_a_reader_does_not_copy_the_index_into_memory(whoosh_index):
    held, totals = _traced_while_searching(whoosh_index, threads=1)
    assert all(totals[0]), totals  # every query matched: the postings were read
    assert held < 0.5 * _disk_size(whoosh_index), held


def test_threads_share_one_reader_state(whoosh_index):
    held, totals = _traced_while_searching(whoosh_index, threads=4)
    assert len(totals) == 4 and all(t == totals[0] for t in totals)
    assert held < 0.5 * _disk_size(whoosh_index), held
