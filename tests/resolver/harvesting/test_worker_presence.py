"""A queued harvest with no worker to run it says so: workers report themselves, and the job
and repository pages warn while none has reported for LIENHOP_JOB_STALE_SECONDS."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from resolver.db.base import utcnow
from resolver.harvesting.models import HarvestWorker
from resolver.harvesting.queue import forget_worker, report_worker, worker_seen
from tests.support.harvesting import worker_env

pytestmark = pytest.mark.usefixtures("cheap_hashes")

LIENHOP = str(Path(sys.executable).with_name("lienhop"))
WARNING_EN = "No harvest worker is running"
WARNING_VI = "Không có tiến trình thu thập (worker) nào đang chạy"


def test_workers_report_and_go(sessions):
    now = utcnow()
    with sessions() as s:
        assert worker_seen(s, stale_after=60, now=now).alive is False
    report_worker(sessions, "host:1", now=now - dt.timedelta(seconds=30))
    with sessions() as s:
        seen = worker_seen(s, stale_after=60, now=now)
        assert seen.alive and seen.last_seen == now - dt.timedelta(seconds=30)
        assert not worker_seen(s, stale_after=10, now=now).alive  # silent too long
    report_worker(sessions, "host:1", now=now)  # the same worker again: one row
    report_worker(sessions, "host:2", now=now)
    # a worker silent for days is forgotten by the next report of another
    report_worker(sessions, "host:3", now=now - dt.timedelta(days=3))
    report_worker(sessions, "host:2", now=now)
    with sessions() as s:
        assert sorted(s.scalars(select(HarvestWorker.name))) == ["host:1", "host:2"]
    forget_worker(sessions, "host:1")
    forget_worker(sessions, "host:2")
    with sessions() as s:
        assert not worker_seen(s, stale_after=60, now=now).alive


def test_a_job_queued_with_no_worker_warns_on_its_pages(boss, sessions):
    res = boss.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    job_id = int(res.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    flashed = boss.get(res.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert WARNING_EN in flashed  # said at once, where the button led
    job_page = boss.get(f"/admin/jobs/{job_id}?lang=vi").get_data(as_text=True)
    assert WARNING_VI in job_page and 'id="job-worker-warning"' in job_page
    assert WARNING_VI in boss.get(f"/admin/jobs/{job_id}/status.json").get_json()[
        "worker_warning"]
    repos = boss.get("/admin/repositories?lang=en").get_data(as_text=True)
    assert WARNING_EN in repos and "Harvests waiting: 1." in repos
    assert "waiting for a worker" in repos.split('id="repo-hue-dspace"')[1].split("</tr>")[0]
    # a worker that stopped reporting long ago: when it was last heard of
    report_worker(sessions, "elsewhere:42", now=utcnow() - dt.timedelta(hours=2))
    repos = boss.get("/admin/repositories?lang=en").get_data(as_text=True)
    assert "No harvest worker has reported since" in repos
    # a live worker: no warning anywhere
    report_worker(sessions, "elsewhere:42")
    repos = boss.get("/admin/repositories?lang=en").get_data(as_text=True)
    assert WARNING_EN not in repos and "reported since" not in repos
    assert "waiting for a worker" not in repos
    assert WARNING_EN not in boss.get(f"/admin/jobs/{job_id}?lang=en").get_data(as_text=True)
    assert boss.get(f"/admin/jobs/{job_id}/status.json").get_json()["worker_warning"] == ""


def test_the_worker_process_reports_itself_and_leaves_cleanly(lienhop_env, tmp_path,
                                                               monkeypatch):
    from resolver import db
    from resolver.settings import load_settings

    env = dict(lienhop_env, LIENHOP_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               LIENHOP_QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sessions = db.open_database(load_settings()).sessions
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([LIENHOP, "worker", "--workers", "1"], env=worker_env(env),
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as s:
                names = list(s.scalars(select(HarvestWorker.name)))
                if names:
                    assert worker_seen(s, stale_after=60).alive
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never reported:\n" + log.read_text(errors="replace"))
        assert names == [f"{names[0].split(':')[0]}:{proc.pid}"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    with sessions() as s:  # stopped cleanly: no longer counted as running
        assert list(s.scalars(select(HarvestWorker.name))) == []
