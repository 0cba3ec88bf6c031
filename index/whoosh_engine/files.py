"""Reading a Whoosh generation's files: without memory-mapping them, at about the cost of
reads from memory.

Whoosh reads a compound segment file through a window per file inside it (terms,
postings, stored fields, columns). The windows here read with ``pread`` and in as few
calls as Whoosh's formats allow; they are Whoosh's own classes otherwise, chosen through
the storage object Whoosh asks for its files, so no Whoosh class is patched (one method of
each reader this engine opens is: :func:`remember_lookups`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.filedb.compound import SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from index.whoosh_engine.whoosh_types import Reader, WhooshDir


def open_dir(gen: Path, *, readonly: bool = False) -> WhooshDir:
    """One generation directory, opened the way every reader and writer here opens it:
    without memory-mapping.

    Whoosh 2.7 maps each compound segment file and then hands its readers a ``BytesIO``
    over the map, which *copies* the segment's terms and postings into the process at
    every open: 330 MB of a 480 MB index at 100k records, again for each thread's
    searcher and each writer session (measured: a warm worker 1.22 GB with the map,
    0.27 GB without). Without the map Whoosh reads what it needs from a file of its own
    per reader (safe across threads that each have their own reader), through the
    windows below, which keep those reads about as cheap as reads from memory."""
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
        size = left if size is None else min(size, left)  # (as Whoosh's: -1 reads nothing)
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


#: Term lookups a segment reader remembers (:func:`remember_lookups`).
_LOOKUPS_KEPT = 256


def remember_lookups(reader: Reader) -> None:
    """Each segment reader remembers its last :data:`_LOOKUPS_KEPT` term lookups.

    Whoosh looks a term up in a segment's on-disk hash table about a dozen times in one
    Whoosh query (whether it is there, its frequencies, its postings; measured 3,200
    lookups per known-item lookup over 10 segments), each lookup several reads of the
    file; the reader's own lookup method is replaced by a remembering one (an attribute
    of this reader only, which no other code shares)."""
    for leaf, _base in reader.leaf_readers():
        table: Any = getattr(getattr(leaf, "_terms", None), "_tindex", None)
        find = getattr(table, "ranges_for_key", None)
        if find is not None:
            def ranges(key: bytes, find: Any = find) -> tuple[tuple[int, int], ...]:
                return tuple(find(key))
            table.ranges_for_key = functools.lru_cache(_LOOKUPS_KEPT)(ranges)
