"""A complete tantivy index built beside the live one, then swapped in atomically."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from index.generations import swap_generation, writer_lock
from index.record import Record
from index.tantivy_engine.storage import new_generation
from index.tantivy_engine.writer import Writer

#: How long a rebuild waits for the writer lock (a harvester's session may hold it).
_LOCK_TIMEOUT = 3600.0


def rebuild(path: Path, records: Iterable[Record], *, batch: int = 10000) -> None:
    """Build a new generation from ``records`` (``batch`` a commit) and switch CURRENT to
    it. Holds the writer lock for the whole run; readers keep answering from the old
    generation until the swap and follow CURRENT on their next request."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with writer_lock(path, _LOCK_TIMEOUT):
        gen = new_generation(path)
        try:
            buf: list[Record] = []

            def flush() -> None:
                w = Writer(gen)
                w.add(buf)
                w.commit()
                buf.clear()

            for rec in records:
                buf.append(rec)
                if len(buf) >= batch:
                    flush()
            if buf:
                flush()
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        swap_generation(path, gen)
