"""Link check results: the latest check of a sample of each package's title links.

Imported at the end of :mod:`resolver.models` so Alembic sees the table; the schema is
created by migration ``0005``. Packages are referred to by *code*, as the usage tables do:
a result must be readable even after the package was re-imported under new row ids.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resolver.models import Base, utcnow


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
