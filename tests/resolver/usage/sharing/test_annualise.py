"""Annualising the use of a member entitled only part of the use period (pure core): the
rule on hand-computed examples, its minimum, the option's default and storage, the rule in
words in both languages, and the months of a use period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from resolver.usage.sharing import (
    MIN_ANNUALISE_MONTHS,
    Allocation,
    Member,
    Policy,
    PolicyError,
    allocate,
    describe,
    months_entitled,
    months_entitled_between,
    preset,
    use_figure,
)

D = Decimal


def amounts(policy: Policy, members: list[Member], total: int) -> dict[str, int]:
    return {s.code: s.amount for s in allocate(policy, members, total, "USD").shares}


# a all year (1,200 downloads); b joined in July of the use period (300 downloads in six
# months); both entitled all of the allocation's year
JOINED = [Member("a", use=1200, use_months=12), Member("b", use=300, use_months=6)]


def test_by_use_annualises_a_member_that_joined_mid_period():
    # b: 300 × 12 / 6 = 600 a year; 1,200 : 600 of USD 1,000.00 = 100,000 cents ->
    # 66,666.67 and 33,333.33 -> whole cents 99,999; the cent left goes to a (.67)
    got = allocate(preset("use"), JOINED, 100_000, "USD")
    assert {s.code: s.amount for s in got.shares} == {"a": 66_667, "b": 33_333}
    b = got.for_member("b")
    assert (b.use, b.use_actual, b.use_months, b.use_annualised) == (D(600), 300, 6, True)
    assert got.for_member("a").use_annualised is False
    # cost per download on the year's use: USD 333.33 / 600 = 0.55555 -> 0.5556
    assert b.cost_per_download == D("0.5556")
    assert [(n.code, n.member) for n in got.notes] == [("use_annualised", "b")]
    assert got.notes[0].text() == ("b was entitled 6 months of the use period: its use (300) "
                                   "is counted as 600 for twelve months.")


def test_without_annualising_the_raw_use_counts():
    # 1,200 : 300 -> 80 % and 20 % (b pays about half what its use warrants)
    got = allocate(preset("use", annualise=False), JOINED, 100_000, "USD")
    assert {s.code: s.amount for s in got.shares} == {"a": 80_000, "b": 20_000}
    assert got.for_member("b").use == D(300) and got.notes == ()
    assert got.for_member("b").cost_per_download == D("0.6667")  # 200.00 / 300


def test_hybrid_annualises_its_use_part_only():
    # equal part 40 % of 100,000 = 40,000 -> 20,000 each; use part 60,000 in 1,200 : 600
    # -> 40,000 and 20,000: a 60,000, b 40,000 (raw use: 48,000/12,000 -> 68,000/32,000)
    assert amounts(preset("hybrid"), JOINED, 100_000) == {"a": 60_000, "b": 40_000}
    assert amounts(preset("hybrid", annualise=False), JOINED, 100_000) == {
        "a": 68_000, "b": 32_000}


def test_annualised_use_is_pro_rata_by_this_years_months_too():
    # b entitled 6 months this year as well: 600 a year × 6/12 = 300; 1,200 : 300 -> 80/20
    members = [JOINED[0], Member("b", months=6, use=300, use_months=6)]
    assert amounts(preset("use"), members, 100_000) == {"a": 80_000, "b": 20_000}


def test_under_the_minimum_the_use_counts_as_missing():
    assert MIN_ANNUALISE_MONTHS == 3
    # b entitled 2 months: its 100 downloads say little about a year -> missing, the
    # median of a's 1,200 and c's 600 = 900; bases 1,200, 900, 600 of 2,700:
    # 44,444.44, 33,333.33, 22,222.22 -> 99,999; the cent left goes to a (.44)
    members = [Member("a", use=1200, use_months=12), Member("b", use=100, use_months=2),
               Member("c", use=600, use_months=12)]
    got = allocate(preset("use"), members, 100_000, "USD")
    assert {s.code: s.amount for s in got.shares} == {"a": 44_445, "b": 33_333, "c": 22_222}
    b = got.for_member("b")
    assert (b.use, b.use_actual, b.use_imputed, b.use_annualised) == (
        D(900), 100, "median", False)
    assert b.cost_per_download is None  # no figure of its own for a year
    assert [n.code for n in got.notes] == ["use_too_few_months", "use_imputed"]
    assert got.notes[0].text() == ("b was entitled only 2 months of the use period (fewer "
                                   "than 3): its use (100) counts as missing.")
    # three months are enough: 100 × 12 / 3 = 400; 1,200 : 400 : 600 of 2,200
    three = [*members[:1], Member("b", use=100, use_months=3), members[2]]
    assert allocate(preset("use"), three, 100_000, "USD").for_member("b").use == D(400)


@pytest.mark.parametrize(("months", "figure"), [
    (None, 300), (0, 300), (12, 300), (11, Decimal(300 * 12) / 11), (3, 1200), (2, None),
    (1, None)])
def test_use_figure(months, figure):
    # unknown (None) and none recorded (0: nothing says how long it had access) count as
    # they are, like a whole period; 1 or 2 months are missing
    got, annualised = use_figure(preset("use"), Member("m", use=300, use_months=months))
    assert (None if got is None else D(got.numerator) / got.denominator) == figure
    assert annualised == (months is not None and 3 <= months <= 11)
    assert use_figure(preset("use", annualise=False),
                      Member("m", use=300, use_months=2)) == (300, False)
    assert use_figure(preset("use"), Member("m", use_months=6)) == (None, False)


def test_an_equal_policy_shows_the_annualised_use_without_notes():
    got = allocate(preset("equal"), JOINED, 100_000, "USD")
    assert {s.code: s.amount for s in got.shares} == {"a": 50_000, "b": 50_000}
    assert got.for_member("b").use == D(600) and got.notes == ()
    assert got.for_member("b").cost_per_download == D("0.8333")  # 500.00 / 600


# --- the option: default, storage ---------------------------------------------------------------

def test_new_policies_annualise_by_default():
    assert Policy(use=D(1)).annualise is True
    assert all(preset(k).annualise for k in ("equal", "use", "size", "hybrid"))
    assert preset("use", annualise=False).annualise is False
    with pytest.raises(PolicyError):
        Policy(use=D(1), annualise="no")  # type: ignore[arg-type]


def test_the_option_is_stored_and_read_back():
    for value in (True, False):
        p = preset("hybrid", annualise=value)
        assert p.to_dict()["annualise"] is value
        assert Policy.from_dict(p.to_dict()) == p


def test_a_policy_stored_before_the_option_reads_back_not_annualised():
    # what the adopted-policy table holds for a policy adopted before annualising existed
    old = preset("use", sponsor_fraction=D("0.5")).to_dict()
    del old["annualise"]
    got = Policy.from_dict(old)
    assert got.annualise is False
    assert got == preset("use", sponsor_fraction=D("0.5"), annualise=False)
    # and its allocation, whose shares have no use_months either, reads the same
    allocation = allocate(got, [Member("a", use=1200), Member("b", use=300)], 100_000, "USD")
    data = allocation.to_dict()
    del data["policy"]["annualise"]
    for share in data["shares"]:
        del share["use_months"], share["use_annualised"]
    again = Allocation.from_dict(data)
    assert again == allocation
    assert again.for_member("b").use_months is None
    assert ("Every member is counted on its use over the period as it is, whatever its months "
            "of entitlement in it.") in describe(again.policy, year=2025)


# --- the rule in words --------------------------------------------------------------------------

def test_the_rule_says_so_in_english():
    text = describe(preset("use"), year=2025)
    assert ("The use of a member entitled for only part of the use period is scaled to twelve "
            "months (use × 12 ÷ months entitled); with fewer than 3 months, its use counts as "
            "missing. A member with no entitlement recorded in the period is counted on its "
            "use as it is.") in text
    assert not any("twelve months" in t for t in describe(preset("equal"), year=2025))


def test_the_rule_says_so_in_vietnamese(vi):
    on = describe(preset("hybrid"), vi, "vi", year=2025)
    assert any(t.startswith("Mức sử dụng của thành viên chỉ được quyền truy cập một phần")
               and "ít hơn 3 tháng" in t for t in on)
    off = describe(preset("hybrid", annualise=False), vi, "vi", year=2025)
    assert "Mọi thành viên được tính theo đúng mức sử dụng trong kỳ, bất kể số tháng được " \
           "quyền truy cập trong kỳ đó." in off
    got = allocate(preset("use"), JOINED, 100_000, "USD")
    assert got.notes[0].text(vi, "vi") == (
        "b được quyền truy cập 6 tháng trong kỳ tính mức sử dụng: mức sử dụng (300) được quy "
        "ra 600 cho mười hai tháng.")
    short = allocate(preset("use"), [JOINED[0], Member("b", use=1500, use_months=1)], 100,
                     "USD")
    assert short.notes[0].text(vi, "vi").startswith(
        "b chỉ được quyền truy cập 1 tháng trong kỳ tính mức sử dụng (ít hơn 3): mức sử dụng "
        "của thành viên này (1.500)")


# --- months of a use period ---------------------------------------------------------------------

def test_months_of_a_use_period():
    d = dt.date
    july = [(d(2024, 7, 1), None)]
    assert months_entitled_between(d(2024, 1, 1), d(2024, 12, 1), july) == 6
    # a rolling period April 2024 - March 2025 across two years
    assert months_entitled_between(d(2024, 4, 1), d(2025, 3, 1), july) == 9
    assert months_entitled_between(d(2024, 4, 1), d(2025, 3, 1),
                                   [(d(2024, 4, 15), d(2024, 6, 30)),
                                    (d(2024, 6, 1), d(2024, 8, 31))]) == 4  # May–August
    assert months_entitled_between(d(2025, 1, 1), d(2024, 12, 1), july) == 0
    assert months_entitled(2024, july) == 6 and months_entitled(2023, july) == 0
