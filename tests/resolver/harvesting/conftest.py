"""Harvesting fixtures: the admin app and its logged-in consortium client
(tests/support/admin.py), and Redis for the queue shared between workers.

``redis_url`` starts Debian's redis-server on a free port for the session, or skips loudly
when it is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator

import pytest

from tests.support.admin import admin_app, boss, sessions  # noqa: F401 - fixtures

# hue-dspace on a local OAI-PMH server and the CLI with it registered (a module may define
# its own ``server``)
from tests.support.harvesting import cli, server  # noqa: F401 - fixtures
from tests.support.net import free_port, wait_for_port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://127.0.0.1:PORT/0 of a throw-away Debian redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = ("REDIS TESTS SKIPPED: redis-server is not installed (run `make test`, which "
                  "installs Debian's redis-server package)")
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="lienhop-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
