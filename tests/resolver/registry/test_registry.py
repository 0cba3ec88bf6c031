"""Registry TOML: what parses, and every error with the line it is on."""

import datetime as dt
import doctest
import textwrap

import pytest

from resolver.registry import codes
from resolver.registry.models import Institution
from resolver.registry.schedule import schedule_problem
from resolver.registry.toml_file import RegistryError, parse_registry

GOOD = textwrap.dedent("""\
    [[institution]]
    code = "hue"
    name_vi = "Đại học Huế"
    name_en = "Hue University"
    status = "member"            # or "observer"
    since = 2004-10-01
    ip_ranges = ["203.0.113.0/24", "2001:db8:10::/48"]

    [[institution.repository]]
    code = "hue-dspace"
    oai_url = "https://repository.example.edu.vn/oai/request"
    metadata_prefix = "oai_dc"
    sets = []
    schedule = "daily"

    [[institution]]
    code = "binhdinh"
    name_vi = "Thư viện tỉnh Bình Định"
    status = "observer"
    since = "2023-05-01"
    contact = { name = "Nguyễn Văn A", email = "a@example.vn" }
    """)


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="reg.toml")
    return info.value.problems


def test_the_documented_layout_parses():
    hue, bd = parse_registry(GOOD)
    assert (hue.code, hue.name_vi, hue.status, hue.since) == (
        "hue", "Đại học Huế", "member", dt.date(2004, 10, 1))
    assert hue.ip_ranges == ["203.0.113.0/24", "2001:db8:10::/48"]
    (repo,) = hue.repositories
    assert (repo.code, repo.metadata_prefix, repo.schedule, repo.enabled) == (
        "hue-dspace", "oai_dc", "daily", True)
    assert bd.since == dt.date(2023, 5, 1)
    assert (bd.contact_name, bd.contact_email) == ("Nguyễn Văn A", "a@example.vn")


def test_syntax_error_reports_its_line():
    text = GOOD.replace('name_en = "Hue University"', 'name_en = "Hue University')
    [(line, msg)] = problems(text)
    assert line == 4
    assert "reg.toml:4:" in str(RegistryError("reg.toml", [(line, msg)]))


def test_value_errors_report_the_line_of_the_key():
    text = GOOD.replace('"203.0.113.0/24"', '"203.0.113.7/24"').replace(
        'schedule = "daily"', 'schedule = "sometimes"').replace(
        'status = "observer"', 'status = "observr"')
    got = sorted(problems(text), key=lambda p: p[0])
    assert [line for line, _ in got] == [7, 14, 19]
    assert "has host bits set" in got[0][1]
    assert "'sometimes'" in got[1][1]
    assert "'observr'" in got[2][1]


def test_every_problem_is_reported_at_once_with_lines():
    text = GOOD.replace('code = "binhdinh"', 'code = "hue"').replace(
        'oai_url = "https://repository.example.edu.vn/oai/request"', 'oai_url = "ftp://x"'
    ).replace('sets = []', 'sets = []\nharvest = true')
    got = problems(text)
    lines = sorted(line for line, _ in got)
    assert lines == [11, 14, 18]
    text_all = " ".join(msg for _, msg in got)
    assert "duplicate code" in text_all and "oai_url" in text_all and "'harvest'" in text_all


def test_overlapping_ranges_between_institutions_are_refused():
    text = GOOD + 'ip_ranges = ["203.0.113.128/25"]\n'
    [(line, msg)] = problems(text)
    assert line == 22
    assert "overlaps 203.0.113.0/24 of institution 'hue'" in msg


@pytest.mark.parametrize("bad", ["not-an-ip", "2001:db8::g/48", "300.1.1.0/24"])
def test_bad_cidr_is_an_error(bad):
    [(line, msg)] = problems(GOOD.replace('"2001:db8:10::/48"', f'"{bad}"'))
    assert line == 7 and repr(bad) in msg


def test_missing_required_fields():
    got = problems('[[institution]]\nstatus = "member"\n')
    msgs = " ".join(m for _, m in got)
    assert "'code'" in msgs and "'name_vi'" in msgs
    assert all(line == 1 for line, _ in got)


@pytest.mark.parametrize("ok", ["manual", "hourly", "daily", "weekly", "monthly", "every 6h",
                                "every 30m", "30 2 * * *", "0 */6 * * 1-5"])
def test_schedules_accepted(ok):
    assert schedule_problem(ok) is None


@pytest.mark.parametrize("bad", ["sometimes", "every 0h", "every 6x", "61 * * *", "* * * * * *"])
def test_schedules_refused(bad):
    assert schedule_problem(bad)


@pytest.mark.parametrize("unrunnable", [
    "99 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 1 13 *", "0 0 * * 8", "*/0 * * * *",
    "5-3 * * * *", "0 0 31 2 *", "every 367d", "every 99999999999d",
])
def test_import_refuses_schedules_the_scheduler_cannot_run_with_their_line(unrunnable):
    # the right shape, but the scheduler would never run the repository (or would crash on it)
    [(line, msg)] = problems(GOOD.replace('schedule = "daily"', f'schedule = "{unrunnable}"'))
    assert line == 14
    assert msg.startswith("institution 'hue': repository 'hue-dspace': ")


@pytest.mark.parametrize(("status", "since", "today", "eligible"), [
    ("observer", dt.date(2023, 5, 1), dt.date(2025, 4, 30), False),
    ("observer", dt.date(2023, 5, 1), dt.date(2025, 5, 1), True),
    ("observer", dt.date(2024, 2, 29), dt.date(2026, 2, 28), True),
    ("observer", None, dt.date(2030, 1, 1), False),
    ("member", dt.date(2004, 1, 1), dt.date(2030, 1, 1), False),
])
def test_observers_of_two_years_are_eligible(status, since, today, eligible):
    inst = Institution(code="x", name_vi="x", status=status, since=since)
    assert inst.eligible_for_membership(today) is eligible


def test_codes_doctests():
    assert doctest.testmod(codes).failed == 0
