"""Migrations run once: processes that open one fresh database at the same moment (gunicorn's
workers, a worker and a command) upgrade it exactly once; the others wait, then see head.

Real processes, not threads: the lock must hold across processes (resolver/db/migrate.py).
Each child imports lienhop, says it is ready, waits for the starting signal and then opens
the database; the children's logs tell how many times each migration ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from resolver import db
from resolver.db.base import Base
from tests.support.paths import ROOT

PROCESSES = 3

# argv: ready-file, go-file, database URL
CALL_UPGRADE = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
from resolver import db
ready, go, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
engine = db.make_engine(url)
ready.touch()
while not go.exists():
    time.sleep(0.002)
db.upgrade(engine)
print("revision", db.current_revision(engine))
"""

# argv: ready-file, go-file (the instance comes from the LIENHOP_* environment)
CALL_CREATE_APP = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
from resolver import create_app
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.002)
create_app()
print("app ready")
"""


def _all_at_once(script: str, tmp_path: Path, *args: str) -> list[tuple[int, str]]:
    """Run ``script`` in PROCESSES processes released together; (exit code, output) each."""
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs, readies = [], []
    for i in range(PROCESSES):
        ready = tmp_path / f"ready-{i}"
        readies.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", script, str(ready), str(go), *args], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in readies):
            dead = [p for p in procs if p.poll() is not None]
            assert not dead, dead[0].communicate()[0]
            assert time.monotonic() < deadline, "the processes did not start"
            time.sleep(0.01)
        go.touch()
        return [(p.wait(timeout=180), p.communicate()[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _check_upgraded_once(url: str, results: list[tuple[int, str]]) -> None:
    logs = "\n".join(out for _rc, out in results)
    assert [rc for rc, _out in results] == [0] * PROCESSES, logs
    head = db.head_revision()
    migrations = list(ScriptDirectory(str(db.MIGRATIONS)).walk_revisions())
    # alembic logs each migration it runs: every one ran, and only once in all
    assert logs.count("Running upgrade") == len(migrations), logs
    # and one process, the one that migrated, says what it did
    assert logs.count(f"database schema upgraded from (empty) to {head}") == 1, logs
    engine = db.make_engine(url)
    assert db.current_revision(engine) == head
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(head,)]
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_processes_upgrading_one_fresh_database_together_migrate_it_once(db_url, tmp_path):
    results = _all_at_once(CALL_UPGRADE, tmp_path, db_url)
    _check_upgraded_once(db_url, results)
    assert all(f"revision {db.head_revision()}" in out for _rc, out in results)


def test_app_workers_starting_together_migrate_once(db_url, lienhop_env, tmp_path,
                                                   monkeypatch):
    """What gunicorn does: every worker builds the app from the environment at once."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    results = _all_at_once(CALL_CREATE_APP, tmp_path)
    _check_upgraded_once(db_url, results)
    assert all("app ready" in out for _rc, out in results)


def test_an_upgraded_database_opens_without_the_lock(lienhop_env, tmp_path, monkeypatch):
    """At head, opening costs one query and takes no lock: a process starting while another
    holds the lock for something else is not held up."""
    from resolver.settings import load_settings

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    monkeypatch.setenv("LIENHOP_DATABASE_URL", url)
    assert db.upgrade(db.make_engine(url)) == (None, db.head_revision())
    lock = tmp_path / "x.sqlite3.migrate.lock"
    assert lock.exists()
    lock.unlink()
    database = db.open_database(load_settings())
    assert db.current_revision(database.engine) == db.head_revision()
    assert not lock.exists()
