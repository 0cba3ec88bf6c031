"""The request log's buffer: resolve and click rows kept in the process, written in batches.

Committing one row per OpenURL cost about a quarter of a resolution's time in the process
(``bench/resolve.py``). A web worker therefore keeps the rows it logs — a
:class:`~resolver.usage.models.ResolveLog` per resolution, a
:class:`~resolver.usage.models.ClickLog` per counted ``/go/`` click — in memory, and writes
them in one transaction, one multi-row INSERT per table:

* when ``batch`` rows are held (``LIENHOP_REQUEST_LOG_BATCH``, 200);
* when the oldest row has waited ``flush_seconds`` (``LIENHOP_REQUEST_LOG_FLUSH_SECONDS``, 2),
  whether or not more requests come: a flusher thread waits for whichever comes first, and
  ends when nothing is held (the next row starts another);
* when the process exits normally (:mod:`atexit`): a gunicorn worker stopped by SIGTERM,
  SIGINT or SIGQUIT, restarted by ``max_requests`` or after its timeout, ``lienhop run``
  stopped by Ctrl-C all leave through ``sys.exit``;
* before a usage report or the roll-up reads the logs in this process (:func:`flush_all`,
  called by :func:`resolver.usage.rollup.refresh`). Rows held by *other* workers reach the
  reports within ``flush_seconds``.

A request only appends to a list under a lock: the flusher thread writes. Each row is
stamped with its time (``at``) when it is added, so a row written later still counts in the
right minute and month. The harvest worker logs no requests and keeps no buffer.

**Worst case on a crash.** A worker killed before its exit handlers run (``kill -9``, the
OOM killer, a power cut) loses the rows it held: at most ``batch`` rows or ``flush_seconds``
seconds of its requests, whichever is fewer — 200 rows or 2 seconds per worker by default —
and, while the database is unavailable, everything it was holding (up to ``max_rows``).
``batch`` 0 or 1, or ``flush_seconds`` 0, writes every row as it happens, as lienhop did
before (then only the row of a request in flight can be lost).

**The database unavailable** (down, unreachable, or locked past SQLite's busy timeout): the
rows are kept and tried again after ``flush_seconds``, backing off to
:data:`MAX_RETRY_SECONDS`; the buffer holds at most ``max_rows`` (``max(10 000,
10 × batch)``, a few megabytes), and rows beyond that are dropped and counted, with one
warning a minute saying how many (:data:`REPORT_SECONDS`). A row the database refuses (a data
error) is dropped alone, not its batch. A request never waits for the database because of
its log line and never sees a logging failure (the rule of
:func:`resolver.usage.recording.record`). A month rolled up while its last rows were held
through an outage (one starting in the hour after the month ended) gets them after
``lienhop usage rollup --rebuild``.

**Under test** (``LIENHOP_ENV=testing``) the web app flushes at the end of every request
(:func:`resolver.web.services.init_app`; ``LIENHOP_REQUEST_LOG_FLUSH_EACH_REQUEST=False`` in
the app's config turns that off). Tests read the log right after a request, as they always
could, and still every one that resolves or clicks goes through this buffer and its batch
INSERT — write-through under test would have left the code production runs to the few tests
written for it.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from resolver.db.base import utcnow
from resolver.usage.models import ClickLog, ResolveLog

log = logging.getLogger("lienhop.usage")

#: The tables whose rows are buffered.
LogTable = type[ResolveLog] | type[ClickLog]
#: A held row: when it was added (monotonic clock), its table, its column values.
_Held = tuple[float, LogTable, dict[str, Any]]

#: The longest wait between two attempts while the database is unavailable.
MAX_RETRY_SECONDS = 30.0
#: Seconds between two warnings about dropped rows or failed writes.
REPORT_SECONDS = 60.0

#: Errors that mean "the database cannot take writes now" (the rows are kept); any other
#: database error is about the rows themselves (they are written one by one).
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


class BufferState(NamedTuple):
    """What became of the rows a buffer was given (:meth:`LogBuffer.state`)."""

    held: int
    written: int
    dropped: int


def default_max_rows(batch: int) -> int:
    """How many rows a buffer holds at most: ten batches, and never fewer than 10,000 (a few
    megabytes; minutes of a busy worker's requests, enough to ride out a database restart)."""
    return max(10_000, 10 * batch)


class LogBuffer:
    """The request-log rows of one web app (one per worker process), written in batches.

    ``sessions`` makes the sessions the rows are written with (never a request's session).
    :meth:`add`, :meth:`flush` and :meth:`close` never raise; all are thread-safe.
    """

    def __init__(self, sessions: Callable[[], Session], *, batch: int = 200,
                 flush_seconds: float = 2.0, max_rows: int | None = None) -> None:
        self._sessions = sessions
        self.batch = max(1, batch)
        self.flush_seconds = max(0.0, flush_seconds)
        #: every row written as it happens, in the request's thread
        self.write_through = batch <= 1 or flush_seconds <= 0
        self.max_rows = max(1, max_rows if max_rows is not None else default_max_rows(batch))
        #: rows written, and rows dropped (buffer full, refused, or lost at exit), since start
        self.written = 0
        self.dropped = 0
        self._reset()
        _live.add(self)

    def _reset(self) -> None:
        """Fresh locks, nothing held, no thread (at start, and in a forked child)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._flushing = threading.Lock()  # one write at a time: flush() waits for the thread's
        self._rows: deque[_Held] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failures = 0  # writes failed in a row (the database unavailable)
        self._retry_at = 0.0
        self._unreported = 0  # rows dropped since the last warning
        self._reported_at = -math.inf

    # --- what requests call ---------------------------------------------------------------

    def add(self, table: LogTable, values: dict[str, Any]) -> None:
        """Keep one row for writing (stamped now unless ``values`` has ``at``). Never raises,
        never waits for the database (but for a write-through buffer, which writes it)."""
        try:
            values.setdefault("at", utcnow())
            now = time.monotonic()
            if self.write_through or self._closed:
                self._write([(now, table, values)], keep=False)
                return
            with self._lock:
                if len(self._rows) >= self.max_rows:
                    self._count_dropped(1)
                else:
                    self._rows.append((now, table, values))
                    if self._thread is None:
                        self._start()
                    elif len(self._rows) >= self.batch:
                        self._wake.notify()
            self._report_drops()
        except Exception:  # a lost log line must not cost the user their article
            log.exception("could not log a request")

    def __len__(self) -> int:
        """Rows held now (not counting those being written)."""
        return len(self._rows)

    def state(self) -> BufferState:
        """Rows held, written and dropped, read between two writes (so that every row added
        is in exactly one of them, or still being added)."""
        with self._flushing, self._lock:
            return BufferState(len(self._rows), self.written, self.dropped)

    # --- writing -------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every row held now, after any write in progress; returns the rows written.

        Rows the database cannot take now stay held (they are tried again later)."""
        try:
            with self._flushing:
                with self._lock:
                    rows = list(self._rows)
                    self._rows.clear()
                written = self._write(rows, keep=not self._closed) if rows else 0
            self._report_drops()
            return written
        except Exception:
            log.exception("could not write the request log")
            return 0

    def close(self) -> None:
        """Write what is held and stop buffering (rows added later are written at once)."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        self.flush()
        self._report_drops(force=True)

    def _write(self, rows: Sequence[_Held], *, keep: bool) -> int:
        """Write ``rows`` in one transaction; on failure keep them (``keep``) or drop them."""
        try:
            self._insert(rows)
        except _UNAVAILABLE as exc:
            self._unavailable(rows, exc, keep=keep)
            return 0
        except SQLAlchemyError:
            return self._one_by_one(rows, keep=keep)
        except Exception:  # a bug here, not the database: the same rows would fail again
            log.exception("could not write %d request-log rows; dropped", len(rows))
            with self._lock:
                self._count_dropped(len(rows))
            return 0
        with self._lock:
            self.written += len(rows)
            recovered, self._failures, self._retry_at = self._failures, 0, 0.0
        if recovered:
            log.warning("request log: the database takes writes again (%d rows written)",
                        len(rows))
        return len(rows)

    def _insert(self, rows: Sequence[_Held]) -> None:
        by_table: dict[LogTable, list[dict[str, Any]]] = {}
        for _added, table, values in rows:
            by_table.setdefault(table, []).append(values)
        with self._sessions() as session:
            for table, many in by_table.items():
                # NULLs written, not left out: else the ORM splits the rows into one INSERT
                # per set of non-null columns.
                session.execute(insert(table).execution_options(render_nulls=True), many)
            session.commit()

    def _one_by_one(self, rows: Sequence[_Held], *, keep: bool) -> int:
        """After the database refused a batch: write its rows alone, dropping those refused."""
        written = 0
        for i, row in enumerate(rows):
            try:
                self._insert([row])
            except _UNAVAILABLE as exc:
                self._unavailable(rows[i:], exc, keep=keep)
                break
            except Exception:
                log.warning("request log: the database refused a %s row; dropped",
                            row[1].__tablename__, exc_info=True)
                with self._lock:
                    self._count_dropped(1)
            else:
                written += 1
        with self._lock:
            self.written += written
        return written

    def _unavailable(self, rows: Sequence[_Held], exc: Exception, *, keep: bool) -> None:
        """Keep ``rows`` ahead of the rows added since (up to ``max_rows``), and wait."""
        with self._lock:
            self._failures += 1
            first = self._failures == 1
            wait = min(MAX_RETRY_SECONDS, max(self.flush_seconds, 0.5) * 2 ** (self._failures - 1))
            self._retry_at = time.monotonic() + wait
            if keep:
                room = max(0, self.max_rows - len(self._rows))
                kept = list(rows[:room])
                self._rows.extendleft(reversed(kept))
                self._count_dropped(len(rows) - len(kept))
                if self._thread is None and not self._closed and self._rows:
                    self._start()
            else:
                self._count_dropped(len(rows))
            held = len(self._rows)
        if first:  # once per outage; the rows dropped are counted by _report_drops
            log.warning("request log: could not write %d rows (%s: %s); %s", len(rows),
                        type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                        f"{held} held, trying again in {wait:.0f} s" if keep else "dropped")

    # --- the flusher thread ----------------------------------------------------------------

    def _start(self) -> None:
        """Start the flusher (the caller holds ``_lock``)."""
        thread = threading.Thread(target=self._run, name="lienhop-request-log", daemon=True)
        self._thread = thread
        thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while True:
                    if self._closed or not self._rows:
                        self._thread = None
                        return
                    now = time.monotonic()
                    due = now if len(self._rows) >= self.batch else (
                        self._rows[0][0] + self.flush_seconds)
                    due = max(due, self._retry_at)
                    if now >= due:
                        break
                    self._wake.wait(due - now)
            self.flush()

    # --- dropped rows ----------------------------------------------------------------------

    def _count_dropped(self, n: int) -> None:
        """Count ``n`` dropped rows (the caller holds ``_lock``)."""
        if n > 0:
            self.dropped += n
            self._unreported += n

    def _report_drops(self, *, force: bool = False) -> None:
        """Say how many rows were dropped, at most once per :data:`REPORT_SECONDS`."""
        if not self._unreported:
            return
        with self._lock:
            now = time.monotonic()
            n = self._unreported
            if not n or (not force and now - self._reported_at < REPORT_SECONDS):
                return
            self._unreported, self._reported_at = 0, now
            held, total = len(self._rows), self.dropped
        log.warning("request log: %d rows dropped since the last report (%d in all); %d held, "
                    "at most %d: the database could not take them", n, total, held,
                    self.max_rows)

    def _after_fork(self) -> None:
        # The parent writes what it held; a child starts empty, with locks no thread holds.
        self._reset()


#: Every buffer of this process, for :func:`flush_all` and the exit handler.
_live: weakref.WeakSet[LogBuffer] = weakref.WeakSet()


def flush_all() -> int:
    """Write the rows every buffer of this process holds (before the logs are read)."""
    return sum(buf.flush() for buf in list(_live))


def _close_all() -> None:
    for buf in list(_live):
        buf.close()


def _after_fork_in_child() -> None:
    for buf in list(_live):
        buf._after_fork()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
