"""next_run: when a repository's schedule asks for its next harvest (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from resolver.harvesting.schedule import is_due, next_run, parse_cron, schedule_problem

T = dt.datetime(2026, 3, 10, 1, 15)  # naive UTC: 08:15 in Hanoi, a Tuesday


@pytest.mark.parametrize(("schedule", "expected"), [
    ("hourly", T + dt.timedelta(hours=1)),
    ("daily", T + dt.timedelta(days=1)),
    ("weekly", T + dt.timedelta(days=7)),
    ("monthly", dt.datetime(2026, 4, 10, 1, 15)),
    ("every 6h", T + dt.timedelta(hours=6)),
    ("every 30m", T + dt.timedelta(minutes=30)),
    ("every 2d", T + dt.timedelta(days=2)),
    ("  Every 6h ", T + dt.timedelta(hours=6)),
])
def test_intervals_count_from_the_last_run(schedule, expected):
    assert next_run(schedule, T) == expected


def test_monthly_clamps_to_the_end_of_a_short_month():
    assert next_run("monthly", dt.datetime(2026, 1, 31, 5)) == dt.datetime(2026, 2, 28, 5)
    assert next_run("monthly", dt.datetime(2026, 12, 15)) == dt.datetime(2027, 1, 15)


def test_manual_and_bad_schedules_never_run():
    assert next_run("manual", T) is None
    assert next_run("manual", None) is None
    assert next_run("now and then", T) is None
    assert next_run("99 * * * *", T) is None


def test_never_harvested_is_due_at_once():
    assert next_run("daily", None) == dt.datetime.min
    assert is_due("daily", None, T)
    assert not is_due("manual", None, T)


def test_cron_is_read_in_vietnam_time():
    # 02:30 in Hanoi is 19:30 UTC the day before
    assert next_run("30 2 * * *", T) == dt.datetime(2026, 3, 10, 19, 30)
    # strictly after the last run: a run at that very minute waits for the next day
    assert next_run("30 2 * * *", dt.datetime(2026, 3, 10, 19, 30)) == \
        dt.datetime(2026, 3, 11, 19, 30)


def test_cron_steps_ranges_lists_and_weekdays():
    assert next_run("*/15 * * * *", T) == dt.datetime(2026, 3, 10, 1, 30)
    assert next_run("0 9-17 * * *", T) == dt.datetime(2026, 3, 10, 2, 0)  # 09:00 Hanoi
    assert next_run("0 8,20 * * *", T) == dt.datetime(2026, 3, 10, 13, 0)  # 20:00 Hanoi
    # Sundays at 03:00 Hanoi (0 and 7 both mean Sunday): Sunday 15 March
    sunday = dt.datetime(2026, 3, 14, 20, 0)
    assert next_run("0 3 * * 0", T) == sunday
    assert next_run("0 3 * * 7", T) == sunday
    # day-of-month OR day-of-week when both are restricted (cron's rule)
    assert next_run("0 3 1 * 0", T) == sunday
    assert next_run("0 3 1 * *", T) == dt.datetime(2026, 3, 31, 20, 0)  # 1 April, Hanoi


def test_cron_that_never_fires_returns_none():
    assert next_run("0 0 31 2 *", T) is None
    assert next_run("0 0 29 2 *", T) == dt.datetime(2028, 2, 28, 17, 0)


def test_schedule_problem_catches_out_of_range_cron_values():
    assert schedule_problem("daily") is None
    assert schedule_problem("*/5 * * * 1-5") is None
    assert schedule_problem("99 * * * *") is not None
    assert schedule_problem("0 24 * * *") is not None
    assert schedule_problem("every 0h") is not None
    with pytest.raises(ValueError):
        parse_cron("* * *")


def test_is_due():
    assert is_due("hourly", T, T + dt.timedelta(hours=1))
    assert not is_due("hourly", T, T + dt.timedelta(minutes=59))
