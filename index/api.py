"""The entry points: open an index, rebuild one. The engine is chosen here and nowhere else.

Callers get a :class:`~index.contract.SearchIndex` and :mod:`index.results` dataclasses,
which name no engine; the engine modules are imported when an index is first opened, so
code that only needs :class:`~index.record.Record` (the harvesters' crosswalks) never loads
Whoosh.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from index.contract import SearchIndex
from index.record import Record


def open_index(path: str | Path, *, readonly: bool = False) -> SearchIndex:
    """Open (or, unless ``readonly``, create) the index in directory ``path``."""
    from index.engine.whoosh_index import WhooshIndex

    return WhooshIndex(Path(path), readonly=readonly)


def rebuild(path: str | Path, records: Iterable[Record], *, batch: int = 10000,
            procs: int | None = None) -> None:
    """Build a complete index from ``records`` beside ``path`` and swap it in atomically.

    ``procs`` indexing processes (default 1); ``batch`` records per commit.
    """
    from index.engine.rebuild import rebuild as rebuild_whoosh

    rebuild_whoosh(Path(path), records, batch=batch, procs=procs)
