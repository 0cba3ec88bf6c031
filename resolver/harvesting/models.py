"""Harvest tables: each repository's checkpoint, its runs, the jobs the worker runs, and the
workers' own heartbeats.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resolver.db.base import Base, utcnow
from resolver.registry.models import Repository


class HarvestState(Base):
    """The harvester's checkpoint for one repository (high-water mark, resume point, quirks).

    Kept as a JSON document owned by ``harvesters``, so the harvester can evolve what it
    remembers without a migration for every field.
    """

    __tablename__ = "harvest_state"

    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repository.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    repository: Mapped[Repository] = relationship(back_populates="state")


class HarvestRun(Base):
    """One harvest of one repository, for the administrators' pages."""

    __tablename__ = "harvest_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repository.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    high_water: Mapped[str] = mapped_column(String(32), default="")
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    log: Mapped[str] = mapped_column(Text, default="")

    repository: Mapped[Repository] = relationship(back_populates="runs")


# --- knowledge base and link resolver ----------------------------------------------------


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


class HarvestJob(Base):
    """One requested harvest of one repository, run by ``lienhop worker``.

    The web pages read this table only, never the queue's internals. A job that a dead
    worker left ``running`` is put back to ``queued`` and sent again (see
    :mod:`resolver.harvesting.queue`); ``attempts`` counts the starts.
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


class HarvestWorker(Base):
    """One running ``lienhop worker`` process, as it last reported itself.

    A job's ``heartbeat`` says its worker is alive only while the job runs; a queued job has
    no worker yet, so the pages ask this table whether any worker will take it. Each worker
    refreshes its row every few seconds and deletes it when it stops; a row not refreshed for
    ``LIENHOP_JOB_STALE_SECONDS`` is a worker that died (see
    :func:`resolver.harvesting.queue.worker_seen`).
    """

    __tablename__ = "harvest_worker"

    #: ``host:pid``, as in the ``worker`` column of the jobs it runs
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
