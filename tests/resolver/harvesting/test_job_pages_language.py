"""The harvest pages in the reader's language and in Vietnam time: job and run states,
schedules, and every time shown (job logs included) at UTC+7, while the database keeps UTC."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.harvesting.models import HarvestJob, HarvestRun
from resolver.registry.models import Repository

pytestmark = pytest.mark.usefixtures("cheap_hashes")

EVENING_UTC = dt.datetime(2024, 2, 1, 20, 0)  # 03:00 the next morning in Hanoi
VIETNAMESE_STATES = {"queued": "đang chờ", "running": "đang chạy", "done": "xong",
                     "partial": "xong một phần", "failed": "thất bại", "cancelled": "đã hủy"}


def repo_id(sessions, code: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(Repository.id).where(Repository.code == code))


def add_job(sessions, code: str, status: str, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {"kind": "incremental", "enqueued_by": "boss", "enqueued_at": EVENING_UTC,
              "cancel_requested": False, "attempts": 1, "worker": "", "task_id": "",
              "error": "", "log": "", **fields}
    with db.transaction(sessions) as s:
        job = HarvestJob(repository_id=repo_id(sessions, code), status=status, **values)
        s.add(job)
        s.flush()
        return job.id


def cell_texts(page: str, css: str) -> list[str]:
    return [t.strip() for t in re.findall(rf'<td class="{css}[^"]*">([^<]*)', page)]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_job_states_are_words_of_the_page_language(admin_app, boss, lang):
    sessions = admin_app.extensions["lienhop.sessions"]
    for status in ("done", "partial", "failed", "cancelled"):
        add_job(sessions, "tvu-ojs", status, finished_at=EVENING_UTC)
    add_job(sessions, "hue-dspace", "queued")
    page = boss.get(f"/admin/jobs?lang={lang}").get_data(as_text=True)
    shown = re.findall(r'<td class="status-(\w+)">([^<]*)</td>', page)
    assert {code for code, _word in shown} == {"queued", "done", "partial", "failed",
                                               "cancelled"}
    for code, word in shown:
        assert word == (VIETNAMESE_STATES[code] if lang == "vi" else code)


def test_job_page_states_its_status_and_log_in_vietnamese_time(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    job_id = add_job(sessions, "hue-dspace", "running", started_at=EVENING_UTC,
                     log="2024-02-01T20:00:00Z INFO harvest of hue-dspace started\n"
                         "2024-02-01T20:59:30Z INFO page 1: 2 records\n"
                         "an old line without a stamp\n")
    page = boss.get(f"/admin/jobs/{job_id}?lang=vi").get_data(as_text=True)
    assert re.search(r'data-field="status_label">đang chạy</dd>', page)
    assert "2024-02-02 03:00:00 INFO harvest of hue-dspace started" in page
    assert "2024-02-02 03:59:30 INFO page 1" in page and "an old line without a stamp" in page
    assert "2024-02-01T20:00:00Z" not in page
    assert "2024-02-02 03:00" in re.search(r'data-field="started">([^<]*)<', page).group(1)
    polled = boss.get(f"/admin/jobs/{job_id}/status.json?lang=vi").get_json()
    assert polled["status"] == "running" and polled["status_label"] == "đang chạy"
    assert polled["log"].startswith("2024-02-02 03:00:00 INFO")
    assert boss.get(f"/admin/jobs/{job_id}/status.json?lang=en").get_json()[
        "status_label"] == "running"


def test_repositories_show_run_states_and_schedules_in_words(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        hue = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        tvu = s.scalar(select(Repository).where(Repository.code == "tvu-ojs"))
        hue.schedule, tvu.schedule = "every 6h", "daily"
        s.add(HarvestRun(repository_id=hue.id, status="ok", started_at=EVENING_UTC))
        s.add(HarvestRun(repository_id=tvu.id, status="failed", started_at=EVENING_UTC))
    vi = boss.get("/admin/repositories?lang=vi").get_data(as_text=True)
    assert cell_texts(vi, "status-ok") == ["thành công"]
    assert cell_texts(vi, "status-failed") == ["thất bại"]
    assert ">mỗi 6 giờ</span>" in vi and ">hằng ngày</span>" in vi
    assert "2024-02-02 03:00" in vi and "2024-02-01 20:00" not in vi  # the last run
    en = boss.get("/admin/repositories?lang=en").get_data(as_text=True)
    assert cell_texts(en, "status-ok") == ["ok"] and cell_texts(en, "status-failed") == ["failed"]
    assert ">every 6 hours</span>" in en and ">daily</span>" in en


def test_institution_page_lists_its_repositories_schedules_in_words(admin_app, boss):
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        s.scalar(select(Repository).where(Repository.code == "hue-dspace")).schedule = \
            "30 2 * * 1"
    vi = boss.get("/admin/institutions/hue?lang=vi").get_data(as_text=True)
    assert "cron 30 2 * * 1 (giờ Việt Nam)" in vi
    en = boss.get("/admin/institutions/hue?lang=en").get_data(as_text=True)
    assert "cron 30 2 * * 1 (Vietnam time)" in en


def test_audit_and_job_lists_show_vietnam_time(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    add_job(sessions, "tvu-ojs", "done", finished_at=EVENING_UTC)
    with db.transaction(sessions) as s:
        s.add(AuditEntry(at=EVENING_UTC, username="boss", action="test.evening", object="x",
                         details={}, ip="127.0.0.1"))
    for url in ("/admin/audit", "/admin/jobs"):
        page = boss.get(url).get_data(as_text=True)
        assert "2024-02-02 03:00" in page and "2024-02-01 20:00" not in page, url


def test_the_worker_stamps_job_log_lines_in_utc_with_the_zone(admin_app, boss, server):
    """The worker writes UTC stamps that say so; the page shows them in Vietnam time."""
    from resolver.harvesting.queue import create_job, run_job
    from resolver.harvesting.run import JobContext
    from resolver.settings import load_settings

    ctx = JobContext.from_settings(load_settings())
    with db.transaction(ctx.sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        repo.oai_url = server.url
        job_id = create_job(s, repo, "incremental", "tester").id
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    assert run_job(ctx, job_id, heartbeat_every=0.2) == "done"
    with ctx.sessions() as s:
        log = s.get(HarvestJob, job_id).log
    stamps = re.findall(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z ", log, re.M)
    assert stamps and len(stamps) == len(log.splitlines())
    first = dt.datetime.fromisoformat(stamps[0])
    assert before - dt.timedelta(seconds=2) <= first <= before + dt.timedelta(minutes=5)
    page = boss.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    local = first + dt.timedelta(hours=7)
    assert local.strftime("%Y-%m-%d %H:%M:%S") + " INFO" in page
    assert stamps[0] + "Z INFO" not in page
