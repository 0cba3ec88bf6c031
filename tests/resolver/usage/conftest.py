"""Usage fixtures: a migrated database (SQLite and PostgreSQL), the seeded click log of
tests/support/usage.py, a scripted SUSHI server, and the admin app for the usage pages."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from resolver import db
from resolver.usage.models import ClickLog
from tests.support.admin import admin_app, anon, boss, hue_admin  # noqa: F401 - fixtures
from tests.support.sushi import Sushi
from tests.support.usage import click_rows


@pytest.fixture
def sessions(db_url):  # type: ignore[no-untyped-def]
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture
def seeded(sessions):  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        s.execute(insert(ClickLog), click_rows())
    return sessions


@pytest.fixture
def sushi():  # type: ignore[no-untyped-def]
    server = Sushi()
    yield server
    server.server.shutdown()
    server.server.server_close()
