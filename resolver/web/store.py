"""Per-request access to the database from views (one session per request)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session


def session() -> Session:
    """The current request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["lienhop.sessions"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
