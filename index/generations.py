"""An index directory on disk, whatever engine wrote it: the writer lock, the live
generation, the engine that wrote each generation, and the atomic swap.

Layout::

    <path>/CURRENT        name of the live generation directory (replaced atomically)
    <path>/writer.lock    flock held by the one writer (and by rebuild for its whole run)
    <path>/g-<ns>/        one generation: an engine's index files, and ENGINE
    <path>/g-<ns>/ENGINE  "whoosh" or "tantivy" (absent: whoosh, the only engine before it)

A rebuild writes a whole new generation beside the live one and then replaces CURRENT
(write, fsync, rename, fsync the directory), so readers see either the old index or the
new one, never a mix of either — also when the rebuild changes the engine, because the
engine is recorded inside the generation.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from index.results import IndexLocked

CURRENT = "CURRENT"
LOCK = "writer.lock"
ENGINE = "ENGINE"
#: The engines an index directory may hold; the first is the default for new indexes.
ENGINES = ("whoosh", "tantivy")


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


def _fsync_dir(path: Path) -> None:
    dfd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def check_engine(engine: str) -> str:
    """``engine`` when it is one of :data:`ENGINES`, else ValueError."""
    if engine not in ENGINES:
        raise ValueError(f"unknown index engine {engine!r}: one of {', '.join(ENGINES)}")
    return engine


def generation_engine(gen: Path) -> str:
    """The engine that wrote generation directory ``gen``."""
    try:
        return check_engine((gen / ENGINE).read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return "whoosh"  # generations written before ENGINE existed


def current_engine(root: Path) -> str | None:
    """The engine of the live generation of ``root``, or None when there is no index."""
    if not (root / CURRENT).exists():
        return None
    return generation_engine(root / read_current(root))


def new_generation(root: Path, engine: str, create: Callable[[Path], None]) -> Path:
    """A new generation directory beside the live one (not yet live), made by ``create``
    and marked with its ``engine``."""
    gen = root / f"g-{time.time_ns()}"
    gen.mkdir()
    create(gen)
    _write_atomically(gen / ENGINE, check_engine(engine))
    return gen


def ensure_index(root: Path, *, readonly: bool, engine: str,
                 create: Callable[[Path], None]) -> None:
    """Make sure ``root`` holds an index: create an empty ``engine`` one (with ``create``)
    unless ``readonly``.

    Raises FileNotFoundError when there is none and ``readonly`` forbids making it."""
    if (root / CURRENT).exists():
        return
    if readonly:
        raise FileNotFoundError(f"no index at {root}")
    root.mkdir(parents=True, exist_ok=True)
    with writer_lock(root, 30.0):
        if not (root / CURRENT).exists():
            _write_atomically(root / CURRENT, new_generation(root, engine, create).name)


def swap_generation(root: Path, gen: Path) -> None:
    """Make ``gen`` the live generation and delete the one it replaces. The caller holds
    the writer lock. Open readers keep their files (POSIX); new readers follow CURRENT."""
    old = read_current(root) if (root / CURRENT).exists() else None
    _write_atomically(root / CURRENT, gen.name)
    if old and old != gen.name:
        shutil.rmtree(root / old, ignore_errors=True)
