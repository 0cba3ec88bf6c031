"""Run harvests of registry repositories: the glue between the database and ``harvesters``.

``harvesters`` knows nothing about SQL or Flask; this module gives it what it asks for: a
checkpoint store over the ``harvest_state`` table, repository configs from the registry, a
sink into the index, and a ``harvest_run`` row per run that the admin pages read, updated
after every page so a running job shows live progress.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from harvesters.archive import RawArchive
from harvesters.client import OAIClient
from harvesters.http import Transport, TransportConfig
from harvesters.reread import RECORD_FROM_ARCHIVE, ArchivedItem, record_from_archive
from harvesters.runner import RepositoryConfig, RunReport, harvest_repository
from harvesters.sinks import WriterSink
from harvesters.state import Checkpoint
from index import index_engine, open_index, rebuild
from index.record import Record
from resolver import db
from resolver.harvesting.models import HarvestRun, HarvestState
from resolver.oai.feed import OaiFeedSink
from resolver.registry.models import Repository
from resolver.settings import Settings

log = logging.getLogger("lienhop.harvest")


class SqlCheckpointStore:
    """:class:`harvesters.state.CheckpointStore` over the ``harvest_state`` table.

    Each save is its own committed transaction, so a checkpoint survives a kill -9 of the
    harvesting process the moment ``save`` returns.
    """

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def _repo_id(self, session: Session, code: str) -> int:
        rid = session.scalar(select(Repository.id).where(Repository.code == code))
        if rid is None:
            raise KeyError(f"no repository {code!r} in the registry")
        return rid

    def load(self, repository: str) -> Checkpoint | None:
        with self.sessions() as session:
            row = session.get(HarvestState, self._repo_id(session, repository))
            return Checkpoint.from_dict(row.state) if row and row.state else None

    def save(self, state: Checkpoint) -> None:
        with db.transaction(self.sessions) as session:
            rid = self._repo_id(session, state.repository)
            row = session.get(HarvestState, rid)
            if row is None:
                session.add(HarvestState(repository_id=rid, state=state.to_dict()))
            else:
                row.state = state.to_dict()


def repository_configs(session: Session, codes: Iterable[str] = (), *,
                       enabled_only: bool = False) -> list[RepositoryConfig]:
    """Configs for the named repositories (all when ``codes`` is empty); unknown codes raise."""
    wanted = list(codes)
    query = select(Repository).options(selectinload(Repository.institution)).order_by(
        Repository.code)
    if wanted:
        query = query.where(Repository.code.in_(wanted))
    repos = session.scalars(query).all()
    missing = set(wanted) - {r.code for r in repos}
    if missing:
        raise KeyError("no such repository: " + ", ".join(sorted(missing)))
    if enabled_only:
        repos = [r for r in repos if r.enabled]
    return [
        RepositoryConfig(code=r.code, institution=r.institution.code, oai_url=r.oai_url,
                         metadata_prefix=r.metadata_prefix, sets=list(r.sets or []))
        for r in repos
    ]


@dataclass
class JobContext:
    """Everything a harvest needs, built from the settings."""

    settings: Settings
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> JobContext:
        """A context on the instance's database, opened as every process opens it."""
        return cls(settings, db.open_database(settings).sessions)


#: the status of a run whose process died before it ended (see :class:`_RunRecorder`)
INTERRUPTED = "interrupted"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _parse_ts(value: str) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


class _RunRecorder:
    """Keeps one ``harvest_run`` row in step with the runner's report."""

    def __init__(self, sessions: sessionmaker[Session], code: str, full: bool):
        self.sessions = sessions
        with db.transaction(sessions) as session:
            repo_id = session.scalar(select(Repository.id).where(Repository.code == code))
            # One repository is harvested by one process at a time (one active job), so a
            # run still "running" now belongs to a process that was killed: say so, with
            # the counts it had reported after its last page.
            for stale in session.scalars(select(HarvestRun).where(
                    HarvestRun.repository_id == repo_id, HarvestRun.status == "running")):
                stale.status = INTERRUPTED
                stale.finished_at = stale.finished_at or _utcnow()
                stale.errors = [*(stale.errors or []),
                                "interrupted: the harvesting process stopped during the run"]
                log.warning("repository=%s event=run_interrupted run=%s pages=%d", code,
                            stale.id, stale.pages)
            run = HarvestRun(repository_id=repo_id, full=full, status="running")
            session.add(run)
            session.flush()
            self.run_id = run.id

    def update(self, report: RunReport, *, final: bool = False) -> None:
        with db.transaction(self.sessions) as session:
            run = session.get(HarvestRun, self.run_id)
            assert run is not None
            run.pages, run.added, run.updated = report.pages, report.added, report.updated
            # withdrawn records left the index like deleted ones
            run.deleted, run.failed = report.deleted + report.withdrawn, report.failed
            run.errors = list(report.errors)
            if final:
                run.status = report.status
                run.finished_at = _parse_ts(report.finished) or _utcnow()
                run.high_water = report.high_water or ""


def client_factory(settings: Settings, *, delay: float | None = None,
                   ) -> Callable[[RepositoryConfig], OAIClient]:
    """OAI clients with the instance's politeness delay, retry budget, size cap, and the
    address guard (a repository may not point into private networks unless allowed)."""
    config = TransportConfig(
        delay=settings.harvest_delay if delay is None else delay,
        max_retries=settings.harvest_retries,
        max_response_bytes=int(settings.harvest_max_response_mb * 1024 * 1024),
        refuse_private=True,
        allowed_networks=settings.harvest_allowed_networks,
    )

    def make(repo: RepositoryConfig) -> OAIClient:
        return OAIClient(repo.oai_url, repository=repo.code, transport=Transport(config))

    return make


def harvest(ctx: JobContext, codes: Iterable[str] = (), *, full: bool = False,
            from_: str | None = None, workers: int = 4, delay: float | None = None,
            progress: Callable[[RunReport], None] | None = None,
            allow_mass_delete: bool = False) -> list[RunReport]:
    """Harvest the named repositories (all enabled ones when none are named) into the index.

    Repositories run in parallel on a bounded pool; the index has one writer, shared under a
    lock, a page at a time.  ``allow_mass_delete`` lets a full run remove more than
    ``LIENHOP_HARVEST_MAX_DELETE_SHARE`` of a repository.
    """
    codes = list(codes)
    with ctx.sessions() as session:
        repos = repository_configs(session, codes, enabled_only=not codes)
    if not repos:
        return []
    # A new index is made with the configured engine; an existing one opens as it is.
    ix = open_index(ctx.settings.index_dir, engine=ctx.settings.index_engine)
    # The OAI provider's items follow the index in the same commit step (resolver.oai.feed).
    sink = OaiFeedSink(WriterSink(lambda: ix.writer(timeout=120.0)), ctx.sessions)
    archive = RawArchive(ctx.settings.archive_dir)
    state = SqlCheckpointStore(ctx.sessions)
    lock = threading.Lock()
    make_client = client_factory(ctx.settings, delay=delay)
    settings = ctx.settings

    def one(repo: RepositoryConfig) -> RunReport:
        recorder = _RunRecorder(ctx.sessions, repo.code, full)

        def on_page(report: RunReport) -> None:
            recorder.update(report)
            if progress is not None:
                progress(report)

        report = harvest_repository(
            repo, sink=sink, state=state, archive=archive, full=full, from_=from_,
            progress=on_page, sink_lock=lock, client_factory=make_client,
            max_delete_share=settings.harvest_max_delete_share,
            allow_mass_delete=allow_mass_delete, max_pages=settings.harvest_max_pages,
            max_seconds=settings.harvest_max_hours * 3600)
        recorder.update(report, final=True)
        if progress is not None:
            progress(report)
        return report

    if workers <= 1 or len(repos) == 1:
        return [one(r) for r in repos]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harvest") as pool:
        return list(pool.map(one, repos))


def archived_items(ctx: JobContext) -> Iterator[ArchivedItem]:
    """Every live record of the raw archive as it is stored, repository by repository in
    the registry's order, each in identifier order."""
    archive = RawArchive(ctx.settings.archive_dir)
    with ctx.sessions() as session:
        repos = repository_configs(session)
    for repo in repos:
        for header, prefix, xml in archive.iter_records(repo.code):
            yield ArchivedItem(repo.code, repo.institution, header, prefix, xml)


def _failed_record(errors: list[str] | None) -> Callable[[str], None]:
    """What a rebuild or an OAI sync does with a record it cannot read: log, count, go on."""

    def failed(msg: str) -> None:
        log.warning("event=rebuild_record_failed %s", msg)
        if errors is not None:
            errors.append(msg)

    return failed


def archived_records(ctx: JobContext, *, errors: list[str] | None = None) -> Iterator[Record]:
    """Every live record of the raw archive, crosswalked again (no network).

    Read with the harvest's own parser and record reading
    (:func:`harvesters.reread.record_from_archive`), so a rebuild or an OAI sync keeps
    every record the harvest accepted."""
    failed = _failed_record(errors)
    for item in archived_items(ctx):
        rec = record_from_archive(item)
        if isinstance(rec, str):  # one bad archived record must not stop a rebuild
            failed(rec)
        else:
            yield rec


def archived_count(ctx: JobContext) -> int:
    """How many live records :func:`archived_records` will read (some may fail)."""
    archive = RawArchive(ctx.settings.archive_dir)
    with ctx.sessions() as session:
        repos = repository_configs(session)
    total = 0
    for repo in repos:
        if archive.path(repo.code).exists():
            with archive.open(repo.code) as a:
                total += a.count()
    return total


def rebuild_index(ctx: JobContext, engine: str | None = None,
                  progress: Callable[[int], None] | None = None,
                  batch: int | None = None) -> tuple[int, list[str]]:
    """Rebuild the index from the raw archive into a new directory and swap it in.

    ``engine`` (whoosh | tantivy) converts the index; None keeps the current index's
    engine (a missing index gets the configured ``index_engine``). ``progress`` is told
    the number of records indexed now and then (index.rebuild); ``batch``: records per
    commit (default index.rebuild's).

    The index is given the archived items and the name of the function reading them
    (index/convert.py): the tantivy engine reads them in its worker processes, so the
    XML parsing and crosswalking leave this process. Returns the number of records
    indexed and the messages of those that could not be read (also logged)."""
    errors: list[str] = []
    read = 0

    def counted() -> Iterator[ArchivedItem]:
        nonlocal read
        for item in archived_items(ctx):
            read += 1
            yield item

    path = Path(ctx.settings.index_dir)
    rebuild(path, counted(), engine=engine or index_engine(path) or ctx.settings.index_engine,
            progress=progress, convert=RECORD_FROM_ARCHIVE, failed=_failed_record(errors),
            **({} if batch is None else {"batch": batch}))
    # every item made a record or a message
    return read - len(errors), errors
