"""Usage and cost: resolver requests, monthly roll-ups, COUNTER reports, package costs.

Imported at the end of :mod:`resolver.models` so Alembic sees these tables; the schema is
created by migration ``0004`` (exchange rates and adopted cost shares by ``0009``).

Institutions and packages are referred to by *code*, as :class:`ClickLog`
does, not by foreign key: usage history must outlive a renamed or removed package, and a
COUNTER file may name a package the knowledge base no longer has.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from resolver.db.base import Base, utcnow

# Outcomes of one resolver request (see resolver.usage.recording.classify).
FULLTEXT = "fulltext"  # the institution is entitled to full text
OPEN_ONLY = "open"  # no entitled full text, but an open copy
TURNAWAY = "turnaway"  # a subscription package holds it, the institution is not entitled
# held by a member repository but restricted: only its record page or the DOI's page
RESTRICTED = "restricted"
NO_MATCH = "nomatch"  # nothing in the knowledge base or the index
OUTCOMES = (FULLTEXT, OPEN_ONLY, TURNAWAY, RESTRICTED, NO_MATCH)

# Sources of the monthly roll-up.
SOURCE_CLICK = "click"
SOURCE_RESOLVE = "resolve"

CURRENCIES = ("USD", "VND")


class ResolveLog(Base):
    """One resolver request (menu, API or direct redirect). No IP address, no user.

    ``package`` is the best-ranked subscription package that holds the citation but that the
    institution is not entitled to (set for turnaways, and for open-only outcomes that are
    also turnaways): it is what "turnaways per package" counts. ``packages`` lists every
    package code considered, space-separated, for the curious.
    """

    __tablename__ = "resolve_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    institution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    package: Mapped[str | None] = mapped_column(String(64), nullable=True)
    packages: Mapped[str] = mapped_column(String(500), default="")
    doi: Mapped[str | None] = mapped_column(String(300), nullable=True)
    issn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    isbn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)


class UsageMonth(Base):
    """Monthly counts of the click and resolve logs, per institution, package and kind.

    Reports read these instead of scanning millions of log rows; months not yet rolled up
    (the current one) are counted from the logs directly. ``''`` stands for "unknown" so the
    unique key works on every database (NULLs are never equal in a unique constraint).
    ``kind`` is the click's target kind or the request's outcome.
    """

    __tablename__ = "usage_month"
    __table_args__ = (
        UniqueConstraint("source", "month", "institution", "package", "kind",
                         name="uq_usage_month_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    month: Mapped[dt.date] = mapped_column(Date)
    institution: Mapped[str] = mapped_column(String(64), default="")
    package: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=0)


class UsageRollupState(Base):
    """Per source: every month before ``through`` is in :class:`UsageMonth`."""

    __tablename__ = "usage_rollup_state"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    through: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CounterImport(Base):
    """One imported COUNTER report (a file or a SUSHI response) and its header."""

    __tablename__ = "counter_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(500), default="")  # file name or "sushi:<url>"
    report_id: Mapped[str] = mapped_column(String(16))
    release: Mapped[str] = mapped_column(String(8), default="5")
    created: Mapped[str] = mapped_column(String(40), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    customer_id: Mapped[str] = mapped_column(String(200), default="")
    institution_name: Mapped[str] = mapped_column(String(300), default="")
    institution: Mapped[str] = mapped_column(String(64), index=True)
    package: Mapped[str] = mapped_column(String(64), index=True)
    begin: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    exceptions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    header: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CounterUsage(Base):
    """One COUNTER figure: a metric of one title (or database) in one month."""

    __tablename__ = "counter_usage"
    __table_args__ = (
        Index("ix_counter_usage_replace", "institution", "package", "report_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("counter_import.id", ondelete="CASCADE"), index=True
    )
    institution: Mapped[str] = mapped_column(String(64))
    package: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(1000), default="")
    platform: Mapped[str] = mapped_column(String(200), default="")
    publisher: Mapped[str] = mapped_column(String(300), default="")
    issn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    eissn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    isbn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    doi: Mapped[str | None] = mapped_column(String(300), nullable=True)
    data_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    access_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    yop: Mapped[str | None] = mapped_column(String(8), nullable=True)
    month: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)


class CounterMonth(Base):
    """COUNTER figures summed over titles: one row per institution, package, report, metric
    and month, kept exact by every import. Reports read this, so they cost the same whether
    a package reports 20 titles or 2,000."""

    __tablename__ = "counter_month"
    __table_args__ = (
        UniqueConstraint("report_id", "metric", "month", "package", "institution",
                         name="uq_counter_month_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution: Mapped[str] = mapped_column(String(64))
    package: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(40))
    month: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)


class PackageCost(Base):
    """What a package costs in one calendar year: for one institution, or consortium-wide
    (``institution`` NULL)."""

    __tablename__ = "package_cost"
    __table_args__ = (Index("ix_package_cost_key", "package", "year", "institution"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ExchangeRate(Base):
    """VND per USD for one calendar year, as the consortium decided to count it (who
    recorded it and when): cost sharing converts a year's amounts with it."""

    __tablename__ = "exchange_rate"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    vnd_per_usd: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CostShare(Base):
    """A cost-sharing policy adopted for a package and year, with what it gave.

    ``allocation`` is the whole result (:meth:`resolver.usage.sharing.Allocation.to_dict`:
    the policy, every member's figures and amount) so a statement printed later shows
    exactly what was adopted, whatever changed in the usage data since. Adopting again adds a
    row; the latest row is the year's policy (the audit log says who changed it).
    ``total`` is in minor units of ``currency`` (cents; đồng).
    """

    __tablename__ = "cost_share"
    __table_args__ = (Index("ix_cost_share_key", "package", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    allocation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    adopted_by: Mapped[str] = mapped_column(String(100), default="")
    adopted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SushiCredential(Base):
    """Where and how to fetch COUNTER reports for one package and institution.

    The API key is a secret the vendor gives the library; it is stored because scheduled
    fetches need it, and is never printed or shown back (pages show only whether one is set).
    """

    __tablename__ = "sushi_credential"
    __table_args__ = (UniqueConstraint("package", "institution", name="uq_sushi_credential"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(1000))
    customer_id: Mapped[str] = mapped_column(String(200))
    requestor_id: Mapped[str] = mapped_column(String(200), default="")
    api_key: Mapped[str] = mapped_column(String(500), default="")
    platform: Mapped[str] = mapped_column(String(200), default="")


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
