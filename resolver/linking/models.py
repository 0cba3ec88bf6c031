"""Document-delivery requests: what a reader asked for when no copy could be linked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from resolver.db.base import Base, utcnow

DELIVERY_STATUSES = ("new", "in progress", "delivered", "refused")


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
