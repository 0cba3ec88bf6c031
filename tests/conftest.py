"""Shared fixtures: settings, app, client, CLI runner, and the database backends.

Database tests take the ``db_url`` fixture and run twice: on SQLite and on a real PostgreSQL
server that this file starts from Debian's packages (``make test`` installs them when
missing). Set ``LIENHOP_TEST_POSTGRES_URL`` to use an existing server instead. When no server
can be had, the PostgreSQL half is skipped with the reason, and the run's header and summary
say so.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver import create_app
from resolver.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

_PG_STATUS: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1, owned by this test session."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.reason = ""
        self._datadir: str | None = None
        self._bindir: str | None = None
        self._as_user: list[str] = []

    def start(self) -> None:
        external = os.environ.get("LIENHOP_TEST_POSTGRES_URL")
        if external:
            self.url = external
            return
        initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdbs:
            self.reason = ("PostgreSQL server binaries not found under /usr/lib/postgresql "
                           "(run `make test`, which installs Debian's postgresql package)")
            return
        self._bindir = os.path.dirname(initdbs[-1])
        self._datadir = tempfile.mkdtemp(prefix="lienhop-pg-")
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; Debian's package creates a postgres user.
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                self.reason = "running as root and there is no 'postgres' user to run the server"
                return
            os.chown(self._datadir, pw.pw_uid, pw.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        port = _free_port()
        try:
            subprocess.run(
                [*self._as_user, f"{self._bindir}/initdb", "-D", self._datadir, "-U", "lienhop",
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N"],
                check=True, capture_output=True, timeout=120,
            )
            opts = (f"-p {port} -k {self._datadir} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            subprocess.run(
                [*self._as_user, f"{self._bindir}/pg_ctl", "-D", self._datadir, "-o", opts,
                 "-l", f"{self._datadir}/server.log", "-w", "-t", "60", "start"],
                check=True, capture_output=True, timeout=90,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            out = getattr(exc, "stderr", b"") or b""
            self.reason = f"could not start PostgreSQL: {exc} {out.decode(errors='replace')[-500:]}"
            return
        self.url = f"postgresql+psycopg://lienhop@127.0.0.1:{port}/postgres"

    def new_database(self) -> str:
        import psycopg

        assert self.url
        name = "t_" + uuid.uuid4().hex[:12]
        admin = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if self._datadir and self._bindir and self.url:
            pidfile = Path(self._datadir) / "postmaster.pid"
            pid = int(pidfile.read_text().split()[0]) if pidfile.exists() else None
            # Don't let pg_ctl wait (up to 60 s) on stragglers: ask, then make sure.
            subprocess.run(
                [*self._as_user, f"{self._bindir}/pg_ctl", "-D", self._datadir, "-m", "immediate",
                 "-W", "stop"], capture_output=True, timeout=30, check=False,
            )
            deadline = time.monotonic() + 5
            while pid and time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if self._datadir:
            shutil.rmtree(self._datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    _PG_STATUS["status"] = "ran" if server.url else f"SKIPPED: {server.reason}"
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lienhop.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    if not server.url:
        pytest.skip(f"PostgreSQL not available: {server.reason}")
    return server.new_database()


@pytest.fixture
def lienhop_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """LIENHOP_* variables for an instance in a temporary folder (SQLite)."""
    env = {
        "LIENHOP_HOME": str(tmp_path / "instance"),
        "LIENHOP_ENV": "testing",
        "LIENHOP_SECRET_KEY": "test-secret-key",
        # Harvests in tests talk to endpoints on 127.0.0.1: no politeness delay, few retries.
        "LIENHOP_HARVEST_DELAY": "0",
        "LIENHOP_HARVEST_RETRIES": "1",
        # ... which the address guard refuses unless allowed, as the demo allows it.
        "LIENHOP_HARVEST_ALLOWED_NETWORKS": "127.0.0.0/8",
        # Tests fire requests from one address far faster than a person; the limiter's own
        # tests switch it on.
        "LIENHOP_RATE_LIMIT": "0",
    }
    for key in [k for k in os.environ if k.startswith("LIENHOP_")]:
        if key != "LIENHOP_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def app(lienhop_env: dict[str, str]):  # type: ignore[no-untyped-def]
    return create_app(load_settings())


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(lienhop_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """A click runner for the ``lienhop`` command group, with the test instance's env."""
    from click.testing import CliRunner

    from resolver.cli.main import main

    class Runner:
        def invoke(self, *args: str, **kwargs):  # type: ignore[no-untyped-def]
            return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)

    return Runner()


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get("LIENHOP_TEST_POSTGRES_URL")
    return [
        "lienhop databases: SQLite always; PostgreSQL "
        + (f"at {url}" if url else "started by tests/conftest.py from Debian's packages"),
        f"lienhop shared data: {SHARED_DATA} "
        + ("present (realdata tests run)" if SHARED_DATA.exists() else "ABSENT (realdata skip)"),
    ]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    status = _PG_STATUS.get("status")
    if status is None:
        return
    if status == "ran":
        terminalreporter.write_line("lienhop: database tests ran on SQLite and PostgreSQL")
    else:
        terminalreporter.write_sep("!", f"lienhop: PostgreSQL tests {status}", red=True)


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")
