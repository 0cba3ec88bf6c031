"""Every time a page shows, in Vietnam time.

The database, the logs and the job log keep UTC (naive datetimes, ``…Z`` stamps); a page
converts at the last moment, here, to the site's time zone (``BABEL_DEFAULT_TIMEZONE``,
Asia/Ho_Chi_Minh, :data:`ZONE_NAME`, set in :mod:`resolver.web.i18n`). Templates use the
``local_time`` filter (``admin_time`` is the same function under its older name); a time
inside stored text (the audit log's details) goes through :func:`local_stamps`. The command
line, which has no page language, says the zone: :func:`cli_time`.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_datetime

#: the site's time zone: Vietnam, UTC+7 all year (no daylight saving since 1975)
ZONE_NAME = "Asia/Ho_Chi_Minh"

#: How a time reads on a page: a time zone-free ISO shape every language reads alike.
PATTERN = "yyyy-MM-dd HH:mm"
#: A UTC stamp the worker writes at the start of a job-log line (resolver/harvesting/queue.py).
_LOG_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z", re.M)
#: a UTC time written by ``isoformat()`` (naive, as the database keeps it) or with ``Z`` or
#: ``+00:00``; a date alone, or a time with another offset, is not one
_ISO_STAMP = re.compile(
    r"(?<![\d.:-])(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(\.\d{1,6})?(Z|\+00:?00)?"
    r"(?![\d.:+-])")


def _zone() -> dt.tzinfo:
    try:
        return ZoneInfo(ZONE_NAME)
    except ZoneInfoNotFoundError:  # a system without time-zone data: Vietnam's fixed offset
        return dt.timezone(dt.timedelta(hours=7), "ICT")


ZONE = _zone()


def local_time(value: dt.datetime | None, pattern: str = PATTERN) -> str:
    """A stored time (naive UTC, or aware) in the site's time zone; "" for none (and for
    ``datetime.min``, the scheduler's "at once")."""
    if value is None or value == dt.datetime.min:
        return ""
    return str(format_datetime(value, pattern))


def local_log(text: str | None) -> str:
    """A job log with each line's UTC stamp (``2024-02-01T20:00:00Z``) in the site's time
    zone (``2024-02-02 03:00:00``); lines without such a stamp as they are."""
    if not text:
        return ""

    def local(m: re.Match[str]) -> str:
        return local_time(dt.datetime.fromisoformat(m.group(1)), "yyyy-MM-dd HH:mm:ss")

    return _LOG_STAMP.sub(local, text)


def local_stamps(text: str) -> str:
    """``text`` with every UTC time written in it (``2024-02-01T20:00:00``, ``…Z``,
    ``…+00:00``, seconds and fractions optional) in the site's time zone
    (``2024-02-02 03:00:00``); dates alone and everything else as they are."""
    if not text or "-" not in text:
        return text

    def local(m: re.Match[str]) -> str:
        when = dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
        return local_time(when, "yyyy-MM-dd HH:mm:ss" if m.group(2).count(":") == 2
                          else PATTERN)

    return _ISO_STAMP.sub(local, text)


def in_vietnam(value: dt.datetime) -> dt.datetime:
    """A stored time (naive UTC, or aware) as an aware time in the site's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZONE)


def cli_time(value: dt.datetime | None, *, none: str = "never") -> str:
    """A stored time for the command line: Vietnam time with its offset, which a terminal
    cannot take from a page (``2024-02-02 03:00 +07:00``); ``none`` for no time."""
    if value is None:
        return none
    local = in_vietnam(value)
    offset = local.strftime("%z")  # +0700
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
