"""The schedule grammar (pure): what the registry accepts is exactly what the scheduler runs,
and ``next_run`` says when a repository's schedule asks for its next harvest."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest

from resolver.registry import schedule as schedule_module
from resolver.registry.schedule import is_due, next_run, parse_cron, schedule_problem
from resolver.registry.toml_file import RegistryError, parse_registry

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


#: Every shape the grammar knows, each of which the scheduler runs.
RUNNABLE = ["hourly", "daily", "weekly", "monthly", "every 1m", "every 6h", "every 2d",
            "every 366d", "every 8784h", "30 2 * * *", "*/15 * * * *", "0 9-17 * * 1-5",
            "5/20 * * * *", "0 3 * * 0", "0 3 * * 7", "0 0 29 2 *", "0 0 31 1-12 *",
            "0 0 31 2 1", "59 23 31 12 *"]
#: Of the right shape, but the scheduler could never run them: out of range values, steps of
#: nothing, backwards ranges, a day no month has, intervals of nothing or beyond a year (the
#: datetime arithmetic overflows long before 99999999999 days).
UNRUNNABLE = ["99 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 1 13 *", "0 0 * * 8",
              "*/0 * * * *", "1-5/0 * * * *", "5-3 * * * *", "0 0 31 2 *", "0 0 30,31 2 *",
              "0 0 31 4,6,9,11 *", "every 0h", "every 367d", "every 99999999999d"]
#: Not a schedule at all.
SHAPELESS = ["sometimes", "every 6x", "every h", "61 * * *", "* * * * * *", "1,,2 * * * *",
             ", * * * *", "- * * * *", "*/ * * * *", ""]


def registry_with(schedule: str) -> str:
    return ('[[institution]]\ncode = "hue"\nname_vi = "Huế"\n\n[[institution.repository]]\n'
            f'code = "hue-dspace"\noai_url = "https://repo.example.vn/oai"\n'
            f'schedule = "{schedule}"\n')


def accepted_by_the_registry(schedule: str) -> bool:
    try:
        parse_registry(registry_with(schedule))
    except RegistryError:
        return False
    return True


@pytest.mark.parametrize("schedule", RUNNABLE + UNRUNNABLE + SHAPELESS)
def test_the_registry_accepts_exactly_what_the_scheduler_runs(schedule):
    assert accepted_by_the_registry(schedule) == (next_run(schedule, T) is not None)
    assert (schedule_problem(schedule) is None) == (schedule in RUNNABLE)


def test_manual_is_accepted_and_never_runs():
    assert accepted_by_the_registry("manual") and schedule_problem("manual") is None
    assert next_run("manual", T) is None


@pytest.mark.parametrize("schedule", UNRUNNABLE + SHAPELESS)
def test_the_scheduler_never_raises_on_a_bad_schedule(schedule):
    assert next_run(schedule, T) is None
    assert next_run(schedule, None) is None
    assert not is_due(schedule, None, T)


def test_problems_say_what_is_wrong():
    assert "outside 0-59" in schedule_problem("99 * * * *")
    assert "never" in schedule_problem("0 0 31 2 *")
    assert "366" in schedule_problem("every 400d")
    assert "'sometimes'" in schedule_problem("sometimes")


def test_doctests():
    assert doctest.testmod(schedule_module).failed == 0
