"""Annualising against the database (SQLite and PostgreSQL): the months of the use period
come from the same entitlements as the year's, and an adopted policy keeps its option.

The consortium of conftest.py, plus ``f``: entitled from 1 July 2024 (six months of 2024,
all of 2025), 100 Total_Item_Requests a month July–December 2024 (600).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from resolver import db
from resolver.kb.models import Entitlement, Package
from resolver.registry.models import Institution
from resolver.usage.counter import CounterReport, UsageRow
from resolver.usage.counter_import import import_counter
from resolver.usage.models import CostShare
from resolver.usage.sharing import (
    PERIOD_ROLLING_12,
    adopt,
    adopted,
    describe,
    gather,
    preset,
    share,
)

D = Decimal


@pytest.fixture
def joined(consortium):  # type: ignore[no-untyped-def]
    with db.transaction(consortium) as s:
        inst = Institution(code="f", name_vi="Trường F", status="member")
        s.add(inst)
        s.flush()
        pkg = s.scalar(select(Package).where(Package.code == "sd"))
        s.add(Entitlement(package_id=pkg.id, institution_id=inst.id,
                          start=dt.date(2024, 7, 1), end=None))
        rows = [UsageRow("J", "Total_Item_Requests", dt.date(2024, m, 1), 100)
                for m in range(7, 13)]
        import_counter(s, CounterReport("TR_J1", "5", begin=dt.date(2024, 7, 1),
                                        end=dt.date(2024, 12, 1), rows=rows),
                       institution="f", package="sd")
    return consortium


def test_gather_gives_the_months_of_the_use_period(joined):
    with joined() as s:
        year = gather(s, "sd", 2025, preset("use"))
        rolling = gather(s, "sd", 2025, preset("use", period=PERIOD_ROLLING_12,
                                              period_end="2025-03"))
    # c joins in July 2025 (none of 2024); d's entitlement ends 31 March 2025
    assert [(m.code, m.months, m.use, m.use_months) for m in year.members] == [
        ("a", 12, 1200, 12), ("b", 12, 3600, 12), ("c", 6, None, 0), ("d", 3, 600, 12),
        ("f", 12, 600, 6)]
    # April 2024 to March 2025: f from July (9 months)
    assert [m.use_months for m in rolling.members] == [12, 12, 0, 12, 9]


def test_share_by_use_annualises_hand_computed(joined):
    # f: 600 × 12 / 6 = 1,200. Figures a 1,200, b 3,600, d 600, f 1,200; c none -> the
    # median 1,200. Bases (× months / 12): a 1,200, b 3,600, c 600, d 150, f 1,200 = 6,750.
    # USD 10,000 = 1,000,000 cents: a and f 177,777.78, b 533,333.33, c 88,888.89,
    # d 22,222.22 -> whole cents 999,997; the three left go to the largest remainders: c
    # (.89), then a and f (.78, same raw share: by code)
    with joined() as s:
        got = share(s, "sd", 2025, preset("use"))
    assert {x.code: x.amount for x in got.shares} == {
        "a": 177_778, "b": 533_333, "c": 88_889, "d": 22_222, "f": 177_778}
    f = got.for_member("f")
    assert (f.use, f.use_actual, f.use_months, f.use_annualised) == (D(1200), 600, 6, True)
    assert [(n.code, n.member) for n in got.notes] == [
        ("use_annualised", "f"), ("use_imputed", "c")]


def test_share_by_use_without_annualising_hand_computed(joined):
    # f's raw 600: the median of 1,200, 3,600, 600, 600 is 900 -> c 450 (× 6/12); bases
    # 1,200 + 3,600 + 450 + 150 + 600 = 6,000: f pays 10 % instead of 17.8 %
    with joined() as s:
        got = share(s, "sd", 2025, preset("use", annualise=False))
    assert {x.code: x.amount for x in got.shares} == {
        "a": 200_000, "b": 600_000, "c": 75_000, "d": 25_000, "f": 100_000}


def test_an_adopted_policy_keeps_its_option(joined):
    with db.transaction(joined) as s:
        adopt(s, "sd", 2025, preset("use", annualise=False), None, username="x")
    with joined() as s:
        found = adopted(s, "sd", 2025)
    assert found is not None and found.policy.annualise is False
    assert found.allocation.for_member("f").amount == 100_000


def test_a_policy_adopted_before_the_option_reads_back_the_same(joined):
    # an adoption stored by the previous version: no "annualise" in its policy, no
    # use_months in its shares; it was computed on raw use, and reads back so
    with db.transaction(joined) as s:
        adopt(s, "sd", 2025, preset("use", annualise=False), None, username="x")
    with db.transaction(joined) as s:
        row = s.scalars(select(CostShare)).one()
        policy = dict(row.policy)
        del policy["annualise"]
        allocation = dict(row.allocation)
        allocation["policy"] = policy
        allocation["shares"] = [{k: v for k, v in share.items()
                                 if k not in ("use_months", "use_annualised")}
                                for share in allocation["shares"]]
        row.policy, row.allocation = policy, allocation
    with joined() as s:
        found = adopted(s, "sd", 2025)
    assert found is not None and found.policy.annualise is False
    assert found.policy == preset("use", annualise=False)
    assert {x.code: x.amount for x in found.allocation.shares}["f"] == 100_000
    assert found.allocation.for_member("f").use_months is None
    assert any("as it is, whatever its months" in t
               for t in describe(found.policy, year=2025))
