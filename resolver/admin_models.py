"""Administration state: accounts, login throttling, the audit log and harvest jobs.

Imported at the end of :mod:`resolver.models` so Alembic sees these tables; the schema is
created by migration ``0003``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resolver.models import Base, HarvestRun, Institution, Repository, utcnow

CONSORTIUM = "consortium"
INSTITUTION = "institution"
ROLES = (CONSORTIUM, INSTITUTION)

INCREMENTAL = "incremental"
FULL = "full"
#: a full run that may remove more than LIENHOP_HARVEST_MAX_DELETE_SHARE of the repository
#: (an administrator confirmed the numbers a refused full run showed)
FULL_MASS_DELETE = "full_delete"
JOB_KINDS = (INCREMENTAL, FULL, FULL_MASS_DELETE)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
#: the list was walked, but records failed (retried next run) or a mass deletion was refused
PARTIAL = "partial"
ACTIVE_STATUSES = (QUEUED, RUNNING)
JOB_STATUSES = (QUEUED, RUNNING, DONE, PARTIAL, FAILED, CANCELLED)


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


class HarvestJob(Base):
    """One requested harvest of one repository, run by ``lienhop worker``.

    The web pages read this table only, never the queue's internals. A job that a dead
    worker left ``running`` is put back to ``queued`` and sent again (see
    :mod:`resolver.jobs`); ``attempts`` counts the starts.
    """

    __tablename__ = "harvest_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repository.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default=INCREMENTAL)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    enqueued_by: Mapped[str] = mapped_column(String(100), default="")
    enqueued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    worker: Mapped[str] = mapped_column(String(200), default="")
    task_id: Mapped[str] = mapped_column(String(64), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    harvest_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("harvest_run.id", ondelete="SET NULL"), nullable=True
    )
    error: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")

    repository: Mapped[Repository] = relationship()
    harvest_run: Mapped[HarvestRun | None] = relationship()
