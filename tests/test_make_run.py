"""`make run` really serves the app: start it as a subprocess and fetch pages over HTTP;
"harvest now" in the browser is run by the worker it starts, from the demo repositories it
keeps serving; one signal stops every process it started."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from index import index_engine
from index.api import ENGINES
from resolver.demo import demo_repositories
from tests.support.net import free_port, wait_for_port
from tests.support.pages import csrf_token
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "demo-admin", "a demo password"


def harvest_from_the_browser(base: str, code: str, timeout: float = 180.0) -> dict:
    """Log in, press "harvest now" on /admin/repositories, follow the job to its end."""
    browser = requests.Session()
    token = csrf_token(browser.get(f"{base}/admin/login", timeout=10).text)
    login = browser.post(f"{base}/admin/login", data={
        "username": ADMIN, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False, timeout=30)
    assert login.status_code == 302, login.text[-2000:]
    page = browser.get(f"{base}/admin/repositories", timeout=10)
    assert page.status_code == 200 and f'id="repo-{code}"' in page.text
    pressed = browser.post(f"{base}/admin/repositories/{code}/harvest", data={
        "kind": "incremental", "csrf_token": csrf_token(page.text)},
        allow_redirects=False, timeout=30)
    assert pressed.status_code == 302
    job_url = base + pressed.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        status = browser.get(job_url + "/status.json", timeout=10).json()
        if not status["active"] or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def group_gone(pgid: int, timeout: float = 30.0) -> bool:
    """Whether every process of group ``pgid`` has exited (make and all it started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_make_run_serves_home_and_healthz(tmp_path, engine):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env["LIENHOP_HOME"] = str(tmp_path / "instance")
    env["LIENHOP_INDEX_ENGINE"] = engine
    # the first administrator, made at the first login (README: Configuration)
    env["LIENHOP_ADMIN_USER"], env["LIENHOP_ADMIN_PASSWORD"] = ADMIN, PASSWORD
    # its output goes to a file: a pipe nobody reads would block it once full
    output = tmp_path / "make-run.log"
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT, env=env, stdout=output.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        try:
            wait_for_port(port, timeout=180)
        except TimeoutError:
            proc.kill()
            pytest.fail("make run did not serve:\n" + output.read_text(errors="replace")[-3000:])
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert home.status_code == 200
        assert "Đại học Huế" in home.text  # the demo consortium was loaded
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200, health.text
        # the demo consortium was harvested through the real harvester into the index
        assert health.json()["checks"]["index"]["records"] >= 10
        assert index_engine(tmp_path / "instance" / "index") == engine
        found = requests.get(f"http://127.0.0.1:{port}/search", params={"q": "thu vien"},
                             timeout=10)
        assert found.status_code == 200 and 'class="hit' in found.text
        # "harvest now" is run: by the worker `make run` started, from the demo endpoint
        # it keeps serving after the demo load
        job = harvest_from_the_browser(f"http://127.0.0.1:{port}", "hue-dspace")
        assert (job["status"], job["error"]) == ("done", ""), \
            (job, output.read_text(errors="replace")[-3000:])
        # ... which it reached: the demo endpoint answered, the run ended ok
        assert "name='lienhop demo: hue-dspace'" in job["log"], job["log"]
        assert "event=finish status=ok" in job["log"], job["log"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("make run did not stop on SIGTERM")
    # every process it started stopped with it: nothing left serving
    assert group_gone(proc.pid), "a process of make run outlived it"
    assert not listening(port)
    for _code, url in demo_repositories():
        assert not listening(int(url.rsplit(":", 1)[1].split("/")[0]))
