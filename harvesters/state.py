"""A repository's harvest checkpoint: what survives between runs, and between a kill and a restart.

The loop (:mod:`harvesters.runner`) moves a :class:`Checkpoint` forward and saves it after
every commit; this module says what a checkpoint holds and how it changes at the two run
boundaries, without any I/O besides the stores:

* **The high-water mark** is the server's own ``responseDate`` of Identify at the start of
  the last successful run (our clock is not theirs).  A new incremental run asks ``from``
  that mark minus an overlap (1 day for day granularity, 1 hour for seconds), so a record
  stamped while a run was listing is seen (:func:`start_run`).
* **The mark is pinned by failures**: a record that failed in a run pins the next mark at
  its datestamp (so the next run fetches it again), and a failure whose datestamp could not
  be read keeps the previous mark (:func:`next_high_water`).
* **The run in progress** (its id, the set being listed, the ``from`` of that list, the
  resumption token of the page *after* the last committed one, the last datestamp seen and
  whether datestamps came in order) lets a restart go on where the last commit left off,
  and an expired token restart from a safe datestamp.

The store is anything with ``load(code)``/``save(checkpoint)`` (:class:`CheckpointStore`);
the app keeps checkpoints in its SQL database (``resolver.harvesting.run``),
:class:`JsonFileCheckpointStore` serves the CLI and tests.  The saved form is
:meth:`Checkpoint.to_dict`: its keys are stored in instances' databases and files, so a key
is only ever added (unknown keys are ignored when read).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from harvesters.client import DAY, format_datestamp, parse_datestamp


@dataclass
class Checkpoint:
    """What survives between runs (and between a kill and a restart) for one repository."""

    repository: str
    #: server responseDate at the start of the last successful run
    high_water: str | None = None
    last_full: str | None = None
    # quirks learnt from Identify
    granularity: str | None = None
    deleted_record: str | None = None
    # the run in progress (run_id is None when no run is in progress)
    run_id: str | None = None
    run_full: bool = False
    run_started: str | None = None
    run_from: str | None = None
    set_index: int = 0
    list_from: str | None = None
    list_complete: bool = False
    token: str | None = None
    last_datestamp: str | None = None
    monotone: bool = True
    pages: int = 0
    unknown_failures: int = 0
    #: earliest datestamp of a record that failed in this run (the next run starts there)
    failed_from: str | None = None
    #: a record failed whose datestamp could not be read: the high-water mark stays put
    failed_undated: bool = False

    @property
    def in_progress(self) -> bool:
        return self.run_id is not None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --------------------------------------------------------------------------- run boundaries


def start_run(
    st: Checkpoint,
    *,
    full: bool,
    from_: str | datetime | None,
    started: str,
    overlap: timedelta | None = None,
) -> None:
    """Begin a new run in ``st``: a full list, a list ``from_`` a date, or an incremental
    list from the high-water mark minus ``overlap`` (default: by granularity)."""
    clear_run(st)
    st.run_id = f"{started}-{uuid.uuid4().hex[:8]}"
    st.run_full = full
    st.run_started = started
    if full:
        st.run_from = None
    elif from_ is not None:
        st.run_from = format_datestamp(from_, st.granularity or DAY)
    elif st.high_water:
        if overlap is None:
            overlap = timedelta(days=1) if st.granularity == DAY else timedelta(hours=1)
        since = parse_datestamp(st.high_water) - overlap
        st.run_from = format_datestamp(since, st.granularity or DAY)
    else:
        st.run_from = None
    st.list_from = st.run_from


def next_list(st: Checkpoint) -> None:
    """Move on to the next set's list (the previous one is complete and committed)."""
    st.set_index += 1
    st.list_from, st.list_complete, st.token = st.run_from, False, None
    st.last_datestamp, st.monotone = None, True


def clear_run(st: Checkpoint) -> None:
    """Forget the run in progress (the marks between runs stay)."""
    st.run_id = None
    st.run_full = False
    st.run_started = st.run_from = st.list_from = st.token = st.last_datestamp = None
    st.set_index = st.pages = st.unknown_failures = 0
    st.list_complete = False
    st.monotone = True
    st.failed_from = None
    st.failed_undated = False


def next_high_water(st: Checkpoint) -> str | None:
    """Where the next incremental run starts (before its overlap): this run's start, but
    never past a record that failed, so that the next run fetches it again; a failure
    without a readable datestamp keeps the previous mark."""
    if st.failed_undated:
        return st.high_water
    if st.failed_from and st.run_started:
        return min(st.run_started, _day_floor(st.failed_from), key=datestamp_key)
    return st.run_started


def track_datestamp(
    last: str | None, monotone: bool, datestamp: str
) -> tuple[str | None, bool]:
    """The latest datestamp seen so far, and whether they all came in order."""
    if not datestamp:
        return last, monotone
    if last and datestamp_key(datestamp) < datestamp_key(last):
        monotone = False
    if not last or datestamp_key(datestamp) >= datestamp_key(last):
        last = datestamp
    return last, monotone


def datestamp_key(datestamp: str) -> str:
    """Sort key of a datestamp: day and seconds datestamps of one repository compare
    correctly as ISO strings."""
    return datestamp.strip()


def _day_floor(datestamp: str) -> str:
    # A day-granularity datestamp is the start of its day in seconds granularity.
    return datestamp if "T" in datestamp else f"{datestamp}T00:00:00Z"


# --------------------------------------------------------------------------- stores


class CheckpointStore(Protocol):
    """Persistence of :class:`Checkpoint`; ``save`` must be atomic and durable."""

    def load(self, repository: str) -> Checkpoint | None: ...

    def save(self, state: Checkpoint) -> None: ...


class MemoryCheckpointStore:
    """Checkpoints in a dict (tests)."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self, repository: str) -> Checkpoint | None:
        with self._lock:
            data = self.states.get(repository)
        return Checkpoint.from_dict(data) if data else None

    def save(self, state: Checkpoint) -> None:
        with self._lock:
            self.states[state.repository] = state.to_dict()


class JsonFileCheckpointStore:
    """One JSON file per repository in ``directory``, replaced atomically on every save."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, repository: str) -> Path:
        return self.directory / f"{repository}.json"

    def load(self, repository: str) -> Checkpoint | None:
        try:
            data = json.loads(self._path(repository).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return Checkpoint.from_dict(data)

    def save(self, state: Checkpoint) -> None:
        path = self._path(state.repository)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state.to_dict(), fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)  # readers see the old or the new file, never half of one
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
