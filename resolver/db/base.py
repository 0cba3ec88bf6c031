"""The declarative base every table derives from, and the clock the tables stamp rows with.

Tables live with their domain (``resolver/<domain>/models.py``); :mod:`resolver.models`
imports them all, so the mappers and Alembic see the whole schema. Every table is created
and changed only by the Alembic migrations in ``resolver/db/migrations``; a test checks that
the migrations and the models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    """Naive UTC now: the columns are ``DateTime`` without a zone on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}
