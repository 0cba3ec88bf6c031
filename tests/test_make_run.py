"""`make run` really serves the app: start it as a subprocess and fetch pages over HTTP."""

import os
import shutil
import signal
import subprocess

import pytest
import requests

from tests.support.net import free_port, wait_for_port
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_make_run_serves_home_and_healthz(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env["LIENHOP_HOME"] = str(tmp_path / "instance")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        try:
            wait_for_port(port, timeout=180)
        except TimeoutError:
            proc.kill()
            pytest.fail("make run did not serve:\n" + proc.communicate()[0].decode()[-3000:])
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert home.status_code == 200
        assert "Đại học Huế" in home.text  # the demo consortium was loaded
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200, health.text
        # the demo consortium was harvested through the real harvester into the index
        assert health.json()["checks"]["index"]["records"] >= 10
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
