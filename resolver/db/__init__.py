"""The database: engine, sessions and schema upgrades, opened in one place.

SQLite in the instance folder by default, PostgreSQL when ``LIENHOP_DATABASE_URL`` points at
one. The schema is owned by Alembic (:mod:`resolver.db.migrate`). Every process — the web app,
the ``lienhop`` commands, the harvest worker and its jobs — opens its database with
:func:`open_database`: engine, schema brought to head under the upgrade lock, session factory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from resolver.db.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)

if TYPE_CHECKING:
    from resolver.settings import Settings

__all__ = [
    "MIGRATIONS", "Database", "alembic_config", "check", "current_revision", "head_revision",
    "make_engine", "normalise_url", "open_database", "session_factory", "transaction", "upgrade",
]


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers work during a harvest.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose only the
    # last commits. It removes an fsync from every commit (the request log's batches, the
    # admin pages' writes).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def check(engine: Engine) -> None:
    """Raise if the database cannot answer a query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@dataclass(frozen=True)
class Database:
    """An opened database: its engine and the factory of sessions over it."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def url(self) -> str:
        """The URL with its password hidden (for logs and messages)."""
        return self.engine.url.render_as_string(hide_password=True)


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The one way a process opens its database (``LIENHOP_DATABASE_URL``).

    ``migrate`` (the default) first brings the schema to head, under the lock of
    :func:`resolver.db.migrate.upgrade`, so processes starting together migrate once.
    """
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return Database(engine, session_factory(engine))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
