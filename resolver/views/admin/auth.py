"""Who is logged in to the admin pages: the session cookie, the view decorators, auditing
"this request".

The request-bound half of :mod:`resolver.accounts.auth` (passwords, throttling, roles and the
audit log, which the command line and the worker use without an app): a domain does not
import the web layer, so what needs Flask's ``request``, ``session`` and ``g`` lives here,
beside the views that use it.

**Sessions** are Flask's signed cookie: the user id, the account's nonce, a random session
id and the login and last-seen times. An admin session ends after
``session_idle_minutes`` without a request and ``session_max_hours`` after its login, checked
here on every request from those times. Logging out records the session id as ended
(:func:`resolver.accounts.auth.end_session`), so a copy of the cookie taken before the
logout is useless afterwards, while the account's sessions in other browsers go on. A new
password or deactivation changes the account's nonce and so ends all of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from resolver.accounts.auth import (
    PasswordCheck,
    audit_entry,
    end_session,
    is_consortium,
    may_manage,
    session_ended,
    session_expired,
)
from resolver.accounts.models import AdminUser, AuditEntry
from resolver.registry.campus import client_ip
from resolver.settings import Settings
from resolver.web import services

#: the last-seen time in the session cookie is rewritten at most this often
SESSION_TOUCH_SECONDS = 60

#: the session keys of an admin login
SESSION_KEYS = ("admin_uid", "admin_nonce", "admin_sid", "admin_login", "admin_seen")

F = TypeVar("F", bound=Callable[..., Any])


def _settings() -> Settings:
    settings: Settings = current_app.config["LIENHOP"]
    return settings


def request_ip() -> str | None:
    """The client's address, through the trusted proxies (``LIENHOP_TRUSTED_PROXIES``)."""
    return client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"),
                     _settings().trusted_proxies)


def password_check() -> PasswordCheck:
    """The app's password-hash check (:func:`resolver.web.services.password_check`)."""
    return services.password_check()


def _drop_login() -> None:
    for key in SESSION_KEYS:
        session.pop(key, None)


def _session_user() -> AdminUser | None:
    if session.get("admin_uid") is None:
        return None
    settings = _settings()
    now = time.time()
    if session_expired(session.get("admin_login"), session.get("admin_seen"), now,
                       settings.session_idle_minutes, settings.session_max_hours):
        _drop_login()
        g.admin_session_expired = True
        return None
    db = services.session()
    user = db.get(AdminUser, session["admin_uid"])
    nonce, sid = str(session.get("admin_nonce") or ""), str(session.get("admin_sid") or "")
    if (user is None or not user.active or not nonce or not sid
            or not secrets.compare_digest(user.session_nonce.encode(), nonce.encode())
            or session_ended(db, sid)):
        _drop_login()
        return None
    if now - float(session["admin_seen"]) >= SESSION_TOUCH_SECONDS:
        session["admin_seen"] = int(now)  # not on every request: each write is a new cookie
    return user


def current_user() -> AdminUser | None:
    """The logged-in, active administrator of this request, or None."""
    if "admin_user" not in g:
        g.admin_user = _session_user()
    user: AdminUser | None = g.admin_user
    return user


def log_in(user: AdminUser) -> None:
    """Start a new session for ``user``: nothing from before survives (session fixation),
    and it gets a fresh session id and its own lifetimes."""
    session.clear()
    now = int(time.time())
    session.update(admin_uid=user.id, admin_nonce=user.session_nonce,
                   admin_sid=secrets.token_urlsafe(16), admin_login=now, admin_seen=now)
    g.admin_user = user


def log_out() -> None:
    """End this session, for every copy of its cookie (the caller commits).

    Only this session: the account's sessions in other browsers go on (a new password ends
    those).
    """
    sid, login_at = session.get("admin_sid"), session.get("admin_login")
    if current_user() is not None and sid and login_at is not None:
        started = dt.datetime.fromtimestamp(float(login_at), dt.UTC).replace(tzinfo=None)
        end_session(services.session(), str(sid), started)
    session.clear()
    g.pop("admin_user", None)


def audit(action: str, obj: str = "", details: dict[str, Any] | None = None, *,
          institution_id: int | None = None) -> AuditEntry:
    """Audit a change made in this request by the current user (the view commits)."""
    return audit_entry(services.session(), current_user(), action, obj, details,
                       institution_id=institution_id, ip=request_ip() or "")


def _to_login() -> Any:
    if g.pop("admin_session_expired", False):
        flash(_("Your session has expired. Please log in again."))
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _to_login()
        return view(*args, **kwargs)

    return cast(F, wrapped)  # functools.wraps keeps the view's name and signature


def consortium_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return _to_login()
        if not is_consortium(user):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)  # functools.wraps keeps the view's name and signature


def require_institution(institution_id: int | None) -> None:
    """Abort with 403 unless the current user may manage this institution."""
    if not may_manage(current_user(), institution_id):
        abort(403)
