"""The schema is Alembic's: created on first use, upgraded idempotently, equal to the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from resolver import db
from resolver.db.base import Base


def test_upgrade_creates_every_table_and_is_idempotent(db_url):
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    db.upgrade(engine)  # a second run changes nothing and does not fail
    assert db.current_revision(engine) == db.head_revision()


def test_migrations_match_the_models(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(db_url):
    from alembic import command

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    command.downgrade(db.alembic_config(engine), "base")
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    db.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_app_uses_the_configured_database(db_url, lienhop_env, monkeypatch):
    from resolver import create_app

    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    app = create_app()
    engine = app.extensions["lienhop.engine"]
    assert engine.dialect.name == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert db.current_revision(engine) == db.head_revision()


def test_sqlite_runs_in_wal_with_normal_sync(tmp_path):
    from sqlalchemy import text

    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
