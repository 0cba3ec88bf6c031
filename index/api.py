"""The entry points: open an index, rebuild one. The engine is chosen here and nowhere else.

An index directory records the engine of its live generation (index/generations.py), so
:func:`open_index` opens whatever is there; ``engine`` only chooses for a directory that
holds no index yet (default Whoosh). :func:`rebuild` builds a whole new generation with
the engine asked for (default: the current one) and swaps it in atomically — converting
an instance from one engine to the other.

Callers get a :class:`~index.contract.SearchIndex` and :mod:`index.results` dataclasses,
which name no engine; the engine modules are imported when an index is first opened, so
code that only needs :class:`~index.record.Record` (the harvesters' crosswalks) never loads
Whoosh or tantivy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from index.contract import SearchIndex
from index.convert import converted, load
from index.generations import ENGINES, check_engine, current_engine
from index.record import Record

__all__ = ["ENGINES", "index_engine", "open_index", "rebuild"]


def index_engine(path: str | Path) -> str | None:
    """The engine of the index in ``path``, or None when there is none."""
    return current_engine(Path(path))


def open_index(path: str | Path, *, readonly: bool = False,
               engine: str | None = None) -> SearchIndex:
    """Open (or, unless ``readonly``, create with ``engine``) the index in ``path``."""
    path = Path(path)
    chosen = current_engine(path) or check_engine(engine or ENGINES[0])
    if chosen == "tantivy":
        from index.tantivy_engine.tantivy_index import TantivyIndex

        return TantivyIndex(path, readonly=readonly)
    from index.whoosh_engine.whoosh_index import WhooshIndex

    return WhooshIndex(path, readonly=readonly)


def rebuild(path: str | Path, records: Iterable[Record] | Iterable[Any], *, batch: int = 10000,
            procs: int | None = None, engine: str | None = None,
            progress: Callable[[int], None] | None = None, convert: str | None = None,
            failed: Callable[[str], None] | None = None) -> None:
    """Build a complete index from ``records`` beside ``path`` and swap it in atomically.

    ``engine``: the new generation's engine (default: the current index's, else Whoosh).
    ``batch`` records per commit; ``procs`` processes: Whoosh's indexing processes
    (default 1), tantivy's worker processes preparing records (default: one per core
    beyond the first). ``progress``, when given, is called now and then with the number
    of records done so far, and once at the end.

    ``convert``: ``records`` are raw items, and this names (``"module:function"``) the
    top-level function that turns one into a Record, or into a str saying why it cannot
    be indexed; each such str goes to ``failed`` in this process, in input order, and the
    rebuild goes on (index/convert.py). The tantivy engine runs that function in its
    worker processes; ``progress`` then counts the Records made.
    """
    path = Path(path)
    chosen = check_engine(engine or current_engine(path) or ENGINES[0])
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if done % PROGRESS_EVERY == 0 and progress is not None:
            progress(done)

    def counted(recs: Iterable[Record]) -> Iterator[Record]:
        for rec in recs:
            yield rec
            tick()

    if chosen == "tantivy":
        from index.tantivy_engine.rebuild import rebuild as rebuild_tantivy

        if convert is None:
            rebuild_tantivy(path, counted(records), batch=batch, procs=procs)
        else:  # the Records are made in the workers: counted as they come back
            rebuild_tantivy(path, records, batch=batch, procs=procs, convert=convert,
                            failed=failed, done=tick)
    else:
        from index.whoosh_engine.rebuild import rebuild as rebuild_whoosh

        if convert is not None:
            records = converted(records, load(convert), failed)
        rebuild_whoosh(path, counted(records), batch=batch, procs=procs)
    if progress is not None:
        progress(done)


#: How often a rebuild reports progress, in records taken from its input.
PROGRESS_EVERY = 1000
