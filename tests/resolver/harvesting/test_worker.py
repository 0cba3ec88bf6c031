"""``lienhop worker`` for real: a subprocess consuming huey (SQLite and Redis storage),
harvesting a live OAI-PMH endpoint, killed with SIGKILL mid-job and restarted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import index
from harvesters.archive import RawArchive
from harvesters.demo_server import OAIDevServer
from resolver import create_app
from resolver.demo import FORMATS, demo_records
from resolver.harvesting.models import HarvestJob
from resolver.settings import load_settings
from tests.support.accounts import add_user
from tests.support.admin import AdminClient, FakeQueue, load_registry
from tests.support.harvesting import worker_env

pytestmark = pytest.mark.usefixtures("cheap_hashes")

LIVE_RECORDS = 5
LIENHOP = str(Path(sys.executable).with_name("lienhop"))


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()  # no message of an earlier test's job 1
    return url


@pytest.fixture
def server():
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]},
                      deleted_record="transient") as srv:
        yield srv


@pytest.fixture
def env(lienhop_env, tmp_path, queue_url, monkeypatch, server):  # type: ignore[no-untyped-def]
    values = dict(lienhop_env, LIENHOP_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                  LIENHOP_QUEUE_URL=queue_url,
                  # long enough that only the dead-process check can explain a quick recovery
                  LIENHOP_JOB_STALE_SECONDS="600")
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def web(env, server):  # type: ignore[no-untyped-def]
    app = create_app(load_settings())
    load_registry(app.extensions["lienhop.sessions"], hue_url=server.url)
    add_user(app.extensions["lienhop.sessions"], "boss")
    client = AdminClient(app)
    assert client.login("boss").status_code == 302
    assert not isinstance(app.extensions.get("lienhop.queue"), FakeQueue)
    return client


class Worker:
    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self.proc = subprocess.Popen([LIENHOP, "worker", "--workers", "1"],
                                     env=worker_env(env), stdout=subprocess.DEVNULL,
                                     stderr=log.open("ab"))

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)  # reaped: its pid is really gone

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # huey's graceful stop
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def workers(env, tmp_path):  # type: ignore[no-untyped-def]
    started: list[Worker] = []

    def start() -> Worker:
        w = Worker(env, tmp_path / "worker.log")
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def job(web, job_id):  # type: ignore[no-untyped-def]
    with web.app.extensions["lienhop.sessions"]() as s:
        found = s.get(HarvestJob, job_id)
        s.expunge(found)
        return found


def wait_for(web, job_id, statuses, tmp_path, timeout=60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = job(web, job_id)
        if current.status in statuses:
            return current
        time.sleep(0.2)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"job {job_id} is {current.status}, not {statuses}\n{log}")


def harvest_now(web, kind="incremental") -> int:  # type: ignore[no-untyped-def]
    res = web.post("/admin/repositories/hue-dspace/harvest", {"kind": kind})
    assert res.status_code == 302, res.get_data(as_text=True)
    return int(res.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def held_records() -> tuple[int, int]:
    settings = load_settings()
    with RawArchive(settings.archive_dir).open("hue-dspace") as archive:
        in_archive = archive.count()
    return index.open_index(settings.index_dir, readonly=True).count(), in_archive


def test_worker_runs_a_job_enqueued_by_the_web_app(web, workers, tmp_path):
    workers()
    job_id = harvest_now(web)
    done = wait_for(web, job_id, {"done", "failed", "cancelled"}, tmp_path)
    assert done.status == "done", done.error
    assert done.task_id and done.attempts == 1
    status = web.get(f"/admin/jobs/{job_id}/status.json").get_json()
    assert status["records"] == LIVE_RECORDS + 1 and status["pages"] == 3
    assert held_records() == (LIVE_RECORDS, LIVE_RECORDS)
    page = web.get("/admin/repositories").get_data(as_text=True)
    assert f'<td class="num records-held">{LIVE_RECORDS}</td>' in page


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_once(web, workers, server,
                                                                          tmp_path):
    server.inject("hold", verb="ListRecords", resumption=True)  # page two blocks
    first = workers()
    job_id = harvest_now(web, kind="full")
    assert server.holding.wait(30), "the worker never reached page two"
    assert job(web, job_id).status == "running"
    first.kill9()
    server.release()  # the dead worker's request may go; nobody is listening
    assert job(web, job_id).status == "running"  # the row still says so: only a worker knows
    workers()  # the new worker recovers the job at start-up
    done = wait_for(web, job_id, {"done", "failed", "cancelled"}, tmp_path)
    assert done.status == "done", done.error
    assert done.attempts == 2
    assert "worker lost; retrying" in done.log
    assert held_records() == (LIVE_RECORDS, LIVE_RECORDS)
    with web.app.extensions["lienhop.sessions"]() as s:  # one job, not a duplicate
        assert s.scalar(select(func.count()).select_from(HarvestJob)) == 1


def test_cancel_from_the_web_stops_the_worker_job(web, workers, server, tmp_path):
    server.inject("hold", verb="ListRecords", resumption=True)
    workers()
    job_id = harvest_now(web)
    assert server.holding.wait(30)
    res = web.post(f"/admin/jobs/{job_id}/cancel", {"confirm": "yes"},
                   form_page=f"/admin/jobs/{job_id}")
    assert res.status_code == 302
    server.release()
    done = wait_for(web, job_id, {"done", "failed", "cancelled"}, tmp_path)
    assert done.status == "cancelled"
    assert "Cancelled" not in (done.error or "")
    page = web.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "cancelled" in page


def test_worker_start_needs_a_valid_queue_url(env, tmp_path):
    bad = dict(env, LIENHOP_QUEUE_URL="amqp://nowhere")
    res = subprocess.run([LIENHOP, "worker"], env=worker_env(bad), capture_output=True,
                         text=True, timeout=60)
    assert res.returncode != 0 and "LIENHOP_QUEUE_URL" in res.stderr
