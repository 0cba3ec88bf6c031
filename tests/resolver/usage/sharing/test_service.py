"""Cost sharing against the database (SQLite and PostgreSQL): inputs, comparison, adoption,
rates and sizes. The consortium is described in conftest.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AdminUser, AuditEntry
from resolver.registry.models import Institution
from resolver.usage.costs import set_cost
from resolver.usage.sharing import (
    MEASURE_UNIQUE,
    MISSING_EQUAL,
    Allocation,
    PolicyError,
    adopt,
    adopted,
    compare,
    gather,
    member_scope,
    preset,
    rate,
    set_rate,
    set_size,
    share,
    shared_packages,
    sizes,
)

D = Decimal


def test_gather_members_months_use_and_total(consortium):
    with consortium() as s:
        got = gather(s, "sd", 2025, preset("use"))
    assert (got.currency, got.total, got.cost, got.cost_currency) == (
        "USD", 1_000_000, D("10000.00"), "USD")
    assert [(m.code, m.months, m.use) for m in got.members] == [
        ("a", 12, 1200), ("b", 12, 3600), ("c", 6, None), ("d", 3, 600)]
    assert (got.use_start.isoformat(), got.use_end.isoformat()) == ("2024-01-01", "2024-12-01")
    assert got.last is None


def test_unique_item_requests(consortium):
    with consortium() as s:
        got = gather(s, "sd", 2025, preset("use", measure=MEASURE_UNIQUE))
    assert [m.use for m in got.members] == [600, 1800, None, 300]


def test_share_by_use_hand_computed(consortium):
    # use × months/12: a 1200, b 3600, c median(600,1200,3600)=1200 × 6/12 = 600,
    # d 600 × 3/12 = 150; sum 5550. USD 10,000 = 1,000,000 cents:
    # a 216,216.22 b 648,648.65 c 108,108.11 d 27,027.03 -> whole cents sum to 999,999; the
    # cent left goes to the largest remainder (.22 .65 .11 .03): b
    with consortium() as s:
        got = share(s, "sd", 2025, preset("use"))
    assert {x.code: x.amount for x in got.shares} == {
        "a": 216_216, "b": 648_649, "c": 108_108, "d": 27_027}
    assert got.for_member("c").use_imputed == "median"


def test_compare_three_policies_and_an_error_column(consortium):
    policies = [preset("equal"), preset("hybrid", sponsor_fraction=D("0.5")),
                preset("equal", floor=D("5000"))]  # floors 4 × up to 5,000 > 10,000
    with consortium() as s:
        got = compare(s, "sd", 2025, policies)
    assert [r.code for r in got.rows] == ["a", "b", "c", "d"]
    assert got.allocations[2] is None and isinstance(got.errors[2], PolicyError)
    assert got.errors[:2] == (None, None)
    # equal, pro rata: factors 1, 1, .5, .25 of 2.75 -> a and b 363,636.36, c 181,818.18,
    # d 90,909.09: 999,999 in whole cents; the cent left goes to the largest remainder, a tie
    # of a and b (same raw share) broken by code: a
    assert [r.cells[0].amount for r in got.rows] == [363_637, 363_636, 181_818, 90_909]
    assert got.allocations[1].sponsor == 500_000
    assert sum(r.cells[1].amount for r in got.rows) == 500_000
    assert got.rows[0].cells[2] is None
    mine = got.only("b")
    assert [r.code for r in mine.rows] == ["b"] and mine.institution == "b"
    assert [x.code for x in mine.allocations[0].shares] == ["b"]  # nobody else's amount
    assert mine.allocations[0].members_total == 1_000_000
    with consortium() as s, pytest.raises(ValueError):
        compare(s, "sd", 2025, policies + policies[:1])  # at most three


def test_compare_for_one_institution(consortium):
    with consortium() as s:
        for_c = compare(s, "sd", 2025, [preset("use")], institution="c")
        for_a = compare(s, "sd", 2025, [preset("use")], institution="a")
        equal_c = compare(s, "sd", 2025, [preset("equal")], institution="c")
    assert [r.code for r in for_c.rows] == ["c"]
    assert [n.member for n in for_c.allocations[0].notes] == ["c"]  # its own imputation
    assert for_a.allocations[0].notes == ()  # c's note is not a's business
    assert equal_c.rows[0].cells[0].amount == 181_818  # .5 of 2.75


def test_adopt_stores_the_allocation_and_audits(consortium):
    with db.transaction(consortium) as s:
        done = adopt(s, "sd", 2025, preset("use", missing=MISSING_EQUAL), None,
                     username="(command line)")
    with consortium() as s:
        again = adopted(s, "sd", 2025)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "usage.share.adopt")).one()
    assert again == done and again.adopted_by == "(command line)"
    assert isinstance(again.allocation, Allocation)
    assert sum(x.amount for x in again.allocation.shares) == 1_000_000
    assert audit.object == "cost-share:sd/2025" and audit.username == "(command line)"
    assert audit.details["members"]["b"] == again.allocation.for_member("b").amount


def test_last_years_adoption_gives_the_change(consortium):
    with db.transaction(consortium) as s:
        set_size(s, "a", 2024, students=1000)
        set_cost(s, "sd", 2024, D("8000.00"))
        adopt(s, "sd", 2024, preset("equal"), None, username="x")
    with consortium() as s:
        last = adopted(s, "sd", 2024)
        got = share(s, "sd", 2025, preset("equal"))
    # 2024: a, b, d, e all year (c not yet): 200,000 cents each
    assert {x.code: x.amount for x in last.allocation.shares} == {
        "a": 200_000, "b": 200_000, "d": 200_000, "e": 200_000}
    a = got.for_member("a")
    # a pays 363,637 in 2025 (see test_compare_three_policies…): +163,637, +81.82 %
    assert (a.last_amount, a.change, a.change_pct) == (200_000, 163_637, D("0.8182"))
    assert got.for_member("c").last_amount is None


def test_allocation_in_vnd_converts_the_cost_and_last_year(consortium):
    with db.transaction(consortium) as s:
        set_rate(s, 2025, "25400")
        set_rate(s, 2024, "24500")
        set_cost(s, "sd", 2024, D("8000.00"))
        adopt(s, "sd", 2024, preset("equal"), None, username="x")
    with consortium() as s:
        got = share(s, "sd", 2025, preset("equal"), currency="VND")
        assert rate(s, 2025) == D("25400")
    assert got.currency == "VND" and got.total == 254_000_000  # USD 10,000 × 25,400
    assert sum(x.amount for x in got.shares) == 254_000_000
    assert got.for_member("a").last_amount == 49_000_000  # USD 2,000 × 24,500 (2024's rate)


def test_no_rate_no_conversion(consortium):
    with consortium() as s, pytest.raises(PolicyError) as err:
        share(s, "sd", 2025, preset("equal"), currency="VND")
    assert "exchange rate" in err.value.message()


def test_missing_cost_and_unknown_package(consortium):
    with consortium() as s:
        with pytest.raises(PolicyError):
            share(s, "sd", 2026, preset("equal"))
        with pytest.raises(PolicyError):
            share(s, "nope", 2025, preset("equal"))
        # a total given instead of the recorded cost
        got = share(s, "sd", 2026, preset("equal"), total=1000)
    assert [x.code for x in got.shares] == ["a", "b", "c"]  # d's entitlement ended in 2025


def test_sizes_latest_reported(consortium):
    with db.transaction(consortium) as s:
        set_size(s, "a", 2023, students=1000, fte=10)
        set_size(s, "a", 2024, students=6000)
        set_size(s, "b", 2026, students=50000)  # reported after the year asked: not used
        with pytest.raises(PolicyError):
            set_size(s, "zz", 2024, students=1)
    with consortium() as s:
        got = sizes(s, 2025, "students")
        fte = sizes(s, 2025, "fte")
        by_size = share(s, "sd", 2025, preset("size"))
    assert {k: (v.value, v.year) for k, v in got.items()} == {"a": (6000, 2024)}
    assert {k: (v.value, v.year) for k, v in fte.items()} == {"a": (10, 2023)}
    a = by_size.for_member("a")
    assert (a.size_actual, a.size_year, a.points) == (6000, 2024, D("2.00"))
    assert by_size.for_member("b").size_imputed == "median"


def test_rates(consortium):
    with db.transaction(consortium) as s:
        assert set_rate(s, 2025, "25,400.50") == D("25400.50")
        set_rate(s, 2025, 25500)  # replaces
        for bad in ("0", "-1", "abc", "1.00001"):
            with pytest.raises(PolicyError):
                set_rate(s, 2025, bad)
    with consortium() as s:
        assert rate(s, 2025) == D("25500") and rate(s, 2024) is None


def test_scope_and_packages(consortium):
    with consortium() as s:
        inst = s.scalar(select(Institution.id).where(Institution.code == "c"))
        user = AdminUser(username="c-admin", password_hash="x", role="institution",
                         institution_id=inst)
        assert member_scope(s, user) == "c"
        boss = AdminUser(username="boss", password_hash="x", role="consortium")
        assert member_scope(s, boss) is None
        # The role decides, as on every admin page: a consortium administrator who also
        # belongs to an institution sees every line ...
        boss_at_c = AdminUser(username="boss2", password_hash="x", role="consortium",
                              institution_id=inst)
        assert member_scope(s, boss_at_c) is None
        # ... and an institution administrator without an institution sees no member's line.
        orphan = AdminUser(username="orphan", password_hash="x", role="institution")
        assert member_scope(s, orphan) == ""
        assert member_scope(s, None) is None
        assert shared_packages(s, 2025) == [("sd", "ScienceDirect")]
