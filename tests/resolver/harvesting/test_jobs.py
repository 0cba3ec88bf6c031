"""Harvest jobs in process: enqueue, claim, run, cancel, recovery, schedules, the web pages."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

import index
from harvesters.demo_server import OAIDevServer
from resolver import db
from resolver.demo import FORMATS, demo_records
from resolver.harvesting.models import HarvestJob, HarvestRun
from resolver.harvesting.queue import (
    AlreadyQueued,
    claim,
    create_job,
    enqueue_due,
    recover_stale_jobs,
    run_job,
)
from resolver.harvesting.run import JobContext
from resolver.registry.models import Repository
from resolver.settings import load_settings
from tests.support.admin import load_registry

pytestmark = pytest.mark.usefixtures("cheap_hashes")

LIVE_RECORDS = 5  # the demo hue-dspace set: 6 items, one of them deleted


@pytest.fixture
def server():
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]},
                      deleted_record="transient") as srv:
        yield srv


@pytest.fixture
def ctx(lienhop_env, db_url, monkeypatch, server):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    job_ctx = JobContext.from_settings(load_settings())
    load_registry(job_ctx.sessions, hue_url=server.url)
    return job_ctx


def new_job(ctx, code="hue-dspace", kind="incremental") -> int:  # type: ignore[no-untyped-def]
    with db.transaction(ctx.sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == code))
        return create_job(s, repo, kind, "tester").id


def get_job(ctx, job_id):  # type: ignore[no-untyped-def]
    with ctx.sessions() as s:
        job = s.get(HarvestJob, job_id)
        s.expunge(job)
        return job


def test_a_job_runs_the_harvest_and_records_its_run(ctx):
    job_id = new_job(ctx)
    assert run_job(ctx, job_id, heartbeat_every=0.2) == "done"
    job = get_job(ctx, job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert job.started_at and job.finished_at and job.harvest_run_id
    with ctx.sessions() as s:
        run = s.get(HarvestRun, job.harvest_run_id)
        assert (run.status, run.added, run.deleted) == ("ok", LIVE_RECORDS, 1)
    assert "event=page" in job.log or "page" in job.log
    assert index.open_index(ctx.settings.index_dir, readonly=True).count() == LIVE_RECORDS
    # a job is claimed once: running it again (a duplicate message) does nothing
    assert run_job(ctx, job_id) is None


def test_one_active_job_per_repository(ctx):
    first = new_job(ctx)
    with pytest.raises(AlreadyQueued) as exc:
        new_job(ctx)
    assert exc.value.job_id == first
    run_job(ctx, first)
    new_job(ctx, kind="full")  # once finished, another may be queued


def test_claim_is_atomic(ctx):
    job_id = new_job(ctx)
    assert claim(ctx.sessions, job_id, "a:1:t") is True
    assert claim(ctx.sessions, job_id, "b:2:t") is False
    assert get_job(ctx, job_id).worker == "a:1:t"


def test_a_failing_repository_fails_the_job_with_the_error(ctx):
    job_id = new_job(ctx, code="tvu-ojs")  # nothing listens on port 9
    assert run_job(ctx, job_id) == "failed"
    job = get_job(ctx, job_id)
    assert job.status == "failed" and job.error


def test_cancel_stops_a_running_job_at_the_next_page_as_cancelled(ctx, server):
    server.inject("hold", verb="ListRecords", resumption=True)  # the second page waits
    job_id = new_job(ctx)
    result: list[str | None] = []
    t = threading.Thread(target=lambda: result.append(run_job(ctx, job_id,
                                                              heartbeat_every=0.2)))
    t.start()
    assert server.holding.wait(10)
    with db.transaction(ctx.sessions) as s:
        s.get(HarvestJob, job_id).cancel_requested = True
    server.release()
    t.join(20)
    assert result == ["cancelled"]
    job = get_job(ctx, job_id)
    assert job.status == "cancelled" and job.error == ""
    with ctx.sessions() as s:
        assert s.get(HarvestRun, job.harvest_run_id).status == "cancelled"
    # the checkpoint was kept: the next job resumes and ends with every record exactly once
    nxt = new_job(ctx)
    assert run_job(ctx, nxt) == "done"
    assert index.open_index(ctx.settings.index_dir, readonly=True).count() == LIVE_RECORDS


def test_a_queued_job_cancelled_before_it_starts_never_runs(ctx, server):
    from resolver.harvesting.queue import request_cancel

    job_id = new_job(ctx)
    with db.transaction(ctx.sessions) as s:
        assert request_cancel(s, s.get(HarvestJob, job_id))
    assert run_job(ctx, job_id) is None
    assert get_job(ctx, job_id).status == "cancelled"
    assert not [r for r in server.requests if r[0] == "ListRecords"]


def test_recovery_requeues_jobs_of_dead_or_silent_workers_only(ctx):
    import os

    from resolver.harvesting.queue import HOST

    ids = [new_job(ctx, code=c) for c in ("hue-dspace", "tvu-ojs")]
    now = dt.datetime(2026, 1, 1, 12, 0)
    with db.transaction(ctx.sessions) as s:
        dead, silent = (s.get(HarvestJob, i) for i in ids)
        # a dead process on this machine, heartbeat still fresh
        dead.status, dead.worker, dead.heartbeat = "running", f"{HOST}:999999:t", now
        # another machine, heartbeat old
        silent.status, silent.worker = "running", "elsewhere:1:t"
        silent.heartbeat = now - dt.timedelta(minutes=5)
    sent: list[int] = []

    def send(job_id: int) -> str:
        sent.append(job_id)
        return f"t{job_id}"

    recovered = recover_stale_jobs(ctx.sessions, send, stale_after=60, now=now,
                                   pid_alive=lambda pid: pid == os.getpid())
    assert sorted(recovered) == sorted(ids) and sorted(sent) == sorted(ids)
    assert {get_job(ctx, i).status for i in ids} == {"queued"}
    assert get_job(ctx, ids[0]).task_id == f"t{ids[0]}"
    # a live worker with a fresh heartbeat keeps its job
    with db.transaction(ctx.sessions) as s:
        job = s.get(HarvestJob, ids[0])
        job.status, job.worker, job.heartbeat = "running", f"{HOST}:{os.getpid()}:t", now
    assert recover_stale_jobs(ctx.sessions, send, stale_after=60, now=now) == []


def test_a_recovered_job_stops_in_its_old_worker(ctx, server):
    """If a slow worker comes back after its job was given away, it stops, and does not
    overwrite the new owner's result."""
    server.inject("hold", verb="ListRecords", resumption=True)
    job_id = new_job(ctx)
    result: list[str | None] = []
    t = threading.Thread(target=lambda: result.append(
        run_job(ctx, job_id, heartbeat_every=0.2, me="old:1:t")))
    t.start()
    assert server.holding.wait(10)
    with db.transaction(ctx.sessions) as s:  # what recovery plus a new claim do
        s.get(HarvestJob, job_id).worker = "new:2:t"
    server.release()
    t.join(20)
    assert result == [None]
    assert get_job(ctx, job_id).status == "running"  # still the new owner's


def test_enqueue_due_follows_the_schedules(ctx):
    with db.transaction(ctx.sessions) as s:
        for repo in s.scalars(select(Repository)):
            repo.schedule = "every 6h" if repo.code == "hue-dspace" else "manual"
    sent: list[int] = []
    now = dt.datetime(2026, 1, 1, 12, 0)

    def send(job_id: int) -> str:
        sent.append(job_id)
        return "t"

    first = enqueue_due(ctx.sessions, send, now=now)
    assert len(first) == 1 and sent == first  # never harvested: due at once; manual: never
    job = get_job(ctx, first[0])
    assert job.enqueued_by == "(schedule)" and job.kind == "incremental"
    # still queued: not queued twice
    assert enqueue_due(ctx.sessions, send, now=now + dt.timedelta(hours=7)) == []
    with db.transaction(ctx.sessions) as s:
        j = s.get(HarvestJob, first[0])
        j.status, j.enqueued_at = "done", now
    assert enqueue_due(ctx.sessions, send, now=now + dt.timedelta(hours=5)) == []
    assert len(enqueue_due(ctx.sessions, send, now=now + dt.timedelta(hours=6))) == 1
    # disabled repositories are never scheduled
    with db.transaction(ctx.sessions) as s:
        s.execute(HarvestJob.__table__.update().values(status="done"))
        for repo in s.scalars(select(Repository)):
            repo.enabled = False
    assert enqueue_due(ctx.sessions, send, now=now + dt.timedelta(days=9)) == []
