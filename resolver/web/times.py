"""Every time a page shows, in Vietnam time.

The database, the logs and the job log keep UTC (naive datetimes, ``…Z`` stamps); a page
converts at the last moment, here, to the site's time zone (``BABEL_DEFAULT_TIMEZONE``,
Asia/Ho_Chi_Minh, set in :mod:`resolver.web.i18n`). Templates use the ``local_time`` filter
(``admin_time`` is the same function under its older name).
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import format_datetime

#: How a time reads on a page: a time zone-free ISO shape every language reads alike.
PATTERN = "yyyy-MM-dd HH:mm"
#: A UTC stamp the worker writes at the start of a job-log line (resolver/harvesting/queue.py).
_LOG_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z", re.M)


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
