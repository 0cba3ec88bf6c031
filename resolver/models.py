"""Relational state: the consortium registry and harvest state and runs.

Every table here is created and changed only by the Alembic migrations in
``resolver/migrations``; a test checks that the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

MEMBER = "member"
OBSERVER = "observer"
STATUSES = (MEMBER, OBSERVER)
#: An observer may become a full member after two years of observing.
OBSERVATION_YEARS = 2


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Institution(Base):
    """A member or observer library of the consortium."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default=OBSERVER)
    since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(64), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    ip_ranges: Mapped[list[IpRange]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="IpRange.cidr"
    )
    repositories: Mapped[list[Repository]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="Repository.code"
    )

    def eligible_for_membership(self, today: dt.date | None = None) -> bool:
        """True for an observer that has observed for at least two years."""
        if self.status != OBSERVER or self.since is None:
            return False
        today = today or dt.date.today()
        try:
            anniversary = self.since.replace(year=self.since.year + OBSERVATION_YEARS)
        except ValueError:  # observing since 29 February
            anniversary = self.since.replace(year=self.since.year + OBSERVATION_YEARS, day=28)
        return today >= anniversary


class IpRange(Base):
    """One campus network (IPv4 or IPv6 CIDR) of an institution."""

    __tablename__ = "ip_range"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    cidr: Mapped[str] = mapped_column(String(64), unique=True)

    institution: Mapped[Institution] = relationship(back_populates="ip_ranges")


class PendingIpRange(Base):
    """A campus range an institution administrator asked for, not yet approved.

    Kept out of ``ip_range`` on purpose: every reader of that table (the resolver's registry
    snapshot, the TOML export, ``lienhop registry list``) sees only ranges in force, so a
    request cannot be honoured by a reader that forgot to filter. Approval moves the range
    into ``ip_range``; rejection deletes the request.
    """

    __tablename__ = "pending_ip_range"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    cidr: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()


class Repository(Base):
    """An OAI-PMH endpoint of a member institution (DSpace, Koha, OJS...)."""

    __tablename__ = "repository"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300), default="")
    platform: Mapped[str] = mapped_column(String(32), default="")
    oai_url: Mapped[str] = mapped_column(String(1000))
    metadata_prefix: Mapped[str] = mapped_column(String(64), default="oai_dc")
    sets: Mapped[list[str]] = mapped_column(JSON, default=list)
    schedule: Mapped[str] = mapped_column(String(64), default="daily")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship(back_populates="repositories")
    state: Mapped[HarvestState | None] = relationship(
        back_populates="repository", cascade="all, delete-orphan", uselist=False
    )
    runs: Mapped[list[HarvestRun]] = relationship(
        back_populates="repository", cascade="all, delete-orphan", order_by="HarvestRun.id"
    )


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

SUBSCRIPTION = "subscription"
OPEN_ACCESS = "open"
PACKAGE_KINDS = (SUBSCRIPTION, OPEN_ACCESS)
DELIVERY_STATUSES = ("new", "in progress", "delivered", "refused")


class Package(Base):
    """A knowledge-base package: a shared subscription (ScienceDirect…) or an open collection.

    Link templates use :mod:`resolver.linktemplates` placeholders; an empty article template
    means the package only offers title-level links.
    """

    __tablename__ = "kb_package"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    platform: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16), default=SUBSCRIPTION)
    article_template: Mapped[str] = mapped_column(String(1000), default="")
    title_template: Mapped[str] = mapped_column(String(1000), default="{title_url}")
    imported_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    source_file: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    titles: Mapped[list[KbTitle]] = relationship(
        back_populates="package", cascade="all, delete-orphan", passive_deletes=True
    )
    entitlements: Mapped[list[Entitlement]] = relationship(
        back_populates="package", cascade="all, delete-orphan", passive_deletes=True
    )


class KbTitle(Base):
    """One KBART row of a package (a title with gaps in coverage has several rows).

    Matching columns are normalised as :mod:`resolver.kbart` does (ISSN ``NNNN-NNNC``,
    ISBN-13 digits, folded title); ``data`` keeps the whole parsed row so a re-import can be
    diffed against it and coverage rebuilt without a migration per KBART column.
    """

    __tablename__ = "kb_title"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("kb_package.id", ondelete="CASCADE"), index=True
    )
    row: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(1000))
    title_norm: Mapped[str] = mapped_column(String(300), index=True)
    print_id: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    online_id: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    title_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    title_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    date_first: Mapped[str | None] = mapped_column(String(10), nullable=True)
    date_last: Mapped[str | None] = mapped_column(String(10), nullable=True)
    embargo: Mapped[str | None] = mapped_column(String(32), nullable=True)
    coverage_depth: Mapped[str] = mapped_column(String(64), default="fulltext")
    publication_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    package: Mapped[Package] = relationship(back_populates="titles")


class Entitlement(Base):
    """An institution may use a package from ``start`` to ``end`` (inclusive; None = open)."""

    __tablename__ = "kb_entitlement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("kb_package.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    package: Mapped[Package] = relationship(back_populates="entitlements")
    institution: Mapped[Institution] = relationship()


class ResolverSettings(Base):
    """Per-institution resolver settings: EZproxy prefix, catalogue link, redirect default.

    ``catalogue_template`` may hold several templates separated by spaces; the first one
    the citation can fill is used (e.g. an ISSN search, then a title search).
    """

    __tablename__ = "resolver_settings"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    proxy_prefix: Mapped[str] = mapped_column(String(500), default="")
    catalogue_template: Mapped[str] = mapped_column(String(2000), default="")
    catalogue_name: Mapped[str] = mapped_column(String(200), default="")
    redirect_default: Mapped[bool] = mapped_column(Boolean, default=False)

    institution: Mapped[Institution] = relationship()


class OpenPlatform(Base):
    """An open platform searched by URL template (Openscience.vn, …), after our own index."""

    __tablename__ = "open_platform"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url_template: Mapped[str] = mapped_column(String(1000))
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ClickLog(Base):
    """One followed target, for usage reports. Deliberately no IP address and no user."""

    __tablename__ = "click_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    institution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    package: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    doi: Mapped[str | None] = mapped_column(String(300), nullable=True)
    issn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    isbn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)


class DeliveryRequest(Base):
    """A document-delivery request typed by a user, for the administrators to handle."""

    __tablename__ = "delivery_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    institution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    citation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")


from resolver import admin_models  # noqa: E402,F401,I001
from resolver import usage_models  # noqa: E402,F401
from resolver import linkcheck_models  # noqa: E402,F401
from resolver import oai_models  # noqa: E402,F401
