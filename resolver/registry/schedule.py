"""The schedule grammar: what a repository's ``schedule`` may say, and when it next asks for a
harvest. Pure functions, no clock of their own.

One grammar for everyone who reads a schedule: the registry import
(:mod:`resolver.registry.toml_file`), the admin registry page and the scheduler
(:mod:`resolver.harvesting.queue`). When the import checked only the shape, ``99 * * * *``
was accepted and the scheduler then never ran that repository, without a word; now whatever
:func:`parse_schedule` accepts, :func:`next_run` runs.

A schedule is ``manual`` (never), one of the named intervals ``hourly``/``daily``/``weekly``/
``monthly``, ``every N`` minutes, hours or days (``every 30m``, ``every 6h``, ``every 2d``; at
most :data:`MAX_INTERVAL`), or a five-field cron expression (minute hour day-of-month month
day-of-week; ``*``, numbers, ranges ``a-b``, steps ``/n`` and comma lists, ASCII digits).
Named schedules and intervals count from the last run, so a slow repository is never
harvested twice at once and a worker that was down catches up with one run, not many. Cron
fields are read in Vietnam's time (UTC+7, no daylight saving), because that is the clock
administrators think in ("30 2 * * *" is 02:30 in Hanoi); the datetimes in and out are naive
UTC, like every timestamp in the database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass


def N_(message: str) -> str:
    """Marks a message for the catalogue (``pybabel extract`` reads ``N_``); translated where
    it is shown (:meth:`ScheduleError.message`), since this module has no reader."""
    return message


NAMED_SCHEDULES = ("manual", "hourly", "daily", "weekly", "monthly")
VIETNAM = dt.timezone(dt.timedelta(hours=7))
#: The longest interval: beyond a year a repository is in effect harvested by hand (say
#: ``manual``), and ``every 99999999999d`` would overflow the scheduler's date arithmetic.
MAX_INTERVAL = dt.timedelta(days=366)

INTERVAL_RE = re.compile(r"^every\s+([0-9]+)\s*(m|h|d)$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
_NAMED_INTERVALS = {
    "hourly": dt.timedelta(hours=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
}
_FIELDS = ((N_("minute"), 0, 59), (N_("hour"), 0, 23), (N_("day-of-month"), 1, 31),
           (N_("month"), 1, 12), (N_("day-of-week"), 0, 7))
#: one comma-separated part of a cron field; nine digits are more than any field's range
_PART_RE = re.compile(r"^(\*|([0-9]{1,9})(?:-([0-9]{1,9}))?)(?:/([0-9]{1,9}))?$")
#: the most days each month can have (29 February: leap years come)
_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: how far ahead a cron expression is searched; every accepted one fires within 8 years
_MAX_DAYS = 366 * 8


class ScheduleError(ValueError):
    """A schedule the scheduler cannot run. ``str()`` says why in English (the registry
    import, the logs); :meth:`message` says it in the reader's language, from the same
    message template and values."""

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(self.message())

    def message(self, translate: Callable[[str], str] = N_) -> str:
        """The reason, each message (and field name) passed through ``translate``."""
        shown = {key: value.message(translate) if isinstance(value, ScheduleError)
                 else translate(value) if key == "field" and isinstance(value, str) else value
                 for key, value in self.values.items()}
        return translate(self.template) % shown


@dataclass(frozen=True)
class Interval:
    """A fixed time after the last run (``hourly``, ``daily``, ``weekly``, ``every N…``)."""

    length: dt.timedelta

    def after(self, last_run: dt.datetime) -> dt.datetime | None:
        return last_run + self.length


@dataclass(frozen=True)
class Monthly:
    """The same day of the next month, or its last day when that month is shorter."""

    def after(self, last_run: dt.datetime) -> dt.datetime | None:
        return _add_month(last_run)


@dataclass(frozen=True)
class Cron:
    """A cron expression; ``any_day``/``any_weekday`` mark a literal ``*`` in those fields."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def fires_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        dom_ok, dow_ok = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        # cron's rule: when both day fields are restricted, either one matching is enough
        if self.any_day or self.any_weekday:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def after(self, last_run: dt.datetime) -> dt.datetime | None:
        local = last_run.replace(tzinfo=dt.UTC).astimezone(VIETNAM).replace(tzinfo=None)
        start = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = start.date()
        for _ in range(_MAX_DAYS):
            if self.fires_on(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        moment = dt.datetime.combine(day, dt.time(hour, minute))
                        if moment >= start:
                            utc = moment.replace(tzinfo=VIETNAM).astimezone(dt.UTC)
                            return utc.replace(tzinfo=None)
            day += dt.timedelta(days=1)
        return None


Schedule = Interval | Monthly | Cron


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        m = _PART_RE.match(part)
        if not m:
            raise ScheduleError(N_("%(field)s field %(text)s is not a number, a range or a step"),
                                field=name, text=repr(text))
        star, first, last, step = m.group(1) == "*", m.group(2), m.group(3), m.group(4)
        start = low if star else int(first)
        end = high if star else int(last) if last is not None else start
        if step is not None and not star and last is None:
            end = high  # "5/15" means from 5 to the end, every 15
        stride = int(step) if step is not None else 1
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleError(N_("%(field)s field %(text)s is outside %(low)s-%(high)s"),
                                field=name, text=repr(text), low=low, high=high)
        if start > end:
            raise ScheduleError(N_("%(field)s field %(text)s runs backwards"),
                                field=name, text=repr(text))
        if stride < 1:
            raise ScheduleError(N_("%(field)s field %(text)s has a step of nothing"),
                                field=name, text=repr(text))
        values.update(range(start, end + 1, stride))
    return frozenset(values)


def parse_cron(expr: str) -> tuple[frozenset[int], ...]:
    """``(minutes, hours, days, months, weekdays)``; weekday 0 and 7 are both Sunday.

    >>> minutes, _hours, _days, _months, weekdays = parse_cron("*/20 2 * * 7")
    >>> sorted(minutes), sorted(weekdays)
    ([0, 20, 40], [0, 7])
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ScheduleError(N_("a cron expression has five fields"))
    parsed = [_field(f, name, lo, hi) for f, (name, lo, hi) in zip(fields, _FIELDS, strict=True)]
    if 7 in parsed[4]:
        parsed[4] = parsed[4] | {0}
    return tuple(parsed)


def _cron(expr: str) -> Cron:
    minutes, hours, days, months, weekdays = parse_cron(expr)
    fields = expr.split()
    cron = Cron(minutes, hours, days, months, weekdays, fields[2] == "*", fields[4] == "*")
    if not cron.any_day and cron.any_weekday and not any(
            day <= _MONTH_DAYS[month] for month in months for day in days):
        raise ScheduleError(N_("it never runs: none of its months has any of its days"))
    return cron


def _interval(count: str, unit: str) -> Interval:
    longest = MAX_INTERVAL // dt.timedelta(minutes=_UNIT_MINUTES[unit])
    if len(count) > 9 or int(count) > longest:
        raise ScheduleError(N_("an interval is at most %(days)s days (every %(longest)s); "
                               "say 'manual' for rarer harvests"),
                            days=MAX_INTERVAL.days, longest=f"{longest}{unit}")
    if int(count) == 0:
        raise ScheduleError(N_("an interval must be positive"))
    return Interval(dt.timedelta(minutes=int(count) * _UNIT_MINUTES[unit]))


def parse_schedule(schedule: str) -> Schedule | None:
    """The schedule ``schedule`` says (None for ``manual``); :class:`ScheduleError` when the
    scheduler could not run it. Case and surrounding spaces do not matter.

    >>> parse_schedule(" Every 6h ")
    Interval(length=datetime.timedelta(seconds=21600))
    >>> parse_schedule("manual") is None
    True
    """
    value = schedule.strip().lower()
    if value == "manual":
        return None
    if value in _NAMED_INTERVALS:
        return Interval(_NAMED_INTERVALS[value])
    if value == "monthly":
        return Monthly()
    m = INTERVAL_RE.match(value)
    try:
        if m:
            return _interval(m.group(1), m.group(2))
        if len(value.split()) == 5:
            return _cron(value)
    except ScheduleError as exc:
        raise ScheduleError(N_("schedule %(value)s: %(why)s"), value=repr(value),
                            why=exc) from None
    raise ScheduleError(
        N_("schedule %(value)s is not one of %(names)s, an interval like 'every 6h', "
           "or a cron expression like '30 2 * * *'"),
        value=repr(value), names=", ".join(NAMED_SCHEDULES))


def schedule_problem(schedule: str) -> str | None:
    """Why the scheduler could not run ``schedule`` (English), or None when it can.

    >>> schedule_problem("30 2 * * *") is None
    True
    >>> schedule_problem("99 * * * *")
    "schedule '99 * * * *': minute field '99' is outside 0-59"
    >>> schedule_problem("0 0 31 2 *")
    "schedule '0 0 31 2 *': it never runs: none of its months has any of its days"
    """
    try:
        parse_schedule(schedule)
    except ScheduleError as exc:
        return str(exc)
    return None


def _add_month(moment: dt.datetime) -> dt.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_run(schedule: str | None, last_run: dt.datetime | None) -> dt.datetime | None:
    """The first moment after ``last_run`` the schedule asks for; None for manual (or a
    schedule the grammar refuses, which the registry never stores).

    A repository never harvested (``last_run`` None) is due at once: ``datetime.min``.

    >>> next_run("every 6h", dt.datetime(2026, 3, 10, 1, 15))
    datetime.datetime(2026, 3, 10, 7, 15)
    """
    try:
        parsed = parse_schedule(schedule or "")
    except ScheduleError:
        return None
    if parsed is None:
        return None
    if last_run is None:
        return dt.datetime.min
    try:
        return parsed.after(last_run)
    except (OverflowError, ValueError):  # a last run at the end of time: nothing comes after
        return None


def is_due(schedule: str | None, last_run: dt.datetime | None, now: dt.datetime) -> bool:
    when = next_run(schedule, last_run)
    return when is not None and when <= now
