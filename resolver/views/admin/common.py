"""What the admin blueprints share: the job queue, the registry round trip, small helpers.

No ``bp`` here: this module is a library for ``admin.py``, ``admin_jobs.py`` and
``admin_registry.py``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from flask import Flask, current_app
from flask_babel import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.registry.models import IpRange
from resolver.registry.toml_file import (
    InstitutionSpec,
    RegistryError,
    apply_registry,
    export_registry,
    parse_registry,
)


def job_queue() -> Any:
    """The app's :class:`resolver.harvesting.queue.JobQueue`, made on first use.

    Tests may replace it.
    """
    queue = current_app.extensions.get("lienhop.queue")
    if queue is None:
        from resolver.harvesting.queue import JobQueue

        queue = JobQueue(current_app.config["LIENHOP"], current_app.extensions["lienhop.sessions"])
        current_app.extensions["lienhop.queue"] = queue
    return queue


def admin_time(value: dt.datetime | None) -> str:
    """A stored (naive UTC) time in the site's time zone (Asia/Ho_Chi_Minh)."""
    if value is None or value == dt.datetime.min:
        return ""
    return format_datetime(value, "yyyy-MM-dd HH:mm")


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO strings, for the audit log's JSON details."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def safe_next(target: str | None, default: str) -> str:
    """Only a local path is a safe place to go after login (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


# --- the registry through its own validator ---------------------------------------------------

def registry_doc(session: Session) -> list[dict[str, Any]]:
    """The registry as the TOML export's institution list (plain dicts, editable)."""
    return tomllib.loads(export_registry(session)).get("institution", [])


def _parse_doc(session: Session, doc: list[dict[str, Any]]
               ) -> tuple[list[InstitutionSpec], list[str]]:
    text = tomli_w.dumps({"institution": doc})
    try:
        # ranges stored before today's range rules are judged by the TOML import, not here:
        # one such range must not block every other institution's edits
        in_force = set(session.scalars(select(IpRange.cidr)))
        return parse_registry(text, source="form", ranges_in_force=in_force), []
    except RegistryError as exc:
        return [], [msg for _line, msg in exc.problems]


def check_doc(session: Session, doc: list[dict[str, Any]]) -> list[str]:
    """The problems ``lienhop registry import`` would find in the edited registry ``doc``;
    changes nothing (for a range that will wait for approval)."""
    return _parse_doc(session, doc)[1]


def apply_doc(session: Session, doc: list[dict[str, Any]]) -> list[str]:
    """Validate the whole edited registry exactly as ``lienhop registry import`` does and
    apply it; returns the problems (nothing changed) or an empty list (applied, uncommitted).

    Whole-registry validation is what catches an IP range overlapping another institution's.
    """
    specs, problems = _parse_doc(session, doc)
    if problems:
        return problems
    apply_registry(session, specs, prune=False)
    return []


def find_item(doc: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next((item for item in doc if item.get("code") == code), None)


def init_admin_templates(app: Flask) -> None:
    app.jinja_env.filters.setdefault("admin_time", admin_time)
