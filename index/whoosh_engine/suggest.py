"""The Whoosh engine's spelling tables: one per segment and field, saved beside the segment.

The tables and the bounded search over them are engine-neutral (index/suggestion.py);
here they are built from a Whoosh segment's lexicon, saved at commit (by the writer, which
holds the lock) and mapped by readers. Segments never change, so a table lives as long as
the process reads its segment.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from index import querylang as qlang
from index.suggestion import FIELDS, DeleteTable, vocabulary_terms
from index.suggestion import suggest as suggest_with
from index.whoosh_engine.whoosh_types import Reader, Searcher

# (segment id, field) → (table, when last used)
_TABLES: dict[tuple[str, str], tuple[DeleteTable, float]] = {}
_KEEP_UNUSED = 60.0  # seconds
_TABLES_LOCK = threading.Lock()


def _vocabulary(reader: Reader, fieldname: str) -> list[str]:
    return vocabulary_terms(b.decode("utf-8") if isinstance(b, bytes) else b
                            for b in reader.lexicon(fieldname))


def _table_path(directory: Path, segment_id: str, fieldname: str) -> Path:
    # "<segment id>.<ext>" is Whoosh's own file pattern: its clean-up deletes the table
    # with the segment when a merge or a deletion retires it.
    return directory / f"{segment_id}.sugg_{fieldname}"


def write_tables(directory: Path, reader: Reader) -> int:
    """Save the table of every segment of ``reader`` that has none yet (after a commit,
    by the writer, which holds the index lock); returns how many were written."""
    written = 0
    for leaf, _base in reader.leaf_readers():
        seg = leaf.segment()
        if seg is None:
            continue
        for fieldname in FIELDS:
            path = _table_path(directory, seg.segment_id(), fieldname)
            if path.exists() or fieldname not in leaf.indexed_field_names():
                continue
            table = DeleteTable.build(_vocabulary(leaf, fieldname),
                                       folded=fieldname.endswith("_f"))
            table.save(path)
            written += 1
    return written


def _tables(directory: Path, leaves: list[Reader], fieldname: str) -> list[DeleteTable]:
    """The table of every segment of a snapshot: mapped from its file, or built here for a
    segment that has none (an index written before tables were, a commit cut short)."""
    segments = {r.segment().segment_id(): r for r in leaves if r.segment() is not None}
    wanted = [sid for sid, r in segments.items() if fieldname in r.indexed_field_names()]
    now = time.monotonic()
    with _TABLES_LOCK:  # one load or build per segment, even when threads ask at once
        missing = [sid for sid in wanted if (sid, fieldname) not in _TABLES]
        if missing:
            # Segments merged away leave every snapshot soon: drop their tables once no
            # thread has asked for them for a while (one still on an older snapshot might).
            for key, (_t, used) in list(_TABLES.items()):
                if key[0] not in segments and now - used > _KEEP_UNUSED:
                    del _TABLES[key]
            for sid in missing:
                table = DeleteTable.load(_table_path(directory, sid, fieldname))
                if table is None:
                    table = DeleteTable.build(_vocabulary(segments[sid], fieldname),
                                               folded=fieldname.endswith("_f"))
                _TABLES[(sid, fieldname)] = (table, now)
        out = []
        for sid in wanted:
            table, _used = _TABLES[(sid, fieldname)]
            _TABLES[(sid, fieldname)] = (table, now)
            out.append(table)
    return out


def suggest(searcher: Searcher, ast: qlang.Node, directory: Path) -> list[str]:
    """The query with each unknown syllable replaced by its nearest indexed term, or [].

    ``directory`` holds the searcher's segments (and their tables)."""
    reader = searcher.reader()

    def tables(fieldname: str) -> list[DeleteTable]:
        return _tables(directory, [r for r, _base in reader.leaf_readers()], fieldname)

    return suggest_with(ast, reader.doc_frequency, tables)
