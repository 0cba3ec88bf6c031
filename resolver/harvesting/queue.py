"""Harvest jobs: the ``harvest_job`` table, the huey queue and ``lienhop worker``'s tasks.

The web process only writes a ``harvest_job`` row and sends its id through huey; a worker
process (``lienhop worker``, huey's consumer) claims the row and runs
:func:`resolver.harvesting.run.harvest`, so a slow repository never holds a web request. The
pages read the table, never huey's storage, which is chosen by ``LIENHOP_QUEUE_URL``: SQLite
(one machine, no server) or Redis (workers on several machines share the queue).

Huey removes a message when a worker takes it, so a worker killed mid-job takes its message
with it. The table is therefore the source of truth: a running job has a ``heartbeat`` its
worker refreshes every few seconds, and :func:`recover_stale_jobs` (at worker start-up and
every minute) puts a job whose worker is gone back to ``queued`` and sends it again. The
harvester checkpoints after every committed page, so the retry resumes instead of starting
over. Claiming is one conditional UPDATE, so a job sent twice still runs once.

A queued job has no worker yet, so its own row cannot say whether one will ever take it:
every worker process also reports itself in ``harvest_worker`` (:class:`WorkerBeat`), and the
pages warn when none has reported for ``LIENHOP_JOB_STALE_SECONDS`` (:func:`worker_seen`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from resolver import db
from resolver.accounts.auth import audit_entry
from resolver.db.base import utcnow
from resolver.harvesting.models import (
    ACTIVE_STATUSES,
    CANCELLED,
    DONE,
    FAILED,
    FULL,
    FULL_MASS_DELETE,
    JOB_KINDS,
    PARTIAL,
    QUEUED,
    RUNNING,
    HarvestJob,
    HarvestRun,
    HarvestWorker,
)
from resolver.registry.models import Repository
from resolver.registry.schedule import is_due
from resolver.settings import ConfigError, Settings

if TYPE_CHECKING:
    # resolver.harvesting.run is imported where a job runs: it loads the index and the
    # harvesters, which the web process queueing a job never needs.
    from resolver.harvesting.run import JobContext

log = logging.getLogger("lienhop.jobs")

HOST = socket.gethostname()
RUN_TASK = "lienhop.run_harvest_job"
TICK_TASK = "lienhop.tick"
MAX_LOG_CHARS = 60_000
#: How a job-log line is stamped: UTC, with its zone (naive datetimes are UTC too).
LOG_STAMP = "%Y-%m-%dT%H:%M:%SZ"


class Cancelled(Exception):  # noqa: N818 - reads better at the raise site
    """Raised from the harvest's progress callback to stop a cancelled job.

    An ``Exception`` (not ``BaseException``) on purpose: ``harvest_repository`` catches it at
    its run boundary, commits the complete pages and keeps the checkpoint, then reports the
    run as failed, which :func:`run_job` turns into ``cancelled``.
    """


def make_huey(queue_url: str, *, name: str = "lienhop") -> Huey:
    """The huey instance for ``LIENHOP_QUEUE_URL`` (``sqlite:///path`` or ``redis://…``)."""
    if queue_url.startswith("sqlite:///"):
        path = queue_url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # results=False: the harvest_job row is the result; nothing to keep in the queue.
        return SqliteHuey(name, filename=path, results=False)
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=queue_url, results=False)
    raise ConfigError(
        f"LIENHOP_QUEUE_URL must be sqlite:///PATH or redis://HOST:PORT/DB, not {queue_url!r}")


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}:{threading.current_thread().name}"[:200]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_gone(worker: str, pid_alive: Callable[[int], bool]) -> bool:
    """True when ``worker`` ran on this machine in a process that no longer exists."""
    host, _, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != HOST or not pid_text.isdigit():
        return False  # another machine's worker: only its heartbeat can tell
    pid = int(pid_text)
    return pid != os.getpid() and not pid_alive(pid)


# --- enqueue, cancel ----------------------------------------------------------------------

class AlreadyQueued(Exception):  # noqa: N818
    """The repository already has a queued or running job."""

    def __init__(self, job_id: int):
        super().__init__(f"job {job_id} is already queued or running")
        self.job_id = job_id


def active_job(db_session: Session, repository_id: int) -> HarvestJob | None:
    return db_session.scalar(
        select(HarvestJob).where(HarvestJob.repository_id == repository_id,
                                 HarvestJob.status.in_(ACTIVE_STATUSES))
        .order_by(HarvestJob.id.desc()).limit(1))


def create_job(db_session: Session, repository: Repository, kind: str, enqueued_by: str,
               ) -> HarvestJob:
    """Add a queued job (the caller commits, then sends it with :meth:`JobQueue.send`).

    One repository has at most one active job: two harvests of one repository would fight
    over its checkpoint.
    """
    if kind not in JOB_KINDS:
        raise ValueError(f"job kind must be one of {JOB_KINDS}")
    current = active_job(db_session, repository.id)
    if current is not None:
        raise AlreadyQueued(current.id)
    job = HarvestJob(repository_id=repository.id, kind=kind, status=QUEUED,
                     enqueued_by=enqueued_by, enqueued_at=utcnow(), cancel_requested=False,
                     attempts=0, worker="", task_id="", error="", log="")
    db_session.add(job)
    db_session.flush()
    return job


def request_cancel(db_session: Session, job: HarvestJob) -> bool:
    """Cancel a queued job at once, or ask a running one to stop at its next page."""
    if job.status == QUEUED:
        job.status, job.cancel_requested, job.finished_at = CANCELLED, True, utcnow()
        return True
    if job.status == RUNNING:
        job.cancel_requested = True
        return True
    return False


# --- running one job -----------------------------------------------------------------------

def claim(sessions: sessionmaker[Session], job_id: int, me: str) -> bool:
    """Take a queued job for ``me``; False when it is not queued (done, taken, cancelled)."""
    now = utcnow()
    with db.transaction(sessions) as s:
        result = s.execute(
            update(HarvestJob)
            .where(HarvestJob.id == job_id, HarvestJob.status == QUEUED)
            .values(status=RUNNING, worker=me, heartbeat=now, attempts=HarvestJob.attempts + 1,
                    started_at=func.coalesce(HarvestJob.started_at, now))
        )
        assert isinstance(result, CursorResult)  # an UPDATE's result: it has a rowcount
        return result.rowcount == 1


class _JobLog(logging.Handler):
    """Collects the harvest's log lines from the job's own thread, for the job page."""

    def __init__(self, thread_id: int):
        super().__init__(logging.INFO)
        self.thread_id = thread_id
        self.lines: list[str] = []
        self.buffer_lock = threading.Lock()
        # stamped in UTC with its zone, like every stored time; pages show Vietnam time
        # (resolver/web/times.py, local_log)
        stamps = logging.Formatter("%(asctime)s %(levelname)s %(message)s", LOG_STAMP)
        stamps.converter = time.gmtime
        self.setFormatter(stamps)

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread_id:
            return
        with self.buffer_lock:
            self.lines.append(self.format(record))

    def take(self) -> list[str]:
        with self.buffer_lock:
            lines, self.lines = self.lines, []
        return lines


@dataclass
class _Watch:
    """Shared state of one running job between the harvest thread and its heartbeat."""

    job_id: int
    me: str
    sessions: sessionmaker[Session]
    joblog: _JobLog
    cancel: bool = False
    lost: bool = False
    stop: threading.Event = field(default_factory=threading.Event)

    def beat(self, *, run_id: int | None = None) -> None:
        """Refresh the heartbeat, append new log lines, read the cancel flag."""
        lines = self.joblog.take()
        with db.transaction(self.sessions) as s:
            job = s.get(HarvestJob, self.job_id)
            if job is None or job.status != RUNNING or job.worker != self.me:
                self.lost = True  # recovered and given to another worker: stop quietly
                return
            job.heartbeat = utcnow()
            if run_id is not None:
                job.harvest_run_id = run_id
            if lines:
                job.log = ((job.log or "") + "\n".join(lines) + "\n")[-MAX_LOG_CHARS:]
            if job.cancel_requested:
                self.cancel = True

    def loop(self, interval: float) -> None:
        while not self.stop.wait(interval):
            try:
                self.beat()
            except Exception:  # a database hiccup must not kill the heartbeat thread
                log.exception("job=%s event=heartbeat_failed", self.job_id)


def run_job(ctx: JobContext, job_id: int, *, heartbeat_every: float = 5.0,
            me: str | None = None) -> str | None:
    """Claim and run job ``job_id``; returns its final status (None if not claimed)."""
    from resolver.harvesting.run import harvest

    me = me or worker_id()
    sessions = ctx.sessions
    if not claim(sessions, job_id, me):
        log.info("job=%s event=skip reason=not_queued", job_id)
        return None
    with sessions() as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        code, repo_id = job.repository.code, job.repository_id
        full, allow_mass_delete = job.kind in (FULL, FULL_MASS_DELETE), job.kind == FULL_MASS_DELETE
        cancel_first = job.cancel_requested
        last_run = s.scalar(select(func.max(HarvestRun.id))
                            .where(HarvestRun.repository_id == repo_id)) or 0
    joblog = _JobLog(threading.get_ident())
    watch = _Watch(job_id, me, sessions, joblog, cancel=cancel_first)
    harvest_logger = logging.getLogger("lienhop.harvest")
    harvest_logger.addHandler(joblog)
    if harvest_logger.getEffectiveLevel() > logging.INFO:
        # the job page wants the page-by-page lines even where stderr is set to be quieter
        harvest_logger.setLevel(logging.INFO)
    beat_thread = threading.Thread(target=watch.loop, args=(heartbeat_every,),
                                   name=f"heartbeat-{job_id}", daemon=True)
    beat_thread.start()
    run_id: int | None = None
    log.info("job=%s event=start repository=%s full=%s worker=%s", job_id, code, full, me)

    def progress(report: Any) -> None:
        nonlocal run_id
        if report.finished:
            return  # the final report: the run is over, nothing to interrupt
        if run_id is None:
            with sessions() as s:
                run_id = s.scalar(select(func.min(HarvestRun.id)).where(
                    HarvestRun.repository_id == repo_id, HarvestRun.id > last_run))
        watch.beat(run_id=run_id)
        if watch.cancel or watch.lost:
            raise Cancelled("cancelled by an administrator" if watch.cancel else "job lost")

    status, error = FAILED, ""
    try:
        if watch.cancel:
            status = CANCELLED
        else:
            [report] = harvest(ctx, [code], full=full, workers=1, progress=progress,
                               allow_mass_delete=allow_mass_delete)
            if watch.cancel:
                status = CANCELLED
            elif report.status == "failed":
                error = "\n".join(report.errors) or "failed"
            elif report.status == "partial":
                status, error = PARTIAL, "\n".join(report.errors)
            else:
                status = DONE
    except Exception as exc:  # the job boundary: record it, never crash the worker
        log.exception("job=%s event=crashed", job_id)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        watch.stop.set()
        beat_thread.join(timeout=heartbeat_every + 5)
        harvest_logger.removeHandler(joblog)
    if watch.lost:
        log.warning("job=%s event=lost worker=%s", job_id, me)
        return None
    _finish(sessions, job_id, me, status, error, joblog.take(), repo_id, last_run)
    log.info("job=%s event=finish status=%s", job_id, status)
    return status


def _finish(sessions: sessionmaker[Session], job_id: int, me: str, status: str, error: str,
            lines: list[str], repo_id: int, last_run: int) -> None:
    with db.transaction(sessions) as s:
        job = s.get(HarvestJob, job_id)
        if job is None or job.worker != me or job.status != RUNNING:
            return
        run = s.scalar(select(HarvestRun).where(HarvestRun.repository_id == repo_id,
                                                HarvestRun.id > last_run)
                       .order_by(HarvestRun.id.desc()).limit(1))
        if run is not None:
            job.harvest_run_id = run.id
            if status == CANCELLED:
                run.status = CANCELLED  # the runner saw an exception; it was a cancel
        job.status, job.error, job.finished_at, job.heartbeat = status, error, utcnow(), utcnow()
        if lines:
            job.log = ((job.log or "") + "\n".join(lines) + "\n")[-MAX_LOG_CHARS:]


# --- recovery and schedules ------------------------------------------------------------------

def recover_stale_jobs(sessions: sessionmaker[Session], send: Callable[[int], str], *,
                       stale_after: float, now: dt.datetime | None = None,
                       pid_alive: Callable[[int], bool] = _pid_alive) -> list[int]:
    """Re-queue running jobs whose worker died (same machine) or went silent (any machine)."""
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=stale_after)
    recovered = []
    with db.transaction(sessions) as s:
        for job in s.scalars(select(HarvestJob).where(HarvestJob.status == RUNNING)):
            stale = job.heartbeat is None or job.heartbeat < limit
            if stale or _worker_gone(job.worker, pid_alive):
                log.warning("job=%s event=recover worker=%s heartbeat=%s", job.id, job.worker,
                            job.heartbeat)
                audit_entry(s, None, "job.recover", f"job:{job.id}",
                            {"worker": job.worker}, username="(worker)",
                            institution_id=job.repository.institution_id)
                job.status, job.worker = QUEUED, ""
                job.log = (job.log or "") + f"{now:{LOG_STAMP}} worker lost; retrying\n"
                recovered.append(job.id)
    for job_id in recovered:
        _send_and_record(sessions, send, job_id)
    return recovered


def _send_and_record(sessions: sessionmaker[Session], send: Callable[[int], str],
                     job_id: int) -> None:
    task_id = send(job_id)
    with db.transaction(sessions) as s:
        job = s.get(HarvestJob, job_id)
        if job is not None:
            job.task_id = task_id


def last_started(db_session: Session, repository_id: int) -> dt.datetime | None:
    """When the repository's last harvest was asked for (a job) or began (a CLI run)."""
    job = db_session.scalar(select(func.max(HarvestJob.enqueued_at))
                            .where(HarvestJob.repository_id == repository_id))
    run = db_session.scalar(select(func.max(HarvestRun.started_at))
                            .where(HarvestRun.repository_id == repository_id))
    return max((t for t in (job, run) if t is not None), default=None)


def enqueue_due(sessions: sessionmaker[Session], send: Callable[[int], str], *,
                now: dt.datetime | None = None) -> list[int]:
    """Create and send a job for every enabled repository whose schedule is due."""
    now = now or utcnow()
    created = []
    with db.transaction(sessions) as s:
        for repo in s.scalars(select(Repository).where(Repository.enabled.is_(True))
                              .order_by(Repository.code)):
            if active_job(s, repo.id) is not None:
                continue
            if is_due(repo.schedule, last_started(s, repo.id), now):
                job = create_job(s, repo, "incremental", "(schedule)")
                audit_entry(s, None, "job.enqueue", f"job:{job.id}",
                            {"repository": repo.code, "kind": job.kind, "by": "schedule"},
                            username="(schedule)", institution_id=repo.institution_id)
                created.append(job.id)
    for job_id in created:
        _send_and_record(sessions, send, job_id)
    return created


# --- the workers' own heartbeats ----------------------------------------------------------

#: a worker row not refreshed for this long belongs to a process long gone: removed
FORGET_WORKERS_AFTER = dt.timedelta(days=1)


def worker_name() -> str:
    """This process as a worker: ``host:pid``, the prefix of :func:`worker_id`."""
    return f"{HOST}:{os.getpid()}"[:200]


def report_worker(sessions: sessionmaker[Session], name: str, *,
                  now: dt.datetime | None = None) -> None:
    """Say that worker ``name`` is alive now (and forget workers silent for a day)."""
    now = now or utcnow()
    with db.transaction(sessions) as s:
        row = s.get(HarvestWorker, name)
        if row is None:
            s.add(HarvestWorker(name=name, started_at=now, seen_at=now))
        else:
            row.seen_at = now
        s.execute(delete(HarvestWorker).where(HarvestWorker.seen_at < now - FORGET_WORKERS_AFTER,
                                              HarvestWorker.name != name))


def forget_worker(sessions: sessionmaker[Session], name: str) -> None:
    """Worker ``name`` stopped cleanly: it no longer counts as running."""
    with db.transaction(sessions) as s:
        s.execute(delete(HarvestWorker).where(HarvestWorker.name == name))


@dataclass(frozen=True)
class WorkerSeen:
    """Whether a worker is running, by the workers' heartbeats."""

    alive: bool
    #: when the most recent report of any worker arrived (None: no worker ever reported, or
    #: every worker stopped cleanly)
    last_seen: dt.datetime | None


def worker_seen(db_session: Session, *, stale_after: float,
                now: dt.datetime | None = None) -> WorkerSeen:
    """Has any worker reported within ``stale_after`` seconds (LIENHOP_JOB_STALE_SECONDS)?"""
    now = now or utcnow()
    last = db_session.scalar(select(func.max(HarvestWorker.seen_at)))
    alive = last is not None and last >= now - dt.timedelta(seconds=stale_after)
    return WorkerSeen(alive=alive, last_seen=last)


class WorkerBeat:
    """A thread that reports this worker process every ``every`` seconds until stopped.

    A database hiccup skips one report; the row stays and the next report refreshes it.
    """

    def __init__(self, sessions: sessionmaker[Session], every: float,
                 name: str | None = None) -> None:
        self.sessions = sessions
        self.every = every
        self.name = name or worker_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="worker-heartbeat",
                                        daemon=True)

    def start(self) -> WorkerBeat:
        report_worker(self.sessions, self.name)  # at once: a page loaded now sees it
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                report_worker(self.sessions, self.name)
            except Exception:
                log.exception("worker=%s event=worker_heartbeat_failed", self.name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.every + 5)
        try:
            forget_worker(self.sessions, self.name)
        except Exception:  # stopping anyway: the row goes stale and counts as gone
            log.exception("worker=%s event=worker_forget_failed", self.name)


# --- the queue -------------------------------------------------------------------------------

class JobQueue:
    """Huey plus lienhop's two tasks, for one instance's settings.

    The web process uses :meth:`send` and :meth:`revoke`; ``lienhop worker`` runs
    :meth:`consumer`. Both register the same task names, which is all huey needs.
    """

    def __init__(self, settings: Settings, sessions: sessionmaker[Session] | None = None):
        self.settings = settings
        self.huey = make_huey(settings.queue_url)
        self._sessions = sessions
        self._ctx: JobContext | None = None
        self._lock = threading.Lock()
        self.run_task = self.huey.task(name=RUN_TASK)(self._run)
        self.tick_task = self.huey.periodic_task(crontab(minute="*"), name=TICK_TASK)(self.tick)

    @property
    def heartbeat_every(self) -> float:
        return max(0.5, min(10.0, self.settings.job_stale_seconds / 4))

    def context(self) -> JobContext:
        """What jobs run with: the given sessions, or the instance's database opened now."""
        from resolver.harvesting.run import JobContext

        with self._lock:
            if self._ctx is None:
                if self._sessions is not None:
                    self._ctx = JobContext(self.settings, self._sessions)
                else:
                    self._ctx = JobContext.from_settings(self.settings)
            return self._ctx

    def sessions(self) -> sessionmaker[Session]:
        return self.context().sessions

    def send(self, job_id: int) -> str:
        """Put job ``job_id`` on the queue; returns huey's task id."""
        task = self.run_task.s(job_id)  # results=False: enqueue returns no handle to ask
        self.huey.enqueue(task)
        task_id: str = task.id
        return task_id

    def revoke(self, task_id: str) -> None:
        if task_id:
            self.huey.revoke_by_id(task_id)

    def _run(self, job_id: int) -> str | None:
        return run_job(self.context(), job_id, heartbeat_every=self.heartbeat_every)

    def tick(self) -> None:
        """Every minute in the worker: recover lost jobs, then start due scheduled harvests."""
        sessions = self.sessions()
        recover_stale_jobs(sessions, self.send, stale_after=self.settings.job_stale_seconds)
        enqueue_due(sessions, self.send)

    def consumer(self, workers: int = 2) -> Any:
        # Threads: a harvest waits on the network, and threads share one index lock politely.
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         max_delay=2.0, check_worker_health=True)
