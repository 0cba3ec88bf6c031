"""What the admin blueprints share: whose data the user sees, times, form values, and the
registry round trip (the job queue is :func:`resolver.web.services.job_queue`).

No ``bp`` here: this module is a library for the admin areas, so none of them imports
another's helpers (``usage`` and ``delivery`` once took theirs from ``kb``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from flask.sansio.app import App
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from resolver.accounts.auth import institution_scope
from resolver.registry.models import Institution, IpRange
from resolver.registry.sync import apply_registry, export_registry
from resolver.registry.toml_file import InstitutionSpec, RegistryError, parse_registry
from resolver.views.admin.auth import current_user
from resolver.web import services
from resolver.web.times import local_stamps, local_time

#: Matches no institution code (codes have no spaces), for an institution administrator
#: whose institution was removed: they see nothing rather than everything.
NO_INSTITUTION = " none "
#: Control characters (NUL among them, which no database keeps in text) and the
#: bidirectional overrides: never part of a file name or a package name worth keeping.
_CONTROL = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


# --- whose pages: the user's scope ---------------------------------------------------------------

def scope_code() -> str | None:
    """None for a consortium administrator, else the code of the user's own institution."""
    user = current_user()
    assert user is not None
    scope = institution_scope(user)
    if scope is None:
        return None
    code = services.session().scalar(select(Institution.code).where(Institution.id == scope))
    return code or NO_INSTITUTION


def institution_choices(only: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of every institution, or of ``only``."""
    query = select(Institution.code, Institution.name_vi).order_by(Institution.code)
    if only is not None:
        query = query.where(Institution.code == only)
    return [(c, n) for c, n in services.session().execute(query)]


def ui_lang() -> str:
    """The page's language, ``vi`` or ``en``, for texts kept in both (reasons, labels)."""
    return "en" if str(get_locale()) == "en" else "vi"


# --- form values ----------------------------------------------------------------------------------

def strip_controls(text: str) -> str:
    """``text`` without control characters and bidirectional overrides."""
    return _CONTROL.sub("", text)


def file_name(file: FileStorage | None, default: str) -> str:
    """An uploaded file's name as sent, cleaned of control characters and cut to 200."""
    name = strip_controls((file.filename or "") if file else "").strip()[:200]
    return name or default


def admin_time(value: dt.datetime | None) -> str:
    """A stored (naive UTC) time in the site's time zone (resolver/web/times.py)."""
    return local_time(value)


def audit_details(value: Any) -> Any:
    """An audit entry's details as the audit page shows them: every UTC time written in their
    texts in Vietnam time (resolver/web/times.py); the stored details stay UTC."""
    if isinstance(value, dict):
        return {key: audit_details(v) for key, v in value.items()}
    if isinstance(value, list):
        return [audit_details(v) for v in value]
    if isinstance(value, str):
        return local_stamps(value)
    return value


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
    institutions: list[dict[str, Any]] = tomllib.loads(export_registry(session)).get(
        "institution", [])
    return institutions


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


def init_admin_templates(app: App) -> None:
    app.jinja_env.filters.setdefault("admin_time", admin_time)
    app.jinja_env.filters.setdefault("audit_details", audit_details)
