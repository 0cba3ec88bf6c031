"""Coverage and embargo rules exactly as KBART defines them (fixed `today`)."""

from datetime import date

import pytest

from resolver.kb.coverage import (
    Coverage,
    EmbargoError,
    covers,
    covers_citation,
    parse_embargo,
    parse_kbart_date,
)
from resolver.openurl import parse_openurl

TODAY = date(2024, 6, 15)


def cov(first=None, last=None, embargo=None, **kw) -> Coverage:
    return Coverage.from_kbart(first, last, embargo=embargo, **kw)


@pytest.mark.parametrize("raw", ["P1Y", "R6M", "R10Y;P30D", "P30D", "p2y", " R1Y ; P6M "])
def test_parse_embargo_valid(raw):
    assert parse_embargo(raw) is not None


@pytest.mark.parametrize("raw", ["1Y", "P1", "X1Y", "P1Y2M", "P0Y", "P1Y;P2Y", "R1Y;P1Y;R2Y"])
def test_parse_embargo_invalid(raw):
    with pytest.raises(EmbargoError):
        parse_embargo(raw)


def test_empty_embargo_is_none():
    assert parse_embargo("") is None and parse_embargo(None) is None


def test_p1y_is_calendar_year_not_twelve_months():
    e = parse_embargo("P1Y")
    assert e.window(TODAY) == (None, date(2023, 12, 31))
    c = cov("2000", embargo="P1Y")
    # 20 months ago is fine, but anything in the current calendar year is not.
    assert covers(c, year=2023, month=12, day=31, today=TODAY).covered
    assert not covers(c, year=2024, month=1, day=1, today=TODAY).covered


def test_p2y_hides_current_and_previous_year():
    c = cov("2000", embargo="P2Y")
    assert covers(c, year=2022, month=12, day=31, today=TODAY).covered
    assert not covers(c, year=2023, month=1, day=1, today=TODAY).covered


def test_year_wall_moves_on_first_of_january():
    c = cov("2000", embargo="P1Y")
    dec31, jan1 = date(2023, 12, 31), date(2024, 1, 1)
    # On 31 Dec 2023, 2023 is the current year: still embargoed.
    assert not covers(c, year=2023, month=6, day=1, today=dec31).covered
    assert covers(c, year=2023, month=6, day=1, today=jan1).covered


def test_month_wall_moves_on_first_of_month():
    c = cov("2000", embargo="P6M")
    # On 15 June 2024 the 6 most recent months are Jan-Jun 2024.
    assert covers(c, year=2023, month=12, day=31, today=TODAY).covered
    assert not covers(c, year=2024, month=1, day=1, today=TODAY).covered
    # On 1 July the wall moves: January becomes available.
    assert covers(c, year=2024, month=1, day=1, today=date(2024, 7, 1)).covered
    assert not covers(c, year=2024, month=1, day=1, today=date(2024, 6, 30)).covered


def test_day_embargo_is_rolling():
    c = cov("2000", embargo="P30D")
    assert covers(c, year=2024, month=5, day=16, today=TODAY).covered
    assert not covers(c, year=2024, month=5, day=17, today=TODAY).covered


def test_r_embargo_starts_at_wall():
    c = cov("1990", embargo="R2Y")  # current + previous calendar year
    assert covers(c, year=2023, month=1, day=1, today=TODAY).covered
    assert not covers(c, year=2022, month=12, day=31, today=TODAY).covered
    r6 = cov("1990", embargo="R6M")
    assert covers(r6, year=2024, month=1, day=1, today=TODAY).covered
    assert not covers(r6, year=2023, month=12, day=31, today=TODAY).covered


def test_r_and_p_combined():
    c = cov("1990", embargo="R10Y;P30D")
    assert parse_embargo("R10Y;P30D").window(TODAY) == (date(2015, 1, 1), date(2024, 5, 16))
    assert covers(c, year=2015, month=1, day=1, today=TODAY).covered
    assert not covers(c, year=2014, month=12, day=31, today=TODAY).covered
    assert covers(c, year=2024, month=5, day=16, today=TODAY).covered
    d = covers(c, year=2024, month=6, day=1, today=TODAY)
    assert not d.covered and "embargo" in d.reason_en


def test_first_and_last_day_inclusive():
    c = cov("1995-03-01", "2000-06-30")
    assert covers(c, year=1995, month=3, day=1, today=TODAY).covered
    assert not covers(c, year=1995, month=2, day=28, today=TODAY).covered
    assert covers(c, year=2000, month=6, day=30, today=TODAY).covered
    assert not covers(c, year=2000, month=7, day=1, today=TODAY).covered


def test_year_only_bounds_cover_whole_years():
    c = cov("1995", "2000")
    assert covers(c, year=1995, month=1, day=1, today=TODAY).covered
    assert covers(c, year=2000, month=12, day=31, today=TODAY).covered
    assert not covers(c, year=2001, month=1, day=1, today=TODAY).covered
    assert parse_kbart_date("2013-10", end=True) == date(2013, 10, 31)
    assert parse_kbart_date("2008-05-19 00:00:00", end=False) == date(2008, 5, 19)


def test_open_ended_range_to_present():
    c = cov("1995")
    d = covers(c, year=2024, month=6, day=15, today=TODAY)
    assert d.covered and d.reason_vi == "Gói bao phủ 1995–nay"
    assert d.reason_en == "covers 1995–present"


def test_year_only_citation_partially_covered_says_so():
    c = cov("1995-06-01")
    d = covers(c, year=1995, today=TODAY)
    assert d.covered and d.partial
    assert "check the issue" in d.reason_en and "kiểm tra" in d.reason_vi
    assert not covers(c, year=1994, today=TODAY).covered
    full = covers(c, year=1996, today=TODAY)
    assert full.covered and not full.partial


def test_year_only_citation_against_month_embargo():
    c = cov("2000", embargo="P6M")
    d = covers(c, year=2024, today=TODAY)  # Jan-Jun hidden, but 2024 has more months
    assert not d.covered  # every month of 2024 up to today is embargoed... start > end wall
    d = covers(c, year=2023, today=TODAY)
    assert d.covered and not d.partial


def test_month_precision_citation():
    c = cov("1995-03-15")
    d = covers(c, year=1995, month=3, today=TODAY)
    assert d.covered and d.partial
    assert not covers(c, year=1995, month=2, today=TODAY).covered


def test_volume_only_comparison_without_date():
    c = cov("1990", "2000", first_volume="10", last_volume="20")
    assert covers(c, volume="10", today=TODAY).covered
    assert covers(c, volume="20", today=TODAY).covered
    assert not covers(c, volume="9", today=TODAY).covered
    d = covers(c, volume="21", today=TODAY)
    assert not d.covered and "volume" in d.reason_en and "tập" in d.reason_vi
    assert covers(c, volume="Suppl", today=TODAY).partial  # not comparable: no verdict


def test_volume_and_issue_at_boundary():
    c = cov(None, None, first_volume="10", first_issue="3", last_volume="12", last_issue="2")
    assert not covers(c, volume="10", issue="2", today=TODAY).covered
    assert covers(c, volume="10", issue="3", today=TODAY).covered
    assert covers(c, volume="12", issue="2", today=TODAY).covered
    assert not covers(c, volume="12", issue="3", today=TODAY).covered
    assert covers(c, volume="11", issue="99", today=TODAY).covered


def test_volume_settles_boundary_year():
    c = cov("1995", first_volume="10", first_issue="3")
    assert not covers(c, year=1995, volume="10", issue="1", today=TODAY).covered
    d = covers(c, year=1995, volume="10", issue="4", today=TODAY)
    assert d.covered
    # Outside the boundary year the date rules; the volume is not second-guessed.
    assert covers(c, year=1999, volume="1", today=TODAY).covered


def test_no_date_no_volume_is_partial():
    d = covers(cov("1995"), today=TODAY)
    assert d.covered and d.partial


def test_not_fulltext_is_not_covered():
    d = covers(cov("1995", depth="abstracts"), year=2000, today=TODAY)
    assert not d.covered and "abstracts" in d.reason_en


def test_several_rows_any_match():
    rows = [cov("1990", "1995"), cov("2000")]
    assert covers(rows, year=1993, today=TODAY).covered
    assert covers(rows, year=2001, today=TODAY).covered
    assert not covers(rows, year=1997, today=TODAY).covered
    assert not covers([], year=1997, today=TODAY).covered


def test_reasons_in_both_languages_with_embargo():
    d = covers(cov("1995", embargo="P1Y"), year=2024, month=3, today=TODAY)
    assert d.reason_vi.startswith("Gói bao phủ 1995–nay, embargo 1 năm")
    assert d.reason_en.startswith("covers 1995–present, embargo 1 year")
    d = covers(cov("1995", embargo="R2Y"), year=2020, today=TODAY)
    assert "chỉ 2 năm gần nhất" in d.reason_vi and "most recent 2 years" in d.reason_en


def test_covers_citation_uses_parsed_openurl():
    c = parse_openurl("title=J&date=Spring 2024&volume=5")
    assert not covers_citation(cov("2000", embargo="P1Y"), c, TODAY).covered
    c = parse_openurl("title=J&date=2023-12")
    assert covers_citation(cov("2000", embargo="P1Y"), c, TODAY).covered


def test_bad_kbart_dates_raise():
    for raw in ("2019-13", "2019-02-30", "sometime", "99"):
        with pytest.raises(ValueError):
            parse_kbart_date(raw, end=False)
