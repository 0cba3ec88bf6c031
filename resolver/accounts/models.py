"""Accounts: administrators, login throttling and the audit log (migration ``0003``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resolver.db.base import Base, utcnow
from resolver.registry.models import Institution

CONSORTIUM = "consortium"
INSTITUTION = "institution"
ROLES = (CONSORTIUM, INSTITUTION)


class AdminUser(Base):
    """An administrator: of the whole consortium, or of one institution.

    Only a password *hash* is stored (werkzeug's scrypt). ``session_nonce`` goes into the
    signed session cookie; changing it (new password, deactivation) logs out every session.
    """

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=INSTITUTION)
    # SET NULL, not CASCADE: removing an institution must not silently delete accounts; an
    # institution administrator without an institution simply may do nothing.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="SET NULL"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    session_nonce: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution | None] = relationship()


class LoginThrottle(Base):
    """Failed logins per client IP, in the database so every web process shares them."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """Who changed what, when. ``username`` is kept even after the account is removed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"), nullable=True, index=True
    )
    username: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(200), default="")
    # the institution concerned, so institution administrators can be shown their own trail
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="SET NULL"), nullable=True, index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


