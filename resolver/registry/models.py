"""The registry's tables: institutions, their campus IP ranges, repositories, resolver settings
and the open platforms the resolver searches.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resolver.db.base import Base, utcnow

if TYPE_CHECKING:  # relationships only; harvesting.models imports this module
    from resolver.harvesting.models import HarvestRun, HarvestState


MEMBER = "member"
OBSERVER = "observer"
STATUSES = (MEMBER, OBSERVER)
#: An observer may become a full member after two years of observing.
OBSERVATION_YEARS = 2



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


class InstitutionSize(Base):
    """How big an institution was in a reporting year: students and researchers (FTE).

    Kept here, with the institution, because it is registry data (who the members are and
    what they report) that several domains may read; usage's cost sharing is its first reader
    (size tiers). A figure not reported is NULL, never 0.
    """

    __tablename__ = "institution_size"
    __table_args__ = (UniqueConstraint("institution_id", "year", name="uq_institution_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    students: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fte: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship()


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
