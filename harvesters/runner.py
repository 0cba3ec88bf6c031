"""The harvest loop: one repository (or many) into a record sink, checkpointed after every commit.

What a checkpoint holds and how it moves at run boundaries is :mod:`harvesters.state`; where
records go is :mod:`harvesters.sinks`; this module walks the lists, page by page, and decides
when to commit.

The guarantees, and how they are kept:

* **A kill -9 at any point loses nothing and duplicates nothing.**  Each page is written to
  the raw archive's open transaction and its records to the run's batch (by record id, the
  last change winning, so a record deleted then restored within a batch stays restored).
  Every ``commit_records`` records or ``commit_seconds`` (and at the end of every list, and
  when a run ends or fails) the batch goes to the sink and the sink commits, the archive
  commits, then the checkpoint (the token for the page *after* the last committed one) is
  saved.  So a saved checkpoint never runs ahead of the sink: a restart fetches again the
  pages processed since the last commit, and at worst re-delivers one batch, which is a
  no-op because sinks upsert by record id.  The archive commits with the sink, never
  between, so after a restart it is as the checkpoint left it: re-delivered records are
  counted added/updated as the first time and a full run's "seen" marks stay those of its
  run.  A page whose archive writes fail half-way, or a failed commit, tears the batch:
  nothing more is committed and the batch is fetched again.  ``commit_records=0`` commits
  after every page.  The batch is the run's own, handed to the sink in one lock hold with
  its commit, so repositories sharing a sink (:func:`harvest_many`) never commit, or lose
  in a failed commit, each other's uncheckpointed pages.
* **Incremental runs miss nothing.**  The high-water mark is the server's own
  ``responseDate`` of Identify at the start of the last successful run (our clock is not
  theirs), and the next run asks ``from`` that mark minus an overlap (1 day for day
  granularity, 1 hour for seconds), so a record stamped while a run was listing is seen
  (:func:`harvesters.state.start_run`, :func:`harvesters.state.next_high_water`).
* **An expired token costs little.**  ``badResumptionToken`` restarts the list from the last
  datestamp seen when datestamps arrived in order, else from the list's original ``from``.
* **Deletions arrive.**  Deleted headers are deleted from the sink and marked in the archive;
  a full run (``full=True``) also deletes what the archive holds but the run did not list
  (sources with ``deletedRecord`` ``no``/``transient`` forget tombstones).
* **One bad record costs only itself**, memory stays flat (one page at a time).

The sink is anything with ``add(records)``, ``delete(ids)`` and ``commit()``
(:class:`harvesters.sinks.RecordSink`; :class:`harvesters.sinks.WriterSink` is the index).
The checkpoint store is anything with ``load(code)``/``save(checkpoint)``
(:class:`harvesters.state.CheckpointStore`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from harvesters.archive import RawArchive, RepositoryArchive
from harvesters.client import DAY, BadResumptionToken, HarvestError, OAIClient
from harvesters.crosswalk import Header, NoUsableMetadata, crosswalk, payload_mismatch
from harvesters.http import TransportError
from harvesters.page import Page
from harvesters.sinks import Changes, RecordSink
from harvesters.state import (
    Checkpoint,
    CheckpointStore,
    clear_run,
    datestamp_key,
    next_high_water,
    next_list,
    start_run,
    track_datestamp,
)
from index.record import Record, make_record_id

logger = logging.getLogger("lienhop.harvest")

#: at most this many error messages are kept in a report (the log has them all)
MAX_ERRORS = 200


# --------------------------------------------------------------------------- configuration


@dataclass
class RepositoryConfig:
    """One member repository to harvest."""

    code: str
    institution: str
    oai_url: str
    metadata_prefix: str = "oai_dc"
    sets: list[str] = field(default_factory=list)  # empty = the whole repository
    #: overrides the default incremental overlap (1 day / 1 hour by granularity)
    overlap: timedelta | None = None


# --------------------------------------------------------------------------- report


@dataclass
class RunReport:
    """What one call of :func:`harvest_repository` did."""

    repository: str
    #: ``ok``: the whole list was walked with valid answers and every listed record is in
    #: the sink or deleted; ``partial``: the walk was complete but records failed (they are
    #: retried next run) or a mass deletion was refused; ``failed``: the run stopped before
    #: the end of the list (it resumes from its checkpoint); ``interrupted`` (set by the
    #: caller that finds a run its process never finished)
    status: str = "running"
    started: str = ""
    finished: str = ""
    full: bool = False
    resumed: bool = False
    pages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    #: records whose source version has no usable metadata, removed from search
    withdrawn: int = 0
    #: deletions a full run did not make because they were more than the allowed share
    refused_deletions: int = 0
    restarts: int = 0
    errors: list[str] = field(default_factory=list)
    high_water: str | None = None

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_client_factory(repo: RepositoryConfig) -> OAIClient:
    return OAIClient(repo.oai_url, repository=repo.code)


# --------------------------------------------------------------------------- the harvest


def harvest_repository(
    repo: RepositoryConfig,
    *,
    sink: RecordSink,
    state: CheckpointStore,
    archive: RawArchive | None = None,
    full: bool = False,
    from_: str | datetime | None = None,
    client_factory: Callable[[RepositoryConfig], OAIClient] = default_client_factory,
    log: logging.Logger = logger,
    progress: Callable[[RunReport], None] | None = None,
    sink_lock: ContextManager[Any] | None = None,
    max_restarts: int = 5,
    commit_records: int = 2000,
    commit_seconds: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    max_delete_share: float = 0.2,
    allow_mass_delete: bool = False,
    max_pages: int = 100_000,
    max_seconds: float = 24 * 3600.0,
) -> RunReport:
    """Harvest ``repo`` into ``sink``; see the module docstring for the guarantees.

    :param full: list everything (no ``from``) and reconcile deletions against the archive.
    :param from_: start a new run from this datestamp instead of the high-water mark.
    :param progress: called with the running report after every page (committed or not).
    :param sink_lock: held around each batch's sink writes and commit (shared sinks,
        :func:`harvest_many`).
    :param max_restarts: how many ``badResumptionToken`` restarts one list may take.
    :param commit_records: commit (then checkpoint) once this many adds and deletes are
        pending; 0 or 1 commits after every page.
    :param commit_seconds: ... or once this many seconds passed since the last commit.
    :param clock: monotonic seconds (tests inject a fake one).
    :param max_delete_share: a full run's reconciliation deletes at most this share of the
        repository's live records; more is refused (status ``partial``) ...
    :param allow_mass_delete: ... unless this is set.
    :param max_pages: the run stops (``failed``, resumable) after this many pages ...
    :param max_seconds: ... or after this many seconds of this call.
    :returns: the report; the function does not raise for harvesting problems.
    """
    report = RunReport(repository=repo.code, started=_now(), full=full)
    st = state.load(repo.code) or Checkpoint(repository=repo.code)
    arch: RepositoryArchive | None = None
    ctx: _Run | None = None
    try:
        client = client_factory(repo)
        arch = archive.open(repo.code) if archive is not None else None
        info = client.identify()
        st.granularity, st.deleted_record = info.granularity, info.deleted_record
        if st.in_progress and st.run_full == full and from_ is None:
            report.resumed = True
            log.info(
                "repository=%s event=resume run=%s pages=%d set_index=%d token=%s",
                repo.code, st.run_id, st.pages, st.set_index, bool(st.token),
            )
        else:
            start_run(st, full=full, from_=from_, started=info.response_date or _now(),
                      overlap=repo.overlap)
            state.save(st)
            log.info(
                "repository=%s event=start run=%s full=%s from=%s",
                repo.code, st.run_id, full, st.run_from or "-",
            )
        ctx = _Run(repo, st, state, sink, arch, client, report, log, progress,
                   sink_lock or contextlib.nullcontext(), commit_records, commit_seconds, clock,
                   max_pages, max_seconds)
        sets: list[str | None] = list(repo.sets) or [None]
        while st.set_index < len(sets):
            ctx.harvest_list(sets[st.set_index], max_restarts=max_restarts)
            # The list's last pages are committed before the checkpoint moves to the next
            # set (and so before reconciliation, which trusts everything listed is in).
            ctx.commit()
            next_list(st)
            state.save(st)
        reconciled = False
        if st.run_full:
            reconciled = ctx.reconcile(
                max_share=1.0 if allow_mass_delete else max_delete_share)
        st.high_water = next_high_water(st)
        if reconciled:
            st.last_full = st.run_started
        clear_run(st)
        state.save(st)
        report.status = "partial" if report.failed or report.refused_deletions else "ok"
    except Exception as exc:  # a run boundary: report, keep the checkpoint, never crash
        report.status = "failed"
        report.error(f"{type(exc).__name__}: {exc}")
        expected = isinstance(exc, HarvestError | TransportError)  # no traceback for those
        log.error(
            "repository=%s event=run_failed error=%s message=%r",
            repo.code, type(exc).__name__, str(exc), exc_info=not expected,
        )
        if ctx is not None:
            ctx.commit_after_failure()
    finally:
        if arch is not None:
            arch.close()
    report.finished = _now()
    report.high_water = st.high_water
    log.info(
        "repository=%s event=finish status=%s pages=%d added=%d updated=%d deleted=%d"
        " failed=%d restarts=%d",
        repo.code, report.status, report.pages, report.added, report.updated, report.deleted,
        report.failed, report.restarts,
    )
    return report


class RunLimitReached(HarvestError):
    """A run took more pages or time than allowed; it resumes from its checkpoint."""


@dataclass
class _Run:
    repo: RepositoryConfig
    st: Checkpoint
    store: CheckpointStore
    sink: RecordSink
    arch: RepositoryArchive | None
    client: OAIClient
    report: RunReport
    log: logging.Logger
    progress: Callable[[RunReport], None] | None
    sink_lock: ContextManager[Any]
    commit_records: int
    commit_seconds: float
    clock: Callable[[], float]
    max_pages: int = 100_000
    max_seconds: float = 24 * 3600.0
    #: pages processed (in ``batch`` and the archive's open transaction) since the last commit
    pending_pages: int = 0
    #: the pages' upserts and deletions since the last commit, the last change per id winning
    batch: Changes = field(default_factory=Changes)
    #: set while archive/sink/checkpoint writes are half done; a failed run then must not
    #: commit, as that would include a partial page or follow a failed commit
    torn: bool = False
    last_commit: float = field(init=False)

    def __post_init__(self) -> None:
        self.last_commit = self.clock()
        self.started = self.last_commit

    def check_limits(self) -> None:
        if self.report.pages >= self.max_pages:
            raise RunLimitReached(
                f"stopped after {self.report.pages} pages (the limit of one run, "
                "LIENHOP_HARVEST_MAX_PAGES); the next run goes on from here")
        elapsed = self.clock() - self.started
        if elapsed >= self.max_seconds:
            raise RunLimitReached(
                f"stopped after {elapsed / 3600:.1f} hours (the limit of one run, "
                "LIENHOP_HARVEST_MAX_HOURS); the next run goes on from here")

    def harvest_list(self, spec: str | None, *, max_restarts: int) -> None:
        st = self.st
        restarts = 0
        progress_mark = st.last_datestamp
        while not st.list_complete:
            pages = self.client.list_records(
                self.repo.metadata_prefix,
                set=spec,
                from_=st.list_from,
                granularity=st.granularity or DAY,
                resumption_token=st.token,
            )
            try:
                for page in pages:
                    self.process_page(page)
                    if page.token and page.token.value:
                        self.check_limits()
                st.list_complete = True
            except BadResumptionToken as exc:
                # Only restarts that did not move the datestamp forward count against the
                # limit: a provider whose tokens always expire is still harvested, one that
                # keeps sending us back to the same point is not looped on forever.
                if st.last_datestamp != progress_mark:
                    restarts, progress_mark = 0, st.last_datestamp
                restarts += 1
                self.report.restarts += 1
                if restarts > max_restarts:
                    raise
                # From the last datestamp only when the provider lists in datestamp order;
                # otherwise an unseen older record could sit behind that point.
                restart_from = (
                    st.last_datestamp if st.monotone and st.last_datestamp else st.list_from
                )
                self.log.warning(
                    "repository=%s event=bad_token_restart set=%s from=%s message=%r",
                    self.repo.code, spec or "-", restart_from or "-", str(exc),
                )
                # Committed first: the restart point is only safe once everything listed
                # before it is in the sink.
                self.commit()
                st.token, st.list_from = None, restart_from
                self.store.save(st)

    def process_page(self, page: Page) -> None:
        repo, st, report, arch = self.repo, self.st, self.report, self.arch
        # First read the whole page without writing anything (nor touching ``st``), so that
        # an exception here leaves the batch made of complete pages only.
        puts: list[tuple[Record, Header, bytes]] = []  # with the raw XML
        deletes: list[Header] = []
        withdrawn: list[Header] = []
        seen: list[str] = []
        failed = unknown = 0
        failed_from, failed_undated = st.failed_from, st.failed_undated
        last_datestamp, monotone = st.last_datestamp, st.monotone

        def fail(identifier: str, datestamp: str, reason: str,
                 event: str = "record_failed") -> None:
            nonlocal failed, unknown, failed_from, failed_undated
            failed += 1
            if identifier:
                seen.append(identifier)
            else:
                unknown += 1
            if datestamp:
                if failed_from is None or datestamp_key(datestamp) < datestamp_key(failed_from):
                    failed_from = datestamp
            else:
                failed_undated = True
            report.error(f"{identifier or '?'}: {reason}")
            self.log.warning(
                "repository=%s identifier=%s event=%s problem=%r",
                repo.code, identifier or "-", event, reason,
            )

        for pr in page.records:
            if pr.problem or pr.header is None:
                fail(pr.identifier, pr.datestamp, pr.problem or "no header")
                continue
            header = pr.header
            last_datestamp, monotone = track_datestamp(last_datestamp, monotone,
                                                       header.datestamp)
            if header.deleted:
                deletes.append(header)
                continue
            mismatch = (
                payload_mismatch(repo.metadata_prefix, pr.metadata)
                if pr.metadata is not None else None
            )
            if mismatch:
                fail(header.identifier, header.datestamp, mismatch)
                continue
            try:
                rec = crosswalk(
                    repo.metadata_prefix, pr.metadata, header,
                    repository=repo.code, institution=repo.institution,
                )
            except NoUsableMetadata as exc:
                # Withdrawn at the source: its old version must not stay searchable.
                withdrawn.append(header)
                self.log.info(
                    "repository=%s identifier=%s event=withdrawn reason=%r",
                    repo.code, header.identifier, str(exc),
                )
                continue
            except Exception as exc:  # one bad record must not stop the run
                fail(header.identifier, header.datestamp, f"{type(exc).__name__}: {exc}",
                     "crosswalk_failed")
                continue
            puts.append((rec, header, pr.xml()))
        delete_ids = [make_record_id(repo.code, h.identifier) for h in deletes + withdrawn]

        self.torn = True
        added = updated = 0
        if arch is not None:
            for _rec, header, xml in puts:
                if arch.put(header, repo.metadata_prefix, xml, run_id=st.run_id or ""):
                    added += 1
                else:
                    updated += 1
            for header in deletes + withdrawn:
                arch.mark_deleted(header.identifier, header.datestamp, run_id=st.run_id or "")
            if seen and st.run_id:
                arch.mark_seen(seen, st.run_id)
        else:
            added = len(puts)
        self.batch.add(rec for rec, _header, _xml in puts)
        self.batch.delete(delete_ids)
        st.last_datestamp, st.monotone = last_datestamp, monotone
        st.unknown_failures += unknown
        st.failed_from, st.failed_undated = failed_from, failed_undated
        st.token = page.token.value if page.token and page.token.value else None
        st.pages += 1
        self.torn = False

        self.pending_pages += 1
        report.pages += 1
        report.added += added
        report.updated += updated
        report.deleted += len(deletes)
        report.withdrawn += len(withdrawn)
        report.failed += failed
        self.log.info(
            "repository=%s event=page n=%d records=%d added=%d updated=%d deleted=%d"
            " withdrawn=%d failed=%d cursor=%s size=%s",
            repo.code, st.pages, len(page.records), added, updated, len(deletes),
            len(withdrawn), failed,
            page.token.cursor if page.token else "-",
            page.token.complete_list_size if page.token else "-",
        )
        if (
            self.commit_records <= 1  # per page, even a page of failures only (as before)
            or len(self.batch) >= self.commit_records
            or self.clock() - self.last_commit >= self.commit_seconds
        ):
            self.commit()
        if self.progress is not None:
            self.progress(report)

    def commit(self) -> None:
        """Commit the pending pages to the sink, then the archive, then save the checkpoint.

        In this order, so that a checkpoint never names a page whose predecessors are not
        all in the sink."""
        if self.pending_pages:
            self.torn = True
            adds, deletes = Changes.split(self.batch.take())
            with self.sink_lock:
                if adds:
                    self.sink.add(adds)
                if deletes:
                    self.sink.delete(deletes)
                self.sink.commit()
            if self.arch is not None:
                self.arch.commit()
            self.store.save(self.st)
            self.torn = False
            self.log.debug(
                "repository=%s event=commit pages=%d records=%d",
                self.repo.code, self.pending_pages, len(adds) + len(deletes),
            )
        self.pending_pages = 0
        self.batch = Changes()
        self.last_commit = self.clock()

    def commit_after_failure(self) -> None:
        """After a failed run: commit the complete pages processed since the last commit.

        Nothing is committed if the failure tore a page or a commit: the archive's open
        transaction cannot be split at a page boundary, and a sink commit that failed may
        have dropped its batch.  The next run then fetches those pages again."""
        if not self.pending_pages:
            return
        if self.torn:
            self.log.warning(
                "repository=%s event=batch_abandoned pages=%d reason=torn_write",
                self.repo.code, self.pending_pages,
            )
            return
        try:
            self.commit()
        except Exception as exc:  # already failing: report, never crash
            self.report.error(f"final commit: {type(exc).__name__}: {exc}")
            self.log.error(
                "repository=%s event=final_commit_failed error=%s message=%r",
                self.repo.code, type(exc).__name__, str(exc), exc_info=True,
            )

    def reconcile(self, *, max_share: float) -> bool:
        """After a complete full run: delete what the archive has and the run did not list.

        Refused (nothing deleted, :attr:`RunReport.refused_deletions` set, ``False``
        returned) when a failed record could not be identified (it may be one of the
        "unseen"), or when the deletions would be more than ``max_share`` of the live
        records: a repository that suddenly lists far less is more often broken than
        emptied, and a deletion also reaches every downstream OAI harvester."""
        st, repo = self.st, self.repo
        if self.arch is None:
            self.log.warning("repository=%s event=reconcile_skipped reason=no_archive", repo.code)
            return False
        gone = self.arch.unseen(st.run_id or "")
        if st.unknown_failures:
            self.report.refused_deletions = len(gone)
            self.report.error(
                f"no record removed: {st.unknown_failures} listed records could not be "
                f"identified, and {len(gone)} archived records were not listed")
            self.log.warning(
                "repository=%s event=reconcile_skipped reason=unidentified_failures n=%d",
                repo.code, st.unknown_failures,
            )
            return False
        live = self.arch.count()
        if gone and len(gone) > max_share * live:
            self.report.refused_deletions = len(gone)
            self.report.error(
                f"refused to remove {len(gone)} of {live} records "
                f"({len(gone) / live:.0%}, more than the allowed {max_share:.0%}, "
                "LIENHOP_HARVEST_MAX_DELETE_SHARE): the repository no longer lists them. "
                "If that is right, run a full harvest allowing it "
                f"(lienhop harvest --full --allow-mass-delete {repo.code})")
            self.log.warning(
                "repository=%s event=reconcile_refused gone=%d live=%d max_share=%.2f",
                repo.code, len(gone), live, max_share,
            )
            return False
        for batch in _batches(gone, 1000):
            with self.sink_lock:
                self.sink.delete([make_record_id(repo.code, i) for i in batch])
                self.sink.commit()
            for identifier in batch:
                self.arch.mark_deleted(identifier, run_id=st.run_id or "")
            self.arch.commit()
        self.report.deleted += len(gone)
        self.log.info("repository=%s event=reconcile deleted=%d", repo.code, len(gone))
        return True


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def harvest_many(
    repos: Iterable[RepositoryConfig],
    *,
    sink: RecordSink,
    state: CheckpointStore,
    archive: RawArchive | None = None,
    max_workers: int = 4,
    **kwargs: Any,
) -> list[RunReport]:
    """Harvest several repositories with a bounded thread pool; one report per repository.

    The shared ``sink`` is written under a lock, one repository's batch and commit at a time;
    each repository has its own archive file, client and checkpoint, so they never contend
    otherwise.  ``kwargs`` go to :func:`harvest_repository` (``commit_records``, ...).
    """
    lock = threading.Lock()
    repos = list(repos)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="harvest") as pool:
        futures = [
            pool.submit(
                harvest_repository, repo, sink=sink, state=state, archive=archive,
                sink_lock=lock, **kwargs,
            )
            for repo in repos
        ]
        return [f.result() for f in futures]
