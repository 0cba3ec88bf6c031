"""Tables of the OAI-PMH data provider (issue 8): one ``oai_item`` per exposed record.

The provider never reads the search index: it serves this table, which the harvest path
keeps in step (:mod:`resolver.oai.feed`). Why a table of its own:

* ``datestamp`` is *our* change time (seconds, UTC, naive), not the source's, so downstream
  incremental harvesters see every re-ingest; an unchanged re-delivery keeps it (``content_hash``).
* deletions persist forever (``deleted`` tombstones), as Identify's ``persistent`` promises.
* selective harvesting is keyset SQL over ``(datestamp, record_id)``; set membership is a
  join table (``oai_item_set``, ancestors included) so ``set=`` is an indexed lookup too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from resolver.db.base import Base


class OaiItem(Base):
    """One record as lienhop re-exposes it (live, or a tombstone)."""

    __tablename__ = "oai_item"
    __table_args__ = (Index("ix_oai_item_datestamp_id", "datestamp", "record_id"),)

    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    datestamp: Mapped[dt.datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the normalised record (:meth:`index.record.Record.to_dict`); kept for tombstones too,
    #: so a deleted header still carries its sets and provenance
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    #: metadataPrefix the source served (provenance metadataNamespace)
    source_prefix: Mapped[str] = mapped_column(String(64), default="oai_dc")


class OaiItemSet(Base):
    """Set membership of an item; every ancestor spec is stored too (``inst`` and ``inst:hue``)."""

    __tablename__ = "oai_item_set"
    __table_args__ = (Index("ix_oai_item_set_spec_id", "spec", "record_id"),)

    record_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("oai_item.record_id", ondelete="CASCADE"), primary_key=True
    )
    spec: Mapped[str] = mapped_column(String(200), primary_key=True)
