"""Shared fixtures: settings, app, client, CLI runner, and the database backends.

Database tests take the ``db_url`` fixture and run twice: on SQLite and on a real PostgreSQL
server that this file starts from Debian's packages (``make test`` installs them when
missing). Set ``LIENHOP_TEST_POSTGRES_URL`` to use an existing server instead. When no server
can be had, the PostgreSQL half is skipped with the reason, and the run's header and summary
say so.

``cheap_hashes`` is never autouse: the modules that log people in ask for it with
``pytestmark = pytest.mark.usefixtures("cheap_hashes")``. Helpers tests import are in
``tests/support/``, never here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver import create_app
from resolver.settings import load_settings
from tests.support.accounts import cheap_hashes  # noqa: F401 - a fixture; modules opt in
from tests.support.paths import SHARED_DATA
from tests.support.postgres import PostgresServer

_PG_STATUS: dict[str, str] = {}


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
