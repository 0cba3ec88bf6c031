"""Schema upgrades, run once however many processes start at the same moment.

Gunicorn starts its workers together, and each builds the app; a worker, a ``lienhop`` command
and the web app may also open one fresh database at once. Without a lock every one of them
would see an old revision and run the same migrations: on PostgreSQL the losers fail on
"relation already exists", on SQLite on "table already exists" or a locked database.

So :func:`upgrade` takes a lock first — PostgreSQL's transaction-level advisory lock on
:data:`LOCK_KEY`, taken in the very transaction the migrations run in; for SQLite an
``fcntl.flock`` on a file beside the database file — and reads the revision again under it:
the first process migrates, the others wait, then find the schema at head and do nothing.
One log line says which revision the database moved from and to.

Why migrate on start rather than refuse an old schema in production: an instance made by an
older release must open after an upgrade with no manual step (``make run``, a restarted
service), and the lock makes migrating at start as safe as ``lienhop db upgrade`` by hand.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")

#: The advisory-lock key of schema upgrades on PostgreSQL ("lienhop" in ASCII): any 64-bit
#: number works as long as every lienhop process uses the same one.
LOCK_KEY = 0x6C69656E686F70

log = logging.getLogger("lienhop.db")


def alembic_config(engine: Engine, connection: Connection | None = None) -> Config:
    """Alembic's config for our migrations; ``connection`` runs them inside that connection's
    transaction (see ``migrations/env.py``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


def lock_path(engine: Engine) -> Path | None:
    """The lock file of a SQLite database file (None for other databases and ``:memory:``)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".migrate.lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        # flock, not lockf: held per open file, so threads of one process exclude each other
        # too; the kernel drops it if the process dies.
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema-upgrade lock until it ends."""
    path = lock_path(engine)
    if path is not None:
        with _file_lock(path), engine.begin() as conn:
            yield conn
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # released by the COMMIT (or ROLLBACK) of the transaction the migrations ran in
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield conn


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema to ``revision`` (idempotent, safe in parallel processes).

    Returns the revisions (before, after). Already at head costs one query and no lock.
    """
    head = head_revision()
    if revision == "head":
        found = current_revision(engine)
        if found == head:
            return found, found
    with migration_lock(engine) as conn:
        before = _revision(conn)  # again: another process may have migrated while we waited
        if not (revision == "head" and before == head):
            command.upgrade(alembic_config(engine, conn), revision)
        after = _revision(conn)
    if before != after:
        url = engine.url.render_as_string(hide_password=True)
        log.info("database schema upgraded from %s to %s (%s)", before or "(empty)", after, url)
    return before, after
