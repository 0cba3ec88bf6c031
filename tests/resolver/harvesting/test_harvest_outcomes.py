"""Partial runs and refused mass deletions, as the administrator sees and answers them."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

import index
from harvesters.demo_server import OAIDevServer
from resolver import db
from resolver.db.base import utcnow
from resolver.demo import FORMATS, demo_records
from resolver.harvesting.models import FULL_MASS_DELETE, HarvestJob, HarvestRun
from resolver.harvesting.queue import create_job, run_job
from resolver.harvesting.run import JobContext
from resolver.registry.models import Repository
from resolver.settings import load_settings
from tests.support.admin import load_registry

pytestmark = pytest.mark.usefixtures("cheap_hashes")

REFUSAL = ("refused to remove 3 of 5 records (60%, more than the allowed 20%, "
           "LIENHOP_HARVEST_MAX_DELETE_SHARE): the repository no longer lists them.")


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


def new_job(sessions, kind: str) -> int:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        return create_job(s, repo, kind, "tester").id


def live(server):  # type: ignore[no-untyped-def]
    return [r for r in server.records if not r.deleted]


def test_a_job_whose_run_is_partial_is_partial(ctx, server):
    rec = live(server)[0]
    server.upsert(dataclasses.replace(
        rec, metadata={"oai_dc": "<unknown xmlns='urn:x'><a>b</a></unknown>"}))
    job_id = new_job(ctx.sessions, "incremental")
    assert run_job(ctx, job_id, heartbeat_every=0.2) == "partial"
    with ctx.sessions() as s:
        job = s.get(HarvestJob, job_id)
        assert job.status == "partial" and "unsupported metadata format" in job.error


def test_a_confirmed_mass_deletion_job_removes_what_a_full_job_refused(ctx, server):
    assert run_job(ctx, new_job(ctx.sessions, "full"), heartbeat_every=0.2) == "done"
    held = index.open_index(ctx.settings.index_dir, readonly=True).count()
    for rec in live(server)[:3]:
        server.remove(rec.identifier)
    assert run_job(ctx, new_job(ctx.sessions, "full"), heartbeat_every=0.2) == "partial"
    assert index.open_index(ctx.settings.index_dir, readonly=True).count() == held
    assert run_job(ctx, new_job(ctx.sessions, FULL_MASS_DELETE), heartbeat_every=0.2) == "done"
    assert index.open_index(ctx.settings.index_dir, readonly=True).count() == held - 3


def refused_job(app) -> int:  # type: ignore[no-untyped-def]
    sessions = app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        run = HarvestRun(repository_id=repo.id, full=True, status="partial", pages=3,
                         errors=[REFUSAL], finished_at=utcnow())
        s.add(run)
        s.flush()
        job = create_job(s, repo, "full", "boss")
        job.status, job.error, job.harvest_run_id = "partial", REFUSAL, run.id
        job.started_at = job.finished_at = utcnow()
        return job.id


def test_the_job_page_asks_to_confirm_a_refused_mass_deletion(admin_app, boss):
    job_id = refused_job(admin_app)
    html = boss.get(f"/admin/jobs/{job_id}?lang=en").get_data(as_text=True)
    assert 'id="confirm-mass-delete"' in html and "refused to remove 3 of 5" in html
    assert 'name="confirm" value="yes" required' in html
    vi = boss.get(f"/admin/jobs/{job_id}?lang=vi").get_data(as_text=True)
    assert "Xoá các biểu ghi mà kho không còn liệt kê?" in vi
    sessions = admin_app.extensions["lienhop.sessions"]

    def jobs():  # type: ignore[no-untyped-def]
        with sessions() as s:
            return [(j.kind, j.status) for j in s.scalars(select(HarvestJob).order_by(
                HarvestJob.id))]

    # without the tick: nothing is queued
    res = boss.post("/admin/repositories/hue-dspace/harvest",
                    {"kind": FULL_MASS_DELETE, "job": str(job_id)})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/admin/jobs/{job_id}")
    assert jobs() == [("full", "partial")]
    # with it: a full run allowing the removal is queued
    res = boss.post("/admin/repositories/hue-dspace/harvest",
                    {"kind": FULL_MASS_DELETE, "job": str(job_id), "confirm": "yes"})
    assert res.status_code == 302
    assert jobs() == [("full", "partial"), (FULL_MASS_DELETE, "queued")]


def test_no_confirmation_form_for_a_job_that_refused_nothing(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        job_id = create_job(s, repo, "full", "boss").id
    html = boss.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "confirm-mass-delete" not in html
