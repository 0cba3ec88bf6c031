"""The admin pages: repositories, harvest buttons, job progress, registry forms, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.harvesting.models import HarvestJob, HarvestRun
from resolver.registry.models import IpRange, PendingIpRange, Repository

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def audit_rows(app):  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_repositories_page_shows_health_and_escapes(admin_app, boss):
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        repo.schedule = "every 6h"
        s.add(HarvestRun(repository_id=repo.id, status="failed", pages=2,
                         errors=["TransportError: <script>alert(1)</script>"]))
    html = boss.get("/admin/repositories").get_data(as_text=True)
    assert "hue-dspace" in html and "tvu-ojs" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "every 6h" in html
    assert html.count('name="kind" value="full"') == 2  # a full re-harvest button per repository


def test_harvest_now_queues_one_job_and_audits_it(admin_app, boss):
    queue = admin_app.extensions["lienhop.queue"]
    res = boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "full"})
    assert res.status_code == 302 and res.headers["Location"].endswith("/admin/jobs/1")
    assert queue.sent == [1]
    with admin_app.extensions["lienhop.sessions"]() as s:
        job = s.get(HarvestJob, 1)
        assert (job.kind, job.status, job.enqueued_by, job.task_id) == \
            ("full", "queued", "boss", "task-1")
    # a second click while it is queued does not queue another
    res = boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    assert res.headers["Location"].endswith("/admin/jobs/1") and queue.sent == [1]
    entry = [e for e in audit_rows(admin_app) if e.action == "job.enqueue"]
    assert len(entry) == 1 and entry[0].username == "boss"
    assert entry[0].details == {"repository": "hue-dspace", "kind": "full"}
    assert boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "bogus"}
                     ).status_code == 400


def test_job_page_and_progress_json(admin_app, boss):
    boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        job = s.get(HarvestJob, 1)
        run = HarvestRun(repository_id=job.repository_id, pages=4, added=7, updated=2)
        s.add(run)
        s.flush()
        job.status, job.harvest_run_id, job.log = "running", run.id, "page 4 <b>done</b>\n"
        from resolver.db.base import utcnow

        job.started_at = utcnow()
    data = boss.get("/admin/jobs/1/status.json").get_json()
    assert data["status"] == "running" and data["active"] is True
    assert (data["pages"], data["records"]) == (4, 9)
    assert data["rate"] >= 0
    html = boss.get("/admin/jobs/1").get_data(as_text=True)
    assert 'http-equiv="refresh"' in html  # works without JavaScript too
    assert "page 4 &lt;b&gt;done&lt;/b&gt;" in html
    assert "/admin/jobs/1/cancel" in html
    assert boss.get("/admin/jobs/99").status_code == 404


def test_cancel_a_queued_job_revokes_it(admin_app, boss):
    boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    res = boss.post("/admin/jobs/1/cancel", {"confirm": "yes"}, form_page="/admin/jobs/1")
    assert res.status_code == 302
    assert admin_app.extensions["lienhop.queue"].revoked == ["task-1"]
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.get(HarvestJob, 1).status == "cancelled"
    assert "job.cancel" in [e.action for e in audit_rows(admin_app)]


def test_cancel_a_running_job_asks_the_worker(admin_app, boss):
    boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        s.get(HarvestJob, 1).status = "running"
    boss.post("/admin/jobs/1/cancel", {"confirm": "yes"})
    with admin_app.extensions["lienhop.sessions"]() as s:
        job = s.get(HarvestJob, 1)
        assert job.status == "running" and job.cancel_requested is True


def test_overlapping_ip_range_of_another_institution_is_refused_and_shown(admin_app, boss):
    res = boss.post("/admin/institutions/tvu/ranges", {"cidr": "203.0.113.128/25"})
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert "203.0.113.128/25 overlaps 203.0.113.0/24" in html and "hue" in html
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.scalar(select(IpRange).where(IpRange.cidr == "203.0.113.128/25")) is None
    assert not [e for e in audit_rows(admin_app) if e.action == "ip_range.add"]
    # a bad CIDR too, with the validator's reason
    res = boss.post("/admin/institutions/tvu/ranges", {"cidr": "10.0.0.7/24"})
    assert res.status_code == 422 and "host bits" in res.get_data(as_text=True)


def test_institution_admin_adds_and_removes_their_own_range_audited(admin_app, hue_admin):
    res = hue_admin.post("/admin/institutions/hue/ranges", {"cidr": "2001:db8:10::/48"})
    assert res.status_code == 302
    with admin_app.extensions["lienhop.sessions"]() as s:
        # an institution administrator's new range waits for a consortium administrator
        assert s.scalar(select(IpRange).where(IpRange.cidr == "2001:db8:10::/48")) is None
        assert s.scalar(select(PendingIpRange).where(
            PendingIpRange.cidr == "2001:db8:10::/48")) is not None
    res = hue_admin.post("/admin/institutions/hue/ranges/delete", {"cidr": "203.0.113.0/24",
                                                                    "confirm": "yes"})
    assert res.status_code == 302
    entries = [e for e in audit_rows(admin_app) if e.action.startswith("ip_range.")]
    assert [e.action for e in entries] == ["ip_range.add", "ip_range.delete"]
    assert entries[0].username == "hue-admin" and entries[0].institution_id is not None
    assert entries[0].details["waiting_for_approval"] == ["2001:db8:10::/48"]
    assert "2001:db8:10::/48" not in entries[0].details["in_force"]


def test_institution_create_edit_and_eligibility(admin_app, boss):
    res = boss.post("/admin/institutions/new", {
        "code": "ctu", "name_vi": "Đại học Cần Thơ", "status": "observer",
        "since": "2019-05-01", "contact_email": "not-an-email"})
    assert res.status_code == 422 and "not an e-mail address" in res.get_data(as_text=True)
    res = boss.post("/admin/institutions/new", {
        "code": "ctu", "name_vi": "Đại học Cần Thơ", "status": "observer",
        "since": "2019-05-01", "contact_email": "lib@ctu.edu.vn"})
    assert res.status_code == 302
    html = boss.get("/admin/institutions").get_data(as_text=True)
    assert "Đại học Cần Thơ" in html
    assert boss.post("/admin/institutions/new", {"code": "ctu", "name_vi": "X",
                                                 "status": "member"}).status_code == 422
    res = boss.post("/admin/institutions/ctu", {"name_vi": "Trường Đại học Cần Thơ",
                                                "status": "member", "since": "2019-05-01"})
    assert res.status_code == 302
    with admin_app.extensions["lienhop.sessions"]() as s:
        row = s.execute(text("SELECT name_vi, status FROM institution WHERE code='ctu'")).one()
    assert tuple(row) == ("Trường Đại học Cần Thơ", "member")
    assert {"institution.create", "institution.update"} <= {e.action for e in audit_rows(
        admin_app)}


def test_repository_forms_validate_with_the_registry_rules(admin_app, hue_admin):
    base = {"oai_url": "https://repo.hue.example/oai", "metadata_prefix": "oai_dc",
            "schedule": "30 2 * * *", "enabled": "on"}
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(base, code="hue-koha", schedule="0 25 * * *"))
    assert res.status_code == 422
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(base, code="tvu-ojs"))  # another institution's code
    assert res.status_code == 422 and "duplicate repository code" in res.get_data(as_text=True)
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(base, code="hue-koha", oai_url="ftp://x"))
    assert res.status_code == 422
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(base, code="hue-koha", sets="theses articles"))
    assert res.status_code == 302
    edit = {k: v for k, v in base.items() if k != "enabled"}  # the box unticked
    res = hue_admin.post("/admin/repositories/hue-koha/edit",
                         dict(edit, schedule="every 12h", sets="theses, articles"))
    assert res.status_code == 302
    with admin_app.extensions["lienhop.sessions"]() as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-koha"))
        assert (repo.schedule, repo.enabled, repo.sets) == ("every 12h", False,
                                                             ["theses", "articles"])
    assert hue_admin.post("/admin/repositories/hue-koha/delete",
                          {"confirm": "yes"}).status_code == 302
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.scalar(select(Repository).where(Repository.code == "hue-koha")) is None
    actions = [e.action for e in audit_rows(admin_app)]
    assert actions.count("repository.create") == 1 and "repository.delete" in actions


@pytest.mark.parametrize("unrunnable", ["0 0 31 2 *", "every 99999999999d", "*/0 * * * *"])
def test_repository_form_refuses_a_schedule_the_scheduler_cannot_run(admin_app, hue_admin,
                                                                     unrunnable):
    res = hue_admin.post("/admin/institutions/hue/repositories/new", {
        "code": "hue-koha", "oai_url": "https://repo.hue.example/oai",
        "metadata_prefix": "oai_dc", "schedule": unrunnable, "enabled": "on"})
    assert res.status_code == 422
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.scalar(select(Repository).where(Repository.code == "hue-koha")) is None


def test_admin_pages_are_translated_and_not_cached(boss):
    res = boss.get("/admin/repositories?lang=vi")
    assert res.headers["Cache-Control"] == "no-store"
    html = res.get_data(as_text=True)
    assert "Kho dữ liệu" in html and "Thu thập ngay" in html
    assert "Harvest now" in boss.get("/admin/repositories?lang=en").get_data(as_text=True)
