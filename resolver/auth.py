"""Administrators: passwords, login throttling, roles, the current user and the audit log.

The core is pure (password checks, lock arithmetic, who may touch which institution); the
Flask glue at the bottom keeps the user id and a per-account nonce in Flask's signed session
cookie.

Throttling lives in the database, not in memory: production runs several gunicorn processes
(and may run several machines), and an attacker must not get N tries *per process*. Two
counters: failures per account (``admin_user.failed_logins``, lock after
``login_max_failures``) and failures per client IP (``login_throttle``, lock after four
times that, so one office behind one NAT address can still mistype a few passwords). While
locked, even the right password is refused, or the lock would only slow a guesser down.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from resolver import store
from resolver.admin_models import CONSORTIUM, INSTITUTION, AdminUser, AuditEntry, LoginThrottle
from resolver.institution import client_ip
from resolver.models import utcnow

MIN_PASSWORD_LENGTH = 10
#: failures per client IP allowed for every failure allowed per account
IP_FACTOR = 4
# A hash to compare against when the username does not exist, so that the answer takes as
# long as for a real account (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

F = TypeVar("F", bound=Callable[..., Any])


# --- pure core ---------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted, werkzeug's default


def password_problem(password: str) -> str | None:
    """English reason a new password is refused (the views translate their own copy)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    return None


def normalise_username(name: str) -> str:
    return name.strip().lower()


def check_password(user: AdminUser | None, password: str) -> bool:
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and locked_until > now


def record_failure(user: AdminUser, now: dt.datetime, max_failures: int,
                   lock_minutes: float) -> bool:
    """Count a failed login; returns True when this failure locks the account."""
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= max_failures:
        user.locked_until = now + dt.timedelta(minutes=lock_minutes)
        user.failed_logins = 0
        return True
    return False


def record_success(user: AdminUser, now: dt.datetime) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now


def is_consortium(user: AdminUser | None) -> bool:
    return user is not None and user.active and user.role == CONSORTIUM


def may_manage(user: AdminUser | None, institution_id: int | None) -> bool:
    """May ``user`` change (or see the admin pages of) the institution ``institution_id``?"""
    if user is None or not user.active:
        return False
    if user.role == CONSORTIUM:
        return True
    return (user.role == INSTITUTION and user.institution_id is not None
            and user.institution_id == institution_id)


def institution_scope(user: AdminUser) -> int | None:
    """None for every institution, else the one institution id this user may see."""
    return None if user.role == CONSORTIUM else (user.institution_id or -1)


# --- per-IP throttle (database) --------------------------------------------------------------

def ip_locked(db: Session, ip: str | None, now: dt.datetime) -> bool:
    row = db.get(LoginThrottle, f"ip:{ip}") if ip else None
    return row is not None and is_locked(row.locked_until, now)


def record_ip_failure(db: Session, ip: str | None, now: dt.datetime, max_failures: int,
                      lock_minutes: float) -> bool:
    """Count a failure from ``ip`` within a window of ``lock_minutes``; True when it locks."""
    if not ip:
        return False
    window = dt.timedelta(minutes=lock_minutes)
    row = db.get(LoginThrottle, f"ip:{ip}")
    if row is None:
        row = LoginThrottle(key=f"ip:{ip}", failures=0, window_start=now)
        db.add(row)
    if now - row.window_start > window:
        row.failures, row.window_start = 0, now
    row.failures = (row.failures or 0) + 1
    if row.failures >= max_failures * IP_FACTOR:
        row.locked_until = now + window
        row.failures, row.window_start = 0, now
        return True
    return False


# --- accounts ------------------------------------------------------------------------------

def create_user(db: Session, username: str, password: str, *, role: str = CONSORTIUM,
                institution_id: int | None = None) -> AdminUser:
    """Add an account (the caller commits); raises ValueError with an English reason."""
    name = normalise_username(username)
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise ValueError("a username is 1-100 characters without spaces")
    why = password_problem(password)
    if why:
        raise ValueError(why)
    if role not in (CONSORTIUM, INSTITUTION):
        raise ValueError(f"role must be {CONSORTIUM} or {INSTITUTION}")
    if role == INSTITUTION and institution_id is None:
        raise ValueError("an institution administrator needs an institution")
    if db.scalar(select(AdminUser.id).where(AdminUser.username == name)) is not None:
        raise ValueError(f"there is already an account {name!r}")
    user = AdminUser(username=name, password_hash=hash_password(password), role=role,
                     institution_id=institution_id if role == INSTITUTION else None,
                     active=True, failed_logins=0, session_nonce=secrets.token_hex(16))
    db.add(user)
    db.flush()
    return user


def set_password(user: AdminUser, password: str) -> None:
    why = password_problem(password)
    if why:
        raise ValueError(why)
    user.password_hash = hash_password(password)
    user.session_nonce = secrets.token_hex(16)  # every other session ends
    user.failed_logins, user.locked_until = 0, None


def bootstrap_admin(db: Session, username: str | None, password: str | None) -> AdminUser | None:
    """The first consortium administrator from LIENHOP_ADMIN_USER/PASSWORD, if none exists."""
    if not username or not password:
        return None
    if db.scalar(select(AdminUser.id).limit(1)) is not None:
        return None
    user = create_user(db, username, password, role=CONSORTIUM)
    audit_entry(db, None, "user.bootstrap", f"user:{user.username}", {"role": CONSORTIUM},
                username="(environment)")
    return user


def audit_entry(db: Session, user: AdminUser | None, action: str, obj: str = "",
                details: dict[str, Any] | None = None, *, institution_id: int | None = None,
                ip: str = "", username: str | None = None) -> AuditEntry:
    """Add one audit-log row to ``db`` (committed with the change it describes)."""
    entry = AuditEntry(at=utcnow(), user_id=user.id if user else None,
                       username=username or (user.username if user else ""), ip=ip or "",
                       action=action, object=obj[:200], institution_id=institution_id,
                       details=details or {})
    db.add(entry)
    return entry


# --- Flask glue ----------------------------------------------------------------------------

def request_ip() -> str | None:
    settings = current_app.config["LIENHOP"]
    return client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"),
                     settings.trusted_proxies)


def current_user() -> AdminUser | None:
    """The logged-in, active administrator of this request, or None."""
    if "admin_user" in g:
        return g.admin_user
    user = None
    uid, nonce = session.get("admin_uid"), session.get("admin_nonce")
    if uid is not None and nonce:
        found = store.session().get(AdminUser, uid)
        if found is not None and found.active and secrets.compare_digest(
                found.session_nonce, str(nonce)):
            user = found
    g.admin_user = user
    return user


def log_in(user: AdminUser) -> None:
    session.clear()  # nothing from before the login survives into the admin session
    session["admin_uid"] = user.id
    session["admin_nonce"] = user.session_nonce
    g.admin_user = user


def log_out() -> None:
    session.pop("admin_uid", None)
    session.pop("admin_nonce", None)
    g.pop("admin_user", None)


def audit(action: str, obj: str = "", details: dict[str, Any] | None = None, *,
          institution_id: int | None = None) -> AuditEntry:
    """Audit a change made in this request by the current user (the view commits)."""
    return audit_entry(store.session(), current_user(), action, obj, details,
                       institution_id=institution_id, ip=request_ip() or "")


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def consortium_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        if not is_consortium(user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def require_institution(institution_id: int | None) -> None:
    """Abort with 403 unless the current user may manage this institution."""
    if not may_manage(current_user(), institution_id):
        abort(403)
