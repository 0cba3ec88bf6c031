"""Administrators: passwords, login throttling, roles, ended sessions and the audit log.

The core is pure (password checks, lock arithmetic, who may touch which institution); the
database counters and account changes follow. No Flask here: the request-bound half (who is
logged in, the session cookie, the decorators, auditing "this request") is
:mod:`resolver.views.admin.auth`, so the command line and the worker use these functions
without an app.

**Throttling** lives in the database, not in memory: production runs several gunicorn
processes (and may run several machines), and an attacker must not get N tries *per
process*. Three counters, each locking for ``login_lock_minutes``:

* per client IP *and* account name (``login_throttle`` key ``pair:…``), after
  ``login_max_failures``: an attacker at one address soon stops guessing one account, while
  the administrator logging in from another address is not affected by it;
* per client IP (key ``ip:…``), after ``IP_FACTOR`` times that, across all names, so one
  address cannot try many accounts (one office behind one NAT address can still mistype a
  few passwords);
* per account from everywhere (``admin_user.failed_logins``), after ``ACCOUNT_FACTOR`` times
  that. This ceiling is deliberately high: it only slows an attack spread over many
  addresses (each of which is stopped by its own pair counter after a few tries). Reaching
  it does lock the real administrator out too, which is the price of not giving a botnet
  unlimited guesses.

While locked, even the right password is refused, or the lock would only slow a guesser down.
Every refused login (unknown name, wrong password, any lock, an inactive account) gets the
same answer after exactly one password-hash check, so neither the answer nor its time tells
whether an account exists or is locked. Unknown names are counted like real ones, except on
the account counter, which needs an account.

**Ended sessions**: logging out records the session id as ended (key ``ended:…`` in
``login_throttle``, kept until the session would have expired anyway), so a copy of the
cookie taken before the logout is useless afterwards (:func:`end_session`,
:func:`session_ended`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from resolver.accounts.models import CONSORTIUM, INSTITUTION, AdminUser, AuditEntry, LoginThrottle
from resolver.db.base import utcnow
from resolver.settings import Settings

MIN_PASSWORD_LENGTH = 10
#: the longest username (the width of ``admin_user.username``); a longer one is a failed login
MAX_USERNAME_LENGTH = 100
#: failures per client IP allowed for every failure allowed per (client IP, account)
IP_FACTOR = 4
#: failures per account, from all addresses together, for every failure allowed per pair
ACCOUNT_FACTOR = 20
#: the longest text kept for one value of an audit entry's details
MAX_AUDIT_TEXT = 500
#: the most items kept of one list in an audit entry's details
MAX_AUDIT_ITEMS = 200
#: ``login_throttle`` keys of ended sessions begin with this
ENDED_PREFIX = "ended:"
log = logging.getLogger("lienhop.auth")

PasswordCheck = Callable[[str, str], bool]


# --- pure core ---------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted, werkzeug's default


@functools.cache
def dummy_hash() -> str:
    """A hash to check against when the username does not exist, so that the answer takes as
    long as for a real account (no user enumeration by timing). Made on first use, with the
    method real hashes are made with."""
    return hash_password(secrets.token_hex(16))


def password_problem(password: str) -> str | None:
    """English reason a new password is refused (the views translate their own copy)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    return None


def normalise_username(name: str) -> str:
    return name.strip().lower()


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_details(value: Any) -> Any:
    """Audit details with every text and list bounded (form input may be of any size)."""
    if isinstance(value, str):
        return clip(value, MAX_AUDIT_TEXT)
    if isinstance(value, dict):
        return {clip(str(k), MAX_USERNAME_LENGTH): clip_details(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        kept = [clip_details(v) for v in value[:MAX_AUDIT_ITEMS]]
        if len(value) > MAX_AUDIT_ITEMS:
            kept.append(f"… {len(value) - MAX_AUDIT_ITEMS} more")
        return kept
    return value


def check_password(user: AdminUser | None, password: str,
                   verify: PasswordCheck = check_password_hash) -> bool:
    """Is ``password`` the password of ``user``? Exactly one hash check, also for None."""
    if user is None:
        verify(dummy_hash(), password)
        return False
    return bool(verify(user.password_hash, password))


def verify_login(db: Session, username: str, password: str,
                 verify: PasswordCheck = check_password_hash) -> tuple[AdminUser | None, bool]:
    """The account ``username`` (normalised) names, if any, and whether ``password`` logs it in.

    Exactly one password-hash check whatever the case (unknown, too long, inactive, locked),
    so the time of the answer tells nothing.
    """
    user = None
    if username and len(username) <= MAX_USERNAME_LENGTH:
        user = db.scalar(select(AdminUser).where(AdminUser.username == username))
    right = check_password(user, password, verify)
    return user, right and user is not None and user.active


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and locked_until > now


def session_expired(login_at: Any, seen_at: Any, now: float, idle_minutes: float,
                    max_hours: float) -> bool:
    """Has a session that logged in at ``login_at`` and was last seen at ``seen_at`` (epoch
    seconds, as kept in the cookie) run out at ``now``? One without these times has."""
    try:
        login, seen = float(login_at), float(seen_at)
    except (TypeError, ValueError):
        return True
    return now - login > max_hours * 3600 or now - seen > idle_minutes * 60


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


# --- login throttle (database) --------------------------------------------------------------

def _ip_key(ip: str) -> str:
    return f"ip:{ip}"


def _pair_prefix(username: str) -> str:
    # A digest, not the name: a 100-character name and an IPv6 address would not fit the
    # 100-character key, and the prefix finds every address's row of one name (unlock).
    digest = hashlib.sha256(username.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    return f"pair:{digest}|"


def _pair_key(ip: str, username: str) -> str:
    return _pair_prefix(username) + ip


def _count_failure(db: Session, key: str, now: dt.datetime, limit: int,
                   lock_minutes: float) -> bool:
    """Count one failure on the throttle row ``key`` within a window of ``lock_minutes``;
    True when it locks. One UPDATE in SQL, so concurrent failures (several web processes)
    all count."""
    window = dt.timedelta(minutes=lock_minutes)
    stale = LoginThrottle.window_start < now - window
    # an UPDATE's result is a CursorResult (with rowcount); Session.execute types it Result
    bumped = cast("CursorResult[Any]", db.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            window_start=case((stale, now), else_=LoginThrottle.window_start),
        ).execution_options(synchronize_session=False)))
    if bumped.rowcount == 0:
        db.add(LoginThrottle(key=key, failures=1, window_start=now))
        db.flush()
    failures = db.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) or 0
    if failures < limit:
        return False
    db.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
        failures=0, window_start=now, locked_until=now + window,
    ).execution_options(synchronize_session=False))
    return True


def _count_account_failure(db: Session, user: AdminUser, now: dt.datetime, limit: int,
                           lock_minutes: float) -> dt.datetime | None:
    """Count a failure on the account from anywhere; the end of the lock when it locks."""
    where = AdminUser.id == user.id
    db.execute(update(AdminUser).where(where).values(
        failed_logins=func.coalesce(AdminUser.failed_logins, 0) + 1,
    ).execution_options(synchronize_session=False))
    if (db.scalar(select(AdminUser.failed_logins).where(where)) or 0) < limit:
        return None
    until = now + dt.timedelta(minutes=lock_minutes)
    db.execute(update(AdminUser).where(where).values(failed_logins=0, locked_until=until)
               .execution_options(synchronize_session=False))
    return until


def login_refusal(db: Session, ip: str | None, username: str, user: AdminUser | None,
                  now: dt.datetime) -> str | None:
    """Why a login is refused whatever the password (for the audit log), or None."""
    keys = [_ip_key(ip), _pair_key(ip, username)] if ip else []
    locks: dict[str, dt.datetime | None] = {}
    if keys:
        for key, until in db.execute(select(LoginThrottle.key, LoginThrottle.locked_until)
                                     .where(LoginThrottle.key.in_(keys))):
            locks[key] = until
    if ip and is_locked(locks.get(_ip_key(ip)), now):
        return "client locked"
    if ip and is_locked(locks.get(_pair_key(ip, username)), now):
        return "client and account locked"
    if user is not None and is_locked(user.locked_until, now):
        return "account locked"
    return None


def record_login_failure(db: Session, ip: str | None, username: str, user: AdminUser | None,
                         now: dt.datetime, settings: Settings) -> dict[str, dt.datetime]:
    """Count a failed login on every counter; the locks it set: scope → end of the lock."""
    limit, minutes = settings.login_max_failures, settings.login_lock_minutes
    until = now + dt.timedelta(minutes=minutes)
    locks: dict[str, dt.datetime] = {}
    if ip:
        if _count_failure(db, _pair_key(ip, username), now, limit, minutes):
            locks["client and account"] = until
        if _count_failure(db, _ip_key(ip), now, limit * IP_FACTOR, minutes):
            locks["client"] = until
    if user is not None:
        account_until = _count_account_failure(db, user, now, limit * ACCOUNT_FACTOR, minutes)
        if account_until is not None:
            locks["account"] = account_until
    for scope, end in locks.items():
        log.warning("login locked", extra={"scope": scope, "ip": ip or "",
                                           "username": clip(username, MAX_USERNAME_LENGTH),
                                           "until": end.isoformat()})
        audit_entry(db, user, "login.lock", f"user:{username}",
                    {"scope": scope, "until": end.isoformat()}, ip=ip or "", username=username)
    return locks


def record_login_success(db: Session, ip: str | None, user: AdminUser,
                         now: dt.datetime) -> None:
    """A login went through: this client's failures on this account are forgiven."""
    record_success(user, now)
    if ip:
        db.execute(delete(LoginThrottle).where(LoginThrottle.key == _pair_key(ip, user.username))
                   .execution_options(synchronize_session=False))


def forget_failures(db: Session, user: AdminUser) -> None:
    """Unlock ``user``: the account's lock and every address's lock on it."""
    user.locked_until, user.failed_logins = None, 0
    db.execute(delete(LoginThrottle)
               .where(LoginThrottle.key.startswith(_pair_prefix(user.username), autoescape=True))
               .execution_options(synchronize_session=False))


def prune_login_state(db: Session, now: dt.datetime, settings: Settings) -> None:
    """Delete throttle rows whose window and lock are over, and ended-session rows of
    sessions that would have expired by now anyway.

    For successful logins and the like, not failed ones: on PostgreSQL a DELETE beside the
    row locks of concurrent failure counts could deadlock, and attackers' requests should not
    buy themselves table scans.
    """
    window = dt.timedelta(minutes=settings.login_lock_minutes)
    oldest_session = now - dt.timedelta(hours=settings.session_max_hours)
    db.execute(delete(LoginThrottle).where(
        LoginThrottle.key.startswith(ENDED_PREFIX), LoginThrottle.window_start < oldest_session,
    ).execution_options(synchronize_session=False))
    db.execute(delete(LoginThrottle).where(
        ~LoginThrottle.key.startswith(ENDED_PREFIX), LoginThrottle.window_start < now - window,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
    ).execution_options(synchronize_session=False))


# --- accounts ------------------------------------------------------------------------------

def create_user(db: Session, username: str, password: str, *, role: str = CONSORTIUM,
                institution_id: int | None = None) -> AdminUser:
    """Add an account (the caller commits); raises ValueError with an English reason."""
    name = normalise_username(username)
    if not name or len(name) > MAX_USERNAME_LENGTH or any(c.isspace() for c in name):
        raise ValueError(f"a username is 1-{MAX_USERNAME_LENGTH} characters without spaces")
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
    """Add one audit-log row to ``db`` (committed with the change it describes).

    Every text is cut to its column, and the details' texts to ``MAX_AUDIT_TEXT``: what an
    administrator typed may be of any size, the log must not be.
    """
    entry = AuditEntry(at=utcnow(), user_id=user.id if user else None,
                       username=clip(username or (user.username if user else ""),
                                     MAX_USERNAME_LENGTH),
                       ip=clip(ip or "", 64), action=clip(action, 64), object=clip(obj, 200),
                       institution_id=institution_id, details=clip_details(details or {}))
    db.add(entry)
    return entry


# --- ended sessions ---------------------------------------------------------------------------

def _ended_key(sid: str) -> str:
    return ENDED_PREFIX + sid


def end_session(db: Session, sid: str, login_at: dt.datetime) -> None:
    """Record the session ``sid`` (logged in at ``login_at``) as ended, for every copy of
    its cookie; :func:`prune_login_state` forgets it once it would have expired anyway."""
    db.add(LoginThrottle(key=_ended_key(sid), failures=0, window_start=login_at))


def session_ended(db: Session, sid: str) -> bool:
    return db.scalar(select(LoginThrottle.key).where(LoginThrottle.key == _ended_key(sid))) \
        is not None
