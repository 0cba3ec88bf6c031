"""The Whoosh engine's generations: an empty Whoosh index in a new generation directory.

The directory layout, the writer lock and the atomic swap are engine-neutral
(index/generations.py). Beside each Whoosh segment lie its spelling tables
(``<segment>.sugg_<field>``, index/whoosh_engine/suggest.py), written at commit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.filedb.compound import SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from index import generations
from index.whoosh_engine.schema import build_schema
from index.whoosh_engine.whoosh_types import WhooshDir

ENGINE = "whoosh"


def open_dir(gen: Path, *, readonly: bool = False) -> WhooshDir:
    """One generation directory, opened the way every reader and writer here opens it:
    without memory-mapping.

    Whoosh 2.7 maps each compound segment file and then hands its readers a ``BytesIO``
    over the map, which *copies* the segment's terms and postings into the process at
    every open: 330 MB of a 480 MB index at 100k records, again for each thread's
    searcher and each writer session (measured: a warm worker 1.22 GB with the map,
    0.27 GB without, at the same speed). Without the map Whoosh reads what it needs
    with seek and read on a file of its own per reader, which is also safe across
    threads that each have their own reader."""
    return windex.FileIndex(_Storage(str(gen), supports_mmap=False, readonly=readonly),
                            indexname=windex._DEF_INDEX_NAME)


#: The most a peek returns: Whoosh's pickles (a posting block's header, a stored record)
#: are mostly far smaller.
_PEEK = 4096


class _SubFile(SubFile):  # type: ignore[misc]  # whoosh is untyped: the base is Any
    """Whoosh's window on one file inside a compound segment file, read with ``pread``
    (one system call, no seek, no 8 kB buffer refilled after every seek) and with
    ``peek``: pickle reads an object from a file that has it in one or two calls, where
    it otherwise asks for a few bytes at a time (~20 calls per posting block)."""

    def read(self, size: int | None = None) -> bytes:
        left = self._length - self._pos
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = os.pread(self._file.fileno(), size, self._offset + self._pos)
        self._pos += len(data)
        return data

    def peek(self, size: int = 0) -> bytes:
        n = min(max(size, 1), _PEEK, self._length - self._pos)
        return os.pread(self._file.fileno(), n, self._offset + self._pos) if n > 0 else b""


class _Window(StructFile):  # type: ignore[misc]  # untyped base
    """One file inside a compound segment file. ``get`` (a read at a position: every step
    of a term lookup in Whoosh's on-disk hash table, several per term and segment) is one
    Python call and one ``pread``, where Whoosh's stock window takes four calls and a seek;
    the position stays the window's (``self.file``), as Whoosh expects."""

    def get(self, position: int, length: int) -> bytes:
        sub = self.file
        size = min(length, sub._length - position)
        if size <= 0:
            sub._pos = position
            return b""
        sub._pos = position + size
        data: bytes = os.pread(sub._file.fileno(), size, sub._offset + position)
        return data


class _File(StructFile):  # type: ignore[misc]  # untyped base
    """A file of the index directory, whose windows (a compound segment's files) are
    :class:`_Window` over a :class:`_SubFile`."""

    def subset(self, offset: int, length: int, name: str | None = None) -> StructFile:
        return _Window(_SubFile(self.file, offset, length), name=name or self._name)


class _Storage(FileStorage):  # type: ignore[misc]  # untyped base
    def open_file(self, name: str, **kwargs: Any) -> _File:
        return _File(open(self._fpath(name), "rb"), name=name, **kwargs)  # noqa: SIM115


def _create(gen: Path) -> None:
    windex.create_in(str(gen), build_schema())


def new_generation(root: Path) -> Path:
    """A new, empty Whoosh index directory beside the live one (not yet live)."""
    return generations.new_generation(root, ENGINE, _create)


def ensure_index(root: Path, *, readonly: bool) -> None:
    """Make sure ``root`` holds an index (a new one is Whoosh; see
    :func:`index.generations.ensure_index`)."""
    generations.ensure_index(root, readonly=readonly, engine=ENGINE, create=_create)
