"""The request log is buffered and written in batches (resolver/usage/logbuffer.py), on SQLite
and PostgreSQL: by size, by age with no further request, at exit (a plain process and a
gunicorn worker), before reports; through an outage without failing a request or growing
without bound; exactly once whatever the threads."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from resolver import create_app
from resolver.settings import ConfigError, load_settings
from resolver.usage import counts, logbuffer
from resolver.usage.logbuffer import LogBuffer
from resolver.usage.models import ClickLog, ResolveLog
from resolver.web import services
from tests.support.kb_site import HYDROLOGY, seed
from tests.support.net import free_port, wait_for_port
from tests.support.paths import ROOT


def api(i: int | str, inst: str = "hue") -> str:
    """A distinct OpenURL per ``i`` (its article title), for the JSON API."""
    return (f"/resolve/api?rft.genre=article&rft.atitle=Request%20{i}&rft.issn=0022-1694"
            f"&rft.date=2019&inst={inst}")


def rows(app: Flask, table: type[ResolveLog] | type[ClickLog] = ResolveLog) -> int:
    with services.sessions(app)() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def titles(app: Flask) -> list[str]:
    with services.sessions(app)() as s:
        return [t or "" for t in s.scalars(select(ResolveLog.title))]


def buffer_of(app: Flask) -> LogBuffer:
    with app.app_context():
        return services.request_log()


def eventually(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def make_app(lienhop_env, db_url, monkeypatch) -> Iterator[Callable[..., Flask]]:  # type: ignore[no-untyped-def]
    """A seeded resolver app on ``db_url`` whose request log is buffered (not flushed after
    each request as under test): ``make_app(batch=…, flush_seconds=…, **config)``."""
    made: list[Flask] = []

    def make(batch: int = 200, flush_seconds: float = 2.0, **config: Any) -> Flask:
        monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
        monkeypatch.setenv("LIENHOP_REQUEST_LOG_BATCH", str(batch))
        monkeypatch.setenv("LIENHOP_REQUEST_LOG_FLUSH_SECONDS", str(flush_seconds))
        app = create_app(load_settings(), LIENHOP_REQUEST_LOG_FLUSH_EACH_REQUEST=False,
                         **config)
        seed(services.sessions(app))
        made.append(app)
        return app

    yield make
    for app in made:
        buffer_of(app).close()
        services.engine(app).dispose()


class Statements:
    """INSERTs into the log tables and commits seen by an engine."""

    def __init__(self, app: Flask) -> None:
        self.inserts = {"resolve_log": 0, "click_log": 0}
        self.commits = 0
        engine = services.engine(app)
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)

    def _execute(self, _conn, _cursor, statement: str, *_args: Any) -> None:  # type: ignore[no-untyped-def]
        head = " ".join(statement.split()[:3]).lower()
        for table in self.inserts:
            if head == f"insert into {table}":
                self.inserts[table] += 1

    def _commit(self, _conn) -> None:  # type: ignore[no-untyped-def]
        self.commits += 1


# --- batches ------------------------------------------------------------------------------

def test_rows_are_written_in_batches_of_the_setting(make_app):
    app = make_app(batch=10, flush_seconds=3600)
    client = app.test_client()
    seen = Statements(app)
    for block in range(5):
        for i in range(block * 10, block * 10 + 9):
            assert client.get(api(i)).status_code == 200
        assert rows(app) == block * 10 and len(buffer_of(app)) == 9  # fewer than a batch
        assert client.get(api(block * 10 + 9)).status_code == 200  # the tenth fills it
        assert eventually(lambda b=block: rows(app) == (b + 1) * 10)
    assert sorted(titles(app)) == sorted(f"Request {i}" for i in range(50))
    # 50 requests: five ten-row INSERTs in five commits, not 50 of each.
    assert seen.inserts == {"resolve_log": 5, "click_log": 0}
    assert seen.commits == 5


def test_clicks_are_buffered_with_the_requests(make_app):
    app = make_app(batch=1000, flush_seconds=3600)
    client = app.test_client()
    seen = Statements(app)
    body = client.get("/resolve/api?" + HYDROLOGY + "&inst=hue").get_json()
    links = [t["url"].removeprefix("http://localhost") for t in body["targets"] if t["url"]]
    assert links
    for link in links:
        assert client.get(link).status_code == 302
    assert rows(app, ClickLog) == 0 and rows(app) == 0
    assert seen.commits == 0  # no request committed anything
    assert buffer_of(app).flush() == 1 + len(links)
    assert (rows(app), rows(app, ClickLog)) == (1, len(links))
    assert seen.inserts == {"resolve_log": 1, "click_log": 1} and seen.commits == 1


def test_a_row_keeps_the_time_it_was_logged(make_app):
    app = make_app(batch=1000, flush_seconds=3600)
    before = time.time()
    assert app.test_client().get(api(1)).status_code == 200
    time.sleep(1.1)
    buffer_of(app).flush()
    with services.sessions(app)() as s:
        at = s.scalar(select(ResolveLog.at))
    assert at is not None
    logged = at.replace(tzinfo=dt.UTC).timestamp()
    assert before - 1 <= logged < before + 1  # when requested, not when written


def test_write_through_when_the_batch_is_one(make_app):
    app = make_app(batch=1, flush_seconds=2)
    assert buffer_of(app).write_through
    client = app.test_client()
    for i in range(3):
        assert client.get(api(i)).status_code == 200
        assert rows(app) == i + 1  # written before the response, as before buffering
    assert len(buffer_of(app)) == 0


def test_settings_defaults_and_write_through_values(tmp_path):
    base = {"LIENHOP_HOME": str(tmp_path), "LIENHOP_ENV": "testing"}
    s = load_settings(base)
    assert (s.request_log_batch, s.request_log_flush_seconds) == (200, 2.0)
    s = load_settings({**base, "LIENHOP_REQUEST_LOG_BATCH": "0",
                       "LIENHOP_REQUEST_LOG_FLUSH_SECONDS": "0.5"})
    assert (s.request_log_batch, s.request_log_flush_seconds) == (0, 0.5)
    assert LogBuffer(lambda: None, batch=0).write_through
    assert LogBuffer(lambda: None, flush_seconds=0).write_through
    assert not LogBuffer(lambda: None).write_through
    with pytest.raises(ConfigError, match="REQUEST_LOG_BATCH"):
        load_settings({**base, "LIENHOP_REQUEST_LOG_BATCH": "-1"})
    with pytest.raises(ConfigError, match="REQUEST_LOG_FLUSH_SECONDS"):
        load_settings({**base, "LIENHOP_REQUEST_LOG_FLUSH_SECONDS": "soon"})


def test_under_test_every_request_is_written_when_it_ends(app, client):
    """The test instance's default (tests/conftest.py): buffered, flushed after each request."""
    assert not buffer_of(app).write_through
    assert client.get(api(1)).status_code == 200
    assert rows(app) == 1 and len(buffer_of(app)) == 0


# --- time -------------------------------------------------------------------------------

def test_rows_are_written_after_flush_seconds_with_no_further_request(make_app):
    app = make_app(batch=1000, flush_seconds=1.0)
    client = app.test_client()
    started = time.monotonic()
    for i in range(3):
        assert client.get(api(i)).status_code == 200
    if time.monotonic() - started < 0.9:  # (a very slow machine may already have written)
        assert rows(app) == 0
    assert eventually(lambda: rows(app) == 3, seconds=20)  # no request since
    assert time.monotonic() - started >= 1.0
    # The flusher ends once nothing is held; the next row starts another.
    assert eventually(lambda: buffer_of(app)._thread is None, seconds=10)
    assert client.get(api(3)).status_code == 200
    assert eventually(lambda: rows(app) == 4, seconds=20)


# --- exit ---------------------------------------------------------------------------------

_EXIT_SCRIPT = r"""
import sys
from sqlalchemy import func, select
from resolver import create_app
from resolver.settings import load_settings
from resolver.usage.models import ResolveLog
from resolver.web import services

app = create_app(load_settings(), LIENHOP_REQUEST_LOG_FLUSH_EACH_REQUEST=False)
client = app.test_client()
for i in range(int(sys.argv[1])):
    url = f"/resolve/api?rft.atitle=Exit%20{i}&rft.issn=0022-1694&inst=hue"
    assert client.get(url).status_code == 200
with services.sessions(app)() as s:
    print(s.scalar(select(func.count()).select_from(ResolveLog)))
"""


def test_rows_held_are_written_when_the_process_exits(make_app):
    app = make_app(batch=1000, flush_seconds=3600)  # migrated and seeded; same settings
    done = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, "7"], env=dict(os.environ),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]  # held until the end
    assert rows(app) == 7
    assert sorted(titles(app)) == [f"Exit {i}" for i in range(7)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_gunicorn_worker_writes_its_rows_when_stopped(make_app):
    app = make_app(batch=1000, flush_seconds=3600)
    port = free_port()
    env = dict(os.environ, LIENHOP_ENV="production", LIENHOP_LOG_LEVEL="WARNING")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-w", "1", "-k", "gthread", "--threads", "2",
                             "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=60)
        for i in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{api(i)}", timeout=30) as r:
                assert r.status == 200
        assert rows(app) == 0  # the worker holds them
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert rows(app) == 5


# --- reports --------------------------------------------------------------------------------

def test_reports_and_the_rollup_command_see_rows_still_held(make_app, runner):
    app = make_app(batch=1000, flush_seconds=3600)
    client = app.test_client()
    for i in range(3):
        assert client.get(api(i)).status_code == 200
    assert rows(app) == 0
    today = dt.date.today()
    with services.sessions(app)() as s:
        found = counts.requests(s, start=today, end=today, by=())
    assert [r.count for r in found] == [3]
    for i in range(3, 5):
        assert client.get(api(i)).status_code == 200
    assert rows(app) == 3
    result = runner.invoke("usage", "rollup")
    assert result.exit_code == 0, result.output
    assert rows(app) == 5


# --- the database unavailable --------------------------------------------------------------

@contextlib.contextmanager
def database_down(app: Flask, db_url: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """The app's database refuses connections (SQLite: its file is gone; PostgreSQL: the
    database refuses connections and the open ones are ended), then comes back."""
    engine = services.engine(app)
    engine.dispose()
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        aside = path.with_name(path.name + ".away")
        path.rename(aside)
        path.mkdir()  # a directory where the file was: "unable to open database file"
        try:
            yield
        finally:
            engine.dispose()
            shutil.rmtree(path)
            aside.rename(path)
            engine.dispose()  # (a connection the flusher opened in between, to an empty file)
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    admin = server.url.replace("postgresql+psycopg://", "postgresql://")
    name = url.database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
    try:
        yield
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        engine.dispose()


def test_database_down_requests_still_answer_and_the_buffer_stays_bounded(
        make_app, db_url, request, caplog):
    # The registry snapshot is kept for an hour: only the log needs the database.
    app = make_app(batch=5, flush_seconds=0.2, LIENHOP_RESOLVER_CACHE_SECONDS=3600)
    buf = LogBuffer(services.sessions(app), batch=5, flush_seconds=0.2, max_rows=20)
    services.provide(app, "request_log", buf)
    client = app.test_client()
    assert client.get(api("before")).status_code == 200
    assert eventually(lambda: rows(app) == 1)
    caplog.set_level(logging.WARNING, logger="lienhop.usage")
    with database_down(app, db_url, request):
        held_seen: list[int] = []
        for i in range(60):
            assert client.get(api(i)).status_code == 200  # the log never fails a request
            held_seen.append(len(buf))
        time.sleep(0.5)  # the flusher tries, fails, keeps the rows
        held, written, dropped = buf.state()
        assert max(held_seen) <= 20 and held <= 20 and written == 1
        assert held + dropped == 60 and dropped >= 40  # counted, not silently lost
        dropped_warnings = [r for r in caplog.records if "rows dropped" in r.getMessage()]
        assert len(dropped_warnings) == 1  # once per minute, not once per row
        write_warnings = [r for r in caplog.records if "could not write" in r.getMessage()]
        assert len(write_warnings) == 1  # the outage is reported once
    # Back: the rows kept through the outage are written by the flusher on its own.
    assert eventually(lambda: rows(app) == 1 + held, seconds=60)
    assert buf.state() == (0, 1 + held, dropped)
    assert any("takes writes again" in r.getMessage() for r in caplog.records)


def test_a_row_the_database_refuses_is_dropped_alone(make_app):
    app = make_app(batch=1000, flush_seconds=3600)
    buf = buffer_of(app)
    buf.add(ResolveLog, {"outcome": "nomatch", "packages": "", "title": "good 1"})
    buf.add(ClickLog, {"kind": None, "title": "refused: kind is NOT NULL"})
    buf.add(ResolveLog, {"outcome": "nomatch", "packages": "", "title": "good 2"})
    assert buf.flush() == 2
    assert sorted(titles(app)) == ["good 1", "good 2"] and rows(app, ClickLog) == 0
    assert buf.state() == (0, 2, 1)


def test_a_click_with_a_very_long_doi_is_still_counted(make_app):
    """A DOI has no length limit; the click log's column has. Before the request log was
    buffered the click was lost on PostgreSQL (the INSERT failed); now its DOI is cut."""
    app = make_app(batch=1, flush_seconds=2)
    client = app.test_client()
    doi = "10.1016/j.jhydrol.2019." + "x" * 400
    body = client.get("/resolve/api?rft.genre=article&rft.atitle=Long&rft.issn=0022-1694"
                      f"&rft.date=2019&rft_id=info:doi/{doi}&inst=hue").get_json()
    link = next(t["url"] for t in body["targets"] if t["url"])
    assert client.get(link.removeprefix("http://localhost")).status_code == 302
    with services.sessions(app)() as s:
        [click] = s.scalars(select(ClickLog)).all()
        [req] = s.scalars(select(ResolveLog)).all()
    assert click.doi == doi[:300] and req.doi == doi[:300]


# --- threads ----------------------------------------------------------------------------------

def test_many_threads_resolving_at_once_log_every_request_once(make_app):
    app = make_app(batch=7, flush_seconds=0.05)
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 2)  # workers, reader, this thread

    def resolve(t: int) -> None:
        client = app.test_client()
        try:
            start.wait()
            for i in range(per_thread):
                assert client.get(api(f"{t}-{i}")).status_code == 200
        except BaseException as exc:  # reported below
            errors.append(exc)

    def report() -> None:  # reports read (and so flush) while requests come in
        start.wait()
        while any(w.is_alive() for w in workers):
            logbuffer.flush_all()
            time.sleep(0.01)

    workers = [threading.Thread(target=resolve, args=(t,)) for t in range(threads)]
    reader = threading.Thread(target=report)
    for w in [*workers, reader]:
        w.start()
    start.wait()
    for w in [*workers, reader]:
        w.join(timeout=300)
    assert not errors
    logbuffer.flush_all()
    expected = sorted(f"Request {t}-{i}" for t in range(threads) for i in range(per_thread))
    assert sorted(titles(app)) == expected  # every request once: none lost, none twice
    assert buffer_of(app).state() == (0, threads * per_thread, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_forked_child_does_not_write_its_parents_rows(make_app):
    app = make_app(batch=1000, flush_seconds=3600)
    buf = buffer_of(app)
    assert app.test_client().get(api(1)).status_code == 200
    assert len(buf) == 1
    pid = os.fork()
    if pid == 0:  # the child: nothing held, and it exits without writing
        os._exit(0 if len(buf) == 0 and buf._thread is None else 1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(buf) == 1
    buf.flush()
    assert rows(app) == 1
