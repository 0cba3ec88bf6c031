"""An index directory on disk: its layout, the writer lock, and the atomic generation swap.

Layout::

    <path>/CURRENT        name of the live generation directory (replaced atomically)
    <path>/writer.lock    flock held by the one writer (and by rebuild for its whole run)
    <path>/g-<ns>/        a Whoosh index, and beside each segment its spelling tables
                          (``<segment>.sugg_<field>``, index/engine/suggest.py), written at
                          commit

A rebuild writes a whole new generation beside the live one and then replaces CURRENT
(write, fsync, rename, fsync the directory), so readers see either the old index or the
new one, never half of either.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index as windex

from index.engine.schema import build_schema
from index.results import IndexLocked

CURRENT = "CURRENT"
LOCK = "writer.lock"


@contextlib.contextmanager
def flock(path: Path, timeout: float) -> Iterator[None]:
    """Exclusive advisory lock, waiting up to ``timeout`` seconds. The kernel drops it
    when the holder dies, so a killed writer never leaves the index locked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"index writer lock busy: {path}") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def writer_lock(root: Path, timeout: float) -> contextlib.AbstractContextManager[None]:
    """The index's one writer lock (see :func:`flock`)."""
    return flock(root / LOCK, timeout)


def read_current(root: Path) -> str:
    """The name of the live generation directory."""
    return (root / CURRENT).read_text(encoding="ascii").strip()


def _write_current(root: Path, name: str) -> None:
    tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / CURRENT)
    dfd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def new_generation(root: Path) -> Path:
    """A new, empty Whoosh index directory beside the live one (not yet live)."""
    gen = root / f"g-{time.time_ns()}"
    gen.mkdir()
    windex.create_in(str(gen), build_schema())
    return gen


def ensure_index(root: Path, *, readonly: bool) -> None:
    """Make sure ``root`` holds an index: create an empty one unless ``readonly``.

    Raises FileNotFoundError when there is none and ``readonly`` forbids making it."""
    if (root / CURRENT).exists():
        return
    if readonly:
        raise FileNotFoundError(f"no index at {root}")
    root.mkdir(parents=True, exist_ok=True)
    with writer_lock(root, 30.0):
        if not (root / CURRENT).exists():
            _write_current(root, new_generation(root).name)


def swap_generation(root: Path, gen: Path) -> None:
    """Make ``gen`` the live generation and delete the one it replaces. The caller holds
    the writer lock. Open readers keep their files (POSIX); new readers follow CURRENT."""
    old = read_current(root) if (root / CURRENT).exists() else None
    _write_current(root, gen.name)
    if old and old != gen.name:
        shutil.rmtree(root / old, ignore_errors=True)
