"""The tantivy engine's spelling tables (index/suggestion.py): one file per commit.

tantivy's segments are not visible from Python, so tables are kept per commit instead of
per segment: the writer saves a table of the terms its session added (``sugg-<ns>.<field>``
in the generation directory) before committing, and readers map every table file there.
A table naming terms whose documents were deleted (or whose commit never finished) only
adds candidates that the suggester drops (it keeps terms some document holds). When a
generation has more than :data:`MAX_FILES` tables of a field, the writer replaces them by
one table of the whole vocabulary, so a reader maps a bounded number of files.

Every walk of a field's vocabulary goes through :func:`vocabulary` (tests count them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import tantivy

from index.suggestion import FIELDS, DeleteTable, vocabulary_terms

MAX_FILES = 16
_PREFIX = "sugg-"
# table file path → (table, when last used)
_TABLES: dict[Path, tuple[DeleteTable, float]] = {}
_KEEP_UNUSED = 60.0  # seconds
_LOCK = threading.Lock()


def vocabulary(searcher: tantivy.Searcher, fieldname: str) -> list[str]:
    """Every term of ``fieldname`` a table keeps (a walk of the whole vocabulary)."""
    return vocabulary_terms(t for t, _n in searcher.terms_with_prefix(fieldname, ""))


def _files(gen: Path, fieldname: str) -> list[Path]:
    return sorted(gen.glob(f"{_PREFIX}*.{fieldname}"))


def save_tables(gen: Path, terms: Mapping[str, Iterable[str]]) -> None:
    """Save a table of ``terms`` per field (the terms a writer session adds)."""
    stamp = time.time_ns()
    for fieldname in FIELDS:
        words = sorted(set(vocabulary_terms(iter(terms.get(fieldname, ())))))
        if words:
            DeleteTable.build(words, folded=fieldname.endswith("_f")).save(
                gen / f"{_PREFIX}{stamp}.{fieldname}")


def compact_tables(gen: Path, searcher: tantivy.Searcher) -> None:
    """Replace a field's tables by one of its whole vocabulary once there are too many
    (by the writer, after its commit, holding the lock)."""
    for fieldname in FIELDS:
        old = _files(gen, fieldname)
        if len(old) <= MAX_FILES:
            continue
        table = DeleteTable.build(vocabulary(searcher, fieldname),
                                  folded=fieldname.endswith("_f"))
        table.save(gen / f"{_PREFIX}{time.time_ns()}.{fieldname}")
        for path in old:
            path.unlink(missing_ok=True)


def tables(gen: Path, fieldname: str) -> list[DeleteTable]:
    """The tables of ``fieldname`` in generation ``gen``, mapped once per process."""
    now = time.monotonic()
    out = []
    with _LOCK:
        for path in _files(gen, fieldname):
            hit = _TABLES.get(path)
            if hit is None:
                table = DeleteTable.load(path)
                if table is None:  # removed by a compaction, or unreadable: skip it
                    continue
            else:
                table = hit[0]
            _TABLES[path] = (table, now)
            out.append(table)
        for path, (_t, used) in list(_TABLES.items()):
            if now - used > _KEEP_UNUSED and not path.exists():
                del _TABLES[path]
    return out
