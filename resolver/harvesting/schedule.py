"""When is a repository's next scheduled harvest? Pure functions, no clock of their own.

The syntax is :func:`resolver.registry.toml_file.validate_schedule`'s: ``manual`` (never), the named
intervals ``hourly``/``daily``/``weekly``/``monthly``, ``every N[m|h|d]``, or a five-field
cron expression (minute hour day-of-month month day-of-week). Named schedules and intervals
count from the last run, so a slow repository is never harvested twice at once and a worker
that was down catches up with one run, not many. Cron fields are read in Vietnam's time
(UTC+7, no daylight saving), because that is the clock administrators think in ("30 2 * * *"
is 02:30 in Hanoi); the datetimes in and out are naive UTC, like every timestamp in the
database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from resolver.registry.toml_file import INTERVAL_RE, validate_schedule

VIETNAM = dt.timezone(dt.timedelta(hours=7))
_NAMED = {
    "hourly": dt.timedelta(hours=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
}
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_PART_RE = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")
#: cron expressions that never fire (31 February) must not loop forever
_MAX_DAYS = 366 * 8


def _field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        m = _PART_RE.match(part)
        if not m:
            raise ValueError(f"bad cron field {text!r}")
        star, first, last, step = m.group(1) == "*", m.group(2), m.group(3), m.group(4)
        start = low if star else int(first)
        end = high if star else int(last) if last is not None else start
        if step is not None and not star and last is None:
            end = high  # "5/15" means from 5 to the end, every 15
        stride = int(step) if step is not None else 1
        if not (low <= start <= high and low <= end <= high) or start > end or stride < 1:
            raise ValueError(f"cron field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, stride))
    return frozenset(values)


def parse_cron(expr: str) -> tuple[frozenset[int], ...]:
    """``(minutes, hours, days, months, weekdays)``; weekday 0 and 7 are both Sunday."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("a cron expression has five fields")
    parsed = [_field(f, lo, hi) for f, (lo, hi) in zip(fields, _BOUNDS, strict=True)]
    if 7 in parsed[4]:
        parsed[4] = parsed[4] | {0}
    return tuple(parsed)


def schedule_problem(schedule: str) -> str | None:
    """Like ``validate_schedule``, but also catches out-of-range cron values (``99 * * * *``)."""
    why = validate_schedule(schedule)
    if why:
        return why
    value = schedule.strip().lower()
    if len(value.split()) == 5:
        try:
            parse_cron(value)
        except ValueError as exc:
            return str(exc)
    return None


def _add_month(moment: dt.datetime) -> dt.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _cron_after(expr: str, after: dt.datetime) -> dt.datetime | None:
    minutes, hours, days, months, weekdays = parse_cron(expr)
    dom_any, dow_any = expr.split()[2] == "*", expr.split()[4] == "*"
    local = after.replace(tzinfo=dt.UTC).astimezone(VIETNAM).replace(tzinfo=None)
    start = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    day = start.date()
    for _ in range(_MAX_DAYS):
        if day.month in months:
            dom_ok, dow_ok = day.day in days, (day.isoweekday() % 7) in weekdays
            # cron's rule: when both day fields are restricted, either one matching is enough
            match = (dom_ok and dow_ok) if dom_any or dow_any else (dom_ok or dow_ok)
            if match:
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        moment = dt.datetime.combine(day, dt.time(hour, minute))
                        if moment >= start:
                            utc = moment.replace(tzinfo=VIETNAM).astimezone(dt.UTC)
                            return utc.replace(tzinfo=None)
        day += dt.timedelta(days=1)
    return None


def next_run(schedule: str, last_run: dt.datetime | None) -> dt.datetime | None:
    """The first moment after ``last_run`` the schedule asks for; None for manual (or never).

    A repository never harvested (``last_run`` None) is due at once: ``datetime.min``.
    """
    value = (schedule or "").strip().lower()
    if not value or value == "manual" or schedule_problem(value):
        return None
    if last_run is None:
        return dt.datetime.min
    if value in _NAMED:
        return last_run + _NAMED[value]
    if value == "monthly":
        return _add_month(last_run)
    m = INTERVAL_RE.match(value)
    if m:
        return last_run + dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    return _cron_after(value, last_run)


def is_due(schedule: str, last_run: dt.datetime | None, now: dt.datetime) -> bool:
    when = next_run(schedule, last_run)
    return when is not None and when <= now
