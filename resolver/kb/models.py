"""Knowledge-base tables: packages, their titles, entitlements and link-check results.

Packages are referred to by *code* in the link-check table, as the usage tables do: a result
must be readable even after the package was re-imported under new row ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resolver.db.base import Base, utcnow
from resolver.registry.models import Institution

SUBSCRIPTION = "subscription"
OPEN_ACCESS = "open"
PACKAGE_KINDS = (SUBSCRIPTION, OPEN_ACCESS)


class Package(Base):
    """A knowledge-base package: a shared subscription (ScienceDirect…) or an open collection.

    Link templates use :mod:`resolver.kb.linktemplates` placeholders; an empty article template
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

    Matching columns are normalised as :mod:`resolver.kb.kbart` does (ISSN ``NNNN-NNNC``,
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



class LinkCheck(Base):
    """One checked title link: the HTTP status it answered (None: no answer) or the error."""

    __tablename__ = "link_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(1000), default="")
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400
