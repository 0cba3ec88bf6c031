"""Cost per download, yearly and month by month, against hand-computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from resolver import db
from resolver.usage.costs import cost_per_download_monthly, cost_per_download_yearly, set_cost
from resolver.usage.counter import CounterReport, UsageRow
from resolver.usage.counter_import import import_counter

D = dt.date
M = Decimal


def report(rows: list[tuple[str, dt.date, int]]) -> CounterReport:
    months = sorted({m for _t, m, _n in rows})
    return CounterReport("TR_J1", "5", begin=months[0], end=months[-1], rows=[
        UsageRow(title=t, metric="Total_Item_Requests", month=m, count=n) for t, m, n in rows])


@pytest.fixture
def costed(sessions):  # type: ignore[no-untyped-def]
    """sd 2024: hue 100·m and ctu 50·m downloads in month m (11,700 in the year), cost
    USD 23,400 consortium-wide; sd 2023: 500 + 500 in Nov and Dec, USD 20,000.
    springer 2024: hue 200 a month and its own cost VND 120,000,000; ctu 10 a month, no cost.
    """
    with db.transaction(sessions) as s:
        for inst, per in (("hue", 100), ("ctu", 50)):
            rows = [("J", D(2024, m, 1), per * m) for m in range(1, 13)]
            rows += [("J", D(2023, 11, 1), 500), ("J", D(2023, 12, 1), 500)]
            import_counter(s, report(rows), institution=inst, package="sd")
        import_counter(s, report([("K", D(2024, m, 1), 200) for m in range(1, 13)]),
                       institution="hue", package="springer")
        import_counter(s, report([("K", D(2024, m, 1), 10) for m in range(1, 13)]),
                       institution="ctu", package="springer")
        set_cost(s, "sd", 2024, "20000")
        set_cost(s, "sd", 2024, "23400.00")  # replaces, not adds
        set_cost(s, "sd", 2023, 20000)
        set_cost(s, "springer", 2024, "120000000", institution="hue", currency="VND")
    return sessions


def test_yearly_per_package_with_year_over_year(costed):
    with costed() as s:
        rows = cost_per_download_yearly(s, years=[2023, 2024])
    got = {(r.year, r.package, r.currency): (r.cost, r.downloads, r.cost_per_download,
                                             r.change) for r in rows}
    assert got == {
        (2023, "sd", "USD"): (M("20000.00"), 2000, M("10.0000"), None),
        (2024, "sd", "USD"): (M("23400.00"), 11700, M("2.0000"), M("-0.8000")),
        # a member's own cost counts in the package's total too
        (2024, "springer", "VND"): (M("120000000.00"), 2520, M("47619.0476"), None),
    }


def test_yearly_per_member(costed):
    with costed() as s:
        rows = cost_per_download_yearly(s, years=[2024], by="institution")
    assert [(r.package, r.institution, r.downloads, r.cost_per_download) for r in rows] == [
        ("springer", "hue", 2400, M("50000.0000"))]


def test_per_member_restricted_in_the_query_gives_the_same_figures(costed):
    """An institution administrator's cost report is the query restricted to the member:
    the same rows as the whole report's rows of that member, and none of another's."""
    with costed() as s:
        set_cost(s, "sd", 2024, 900, institution="ctu")
        for run in (lambda **kw: cost_per_download_yearly(s, years=[2024], **kw),
                    lambda **kw: cost_per_download_monthly(s, years=[2024],
                                                           until=D(2024, 12, 1), **kw)):
            every = run(by="institution")
            assert {r.institution for r in every} == {"hue", "ctu"}
            for member in ("hue", "ctu"):
                assert run(by="institution", institutions=[member]) == [
                    r for r in every if r.institution == member]
        with pytest.raises(ValueError, match="cannot be restricted"):
            cost_per_download_yearly(s, years=[2024], institutions=["hue"])


def test_monthly_running(costed):
    with costed() as s:
        rows = cost_per_download_monthly(s, years=[2024], packages=["sd"],
                                         until=D(2024, 12, 1))
    assert len(rows) == 12
    by_month = {r.month.month: r for r in rows}
    # cost to date 1950·m; downloads to date 75·m·(m+1): running = 26 / (m+1)
    jan, feb, mar, dec = by_month[1], by_month[2], by_month[3], by_month[12]
    assert (jan.downloads, jan.downloads_to_date, jan.cost_to_date) == (150, 150, M("1950.00"))
    assert jan.cost_per_download_to_date == M("13.0000")
    assert feb.cost_per_download_to_date == M("8.6667")
    assert mar.cost_per_download_in_month == M("4.3333")  # 1950 / 450
    assert (dec.downloads_to_date, dec.cost_to_date) == (11700, M("23400.00"))
    assert dec.cost_per_download_to_date == M("2.0000")  # equals the yearly figure


def test_monthly_stops_at_until(costed):
    with costed() as s:
        rows = cost_per_download_monthly(s, years=[2023, 2024], packages=["sd"],
                                         until=D(2024, 2, 1))
    assert [r.month for r in rows][-2:] == [D(2024, 1, 1), D(2024, 2, 1)]
    nov = next(r for r in rows if r.month == D(2023, 11, 1))
    # 2023: 20,000 · 11/12 = 18,333.33 over 1,000 downloads to date (Jan–Oct had none)
    assert (nov.cost_to_date, nov.cost_per_download_to_date) == (M("18333.33"), M("18.3333"))
    assert next(r for r in rows if r.month == D(2023, 1, 1)).cost_per_download_to_date is None


def test_consortium_2020_figure(sessions):
    """The yearly report's 2020 figure: 385,137 articles in January–August at USD 0.20."""
    rows = [("J", D(2020, m, 1), 48142) for m in range(1, 9)]
    rows[0] = ("J", D(2020, 1, 1), 48143)
    with db.transaction(sessions) as s:
        import_counter(s, report(rows), institution="nasati", package="sd")
        set_cost(s, "sd", 2020, "115541.10")  # 0.20 × 385,137 × 12 / 8
    with sessions() as s:
        aug = cost_per_download_monthly(s, years=[2020], until=D(2020, 8, 1))[-1]
    assert (aug.month, aug.downloads_to_date) == (D(2020, 8, 1), 385137)
    assert aug.cost_per_download_to_date == M("0.2000")


def test_costs_from_clicks(seeded):
    with db.transaction(seeded) as s:
        set_cost(s, "sd", 2024, "2160")
    with seeded() as s:
        rows = cost_per_download_yearly(s, years=[2024], source="clicks")
    # sd full-text clicks in 2024: months k = 2..13 of 3 + 2k -> 12·3 + 2·90 = 216
    (row,) = rows
    assert row.downloads == sum(3 + 2 * k for k in range(2, 14)) == 216
    assert row.cost_per_download == M("10.0000")


def test_bad_costs_are_refused(sessions):
    with sessions() as s:
        with pytest.raises(ValueError):
            set_cost(s, "sd", 2024, "-1")
        with pytest.raises(ValueError):
            set_cost(s, "sd", 2024, "1", currency="EUR")
