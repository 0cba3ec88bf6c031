"""Every policy on small examples computed by hand (the arithmetic is in each test)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from resolver.usage.sharing import (
    MISSING_EQUAL,
    MISSING_MEAN,
    Member,
    Policy,
    PolicyError,
    SizeTier,
    allocate,
    preset,
)

D = Decimal


def amounts(policy: Policy, members: list[Member], total: int,
            currency: str = "USD") -> dict[str, int]:
    return {s.code: s.amount for s in allocate(policy, members, total, currency).shares}


FOUR = [Member("a", use=100), Member("b", use=200), Member("c", use=300), Member("d", use=400)]


def test_equal_shares():
    # USD 1,000.00 = 100,000 cents / 4 = 25,000 each
    assert amounts(preset("equal"), FOUR, 100_000) == {
        "a": 25_000, "b": 25_000, "c": 25_000, "d": 25_000}


def test_equal_shares_largest_remainder_by_code():
    # 100 cents / 3 = 33.33…: 33 each, the one cent left goes to the first code ("a")
    three = FOUR[:3]
    assert amounts(preset("equal"), three, 100) == {"a": 34, "b": 33, "c": 33}
    # VND has no minor unit: 10 đồng / 3 -> 4, 3, 3
    assert amounts(preset("equal"), three, 10, "VND") == {"a": 4, "b": 3, "c": 3}


def test_by_use():
    # use 100:200:300:400 of 1,000 -> 10 %, 20 %, 30 %, 40 % of USD 2,000.00
    got = allocate(preset("use"), FOUR, 200_000, "USD")
    assert {s.code: s.amount for s in got.shares} == {
        "a": 20_000, "b": 40_000, "c": 60_000, "d": 80_000}
    # cost per download: USD 200.00 / 100 downloads = 2.00
    assert got.for_member("a").cost_per_download == D("2.0000")


def test_hybrid_40_equal_60_use():
    # equal part 40 % of 200,000 = 80,000 -> 20,000 each
    # use part 60 % = 120,000 -> 12,000 / 24,000 / 36,000 / 48,000
    assert amounts(preset("hybrid"), FOUR, 200_000) == {
        "a": 32_000, "b": 44_000, "c": 56_000, "d": 68_000}


def test_by_size_tiers():
    # tiers: 0 -> 1 point, 5,000 -> 2, 15,000 -> 3; sizes 1,000 / 5,000 / 20,000 -> 1, 2, 3
    # points of 6: 1/6, 2/6, 3/6 of 60,000 = 10,000 / 20,000 / 30,000
    policy = Policy(size=D(1), tiers=(SizeTier(0, D(1)), SizeTier(5000, D(2)),
                                      SizeTier(15000, D(3))))
    members = [Member("a", size=1000), Member("b", size=5000), Member("c", size=20000)]
    assert amounts(policy, members, 60_000) == {"a": 10_000, "b": 20_000, "c": 30_000}


def test_sponsor_fraction_then_split():
    # 50 % of 200,000 paid centrally: 100,000 left, by use 10/20/30/40 %
    got = allocate(preset("use", sponsor_fraction=D("0.5")), FOUR, 200_000, "USD")
    assert got.sponsor == 100_000 and got.members_total == 100_000
    assert [s.amount for s in got.shares] == [10_000, 20_000, 30_000, 40_000]


def test_sponsor_amount():
    # USD 400.00 sponsor of USD 1,200.00: 80,000 cents over 4 equal = 20,000
    got = allocate(preset("equal", sponsor_amount=D("400")), FOUR, 120_000, "USD")
    assert got.sponsor == 40_000 and [s.amount for s in got.shares] == [20_000] * 4


def test_sponsor_amount_over_the_total_is_refused():
    with pytest.raises(PolicyError):
        allocate(preset("equal", sponsor_amount=D("2000")), FOUR, 100_000, "USD")


def test_cap_moves_the_excess_to_the_others_in_proportion():
    # by use 10/20/30/40 % of 100,000; cap 35 % = 35,000 binds d (40,000):
    # 65,000 left for a, b, c in proportion 1:2:3 -> 10,833.33 / 21,666.67 / 32,500
    # rounding: floors 10,833 + 21,666 + 32,500 + 35,000 = 99,999; the cent goes to b (.67)
    assert amounts(preset("use", cap=D("0.35")), FOUR, 100_000) == {
        "a": 10_833, "b": 21_667, "c": 32_500, "d": 35_000}


def test_floor_takes_from_the_others_in_proportion():
    # by use of 100,000: 10,000 / 20,000 / 30,000 / 40,000; floor USD 150.00 = 15,000
    # a is raised to 15,000; 85,000 left for b, c, d in 2:3:4 -> 18,888.89 / 28,333.33 /
    # 37,777.78; floors 18,888 + 28,333 + 37,777 + 15,000 = 99,998: cents to d (.78), b (.89)
    assert amounts(preset("use", floor=D("150")), FOUR, 100_000) == {
        "a": 15_000, "b": 18_889, "c": 28_333, "d": 37_778}


def test_floor_above_cap_floor_wins_with_a_note():
    # 1,000 cents; cap 30 % = 300; floor 400 a year, pro rata: a (12 months) 400 > cap,
    # b and c (3 months) 100. Equal pro rata would give a 666.67, b and c 166.67.
    # a is held at its floor 400 (floor wins over cap); b and c share 600 at most 300 each.
    members = [Member("a"), Member("b", months=3), Member("c", months=3)]
    got = allocate(preset("equal", cap=D("0.3"), floor=D("4")), members, 1000, "USD")
    assert [s.amount for s in got.shares] == [400, 300, 300]
    assert [(n.code, n.member) for n in got.notes] == [("floor_over_cap", "a")]


def test_floors_beyond_the_total_are_an_error():
    # floor USD 300.00 × 4 = 120,000 > 100,000
    with pytest.raises(PolicyError) as err:
        allocate(preset("equal", floor=D("300")), FOUR, 100_000, "USD")
    assert "floors" in err.value.message()


def test_caps_that_cannot_reach_the_total_are_an_error():
    # 2 members with a 35 % cap cover at most 70 %
    with pytest.raises(PolicyError) as err:
        allocate(preset("equal", cap=D("0.35")), FOUR[:2], 100_000, "USD")
    assert "50%" in err.value.message()


def test_pro_rata_by_months():
    # equal, b entitled 6 months: factors 1 : 0.5 : 1 -> 2/5, 1/5, 2/5 of 50,000
    members = [Member("a"), Member("b", months=6), Member("c")]
    assert amounts(preset("equal"), members, 50_000) == {"a": 20_000, "b": 10_000,
                                                         "c": 20_000}
    # without pro rata: thirds (16,666.67 -> a and b get the two cents left, by code)
    assert amounts(preset("equal", pro_rata=False), members, 50_000) == {
        "a": 16_667, "b": 16_667, "c": 16_666}


def test_missing_use_median_by_default():
    # b has no data: median of 100, 300, 400 = 300; use 100:300:300:400 of 1,100 × 110,000
    members = [Member("a", use=100), Member("b"), Member("c", use=300), Member("d", use=400)]
    got = allocate(preset("use"), members, 110_000, "USD")
    assert [s.amount for s in got.shares] == [10_000, 30_000, 30_000, 40_000]
    b = got.for_member("b")
    assert b.use == D("300.00") and b.use_imputed == "median" and b.use_actual is None
    assert b.cost_per_download is None  # no downloads of its own
    assert [n.code for n in got.notes] == ["use_imputed"]
    assert "median" in got.notes[0].text()


def test_missing_use_mean():
    # mean of 100, 300, 500 = 300: same split as above with d=500 -> 100:300:300:500
    members = [Member("a", use=100), Member("b"), Member("c", use=300), Member("d", use=500)]
    assert amounts(preset("use", missing=MISSING_MEAN), members, 120_000) == {
        "a": 10_000, "b": 30_000, "c": 30_000, "d": 50_000}


def test_missing_use_equal_share():
    # b pays its equal share of the use part: 1/4 of 100,000 = 25,000; the others split
    # 75,000 by use 100:200:300 -> 12,500 / 25,000 / 37,500
    members = [Member("a", use=100), Member("b"), Member("c", use=200), Member("d", use=300)]
    assert amounts(preset("use", missing=MISSING_EQUAL), members, 100_000) == {
        "a": 12_500, "b": 25_000, "c": 25_000, "d": 37_500}


def test_nobody_has_use_data_then_use_part_is_equal_with_a_note():
    members = [Member("a"), Member("b")]
    got = allocate(preset("use"), members, 1000, "USD")
    assert [s.amount for s in got.shares] == [500, 500]
    assert [n.code for n in got.notes] == ["use_none"]


def test_zero_use_is_real_and_pays_nothing_by_use():
    got = allocate(preset("use"), [Member("a", use=0), Member("b", use=10)], 1000, "USD")
    assert [s.amount for s in got.shares] == [0, 1000]
    assert got.notes == ()


def test_smoothing_limits_the_change():
    # last year 50,000 each; by use this year 10,000 / 90,000; ±20 % -> band 40,000..60,000
    members = [Member("a", use=10, last_amount=50_000), Member("b", use=90, last_amount=50_000)]
    got = allocate(preset("use", smoothing=D("0.2")), members, 100_000, "USD")
    assert [s.amount for s in got.shares] == [40_000, 60_000]
    a = got.for_member("a")
    assert a.change == -10_000 and a.change_pct == D("-0.2000")
    assert a.bounded == D("100.0000") and a.smoothed == D("400.0000")


def test_smoothing_when_the_total_moves_more_than_the_limit():
    # total doubled (200,000; last year 50,000 each): ±20 % bands reach at most 120,000, so
    # the bands are centred on last year's scaled by 2 (note): 80,000..120,000; by use the
    # shares would be 20,000 / 180,000 -> clamped to 80,000 / 120,000
    members = [Member("a", use=10, last_amount=50_000), Member("b", use=90, last_amount=50_000)]
    got = allocate(preset("use", smoothing=D("0.2")), members, 200_000, "USD")
    assert [s.amount for s in got.shares] == [80_000, 120_000]
    assert [n.code for n in got.notes] == ["smoothing_scaled"]


def test_smoothing_scales_last_year_by_months():
    # a was entitled 6 months last year (paid 30,000) and 12 this year: its band is around
    # 60,000 (±10 %: 54,000..66,000); b's around 40,000 (36,000..44,000).
    # By use a would pay 90,000 and b 10,000: b is held at 36,000, a pays the rest, 64,000
    # (inside its band: without the months scaling its band would be 27,000..33,000).
    members = [Member("a", use=90, last_amount=30_000, last_months=6),
               Member("b", use=10, last_amount=40_000)]
    got = allocate(preset("use", smoothing=D("0.1")), members, 100_000, "USD")
    assert [s.amount for s in got.shares] == [64_000, 36_000]
    assert got.notes == ()


def test_change_from_last_year_and_new_members():
    members = [Member("a", last_amount=40_000), Member("b")]
    got = allocate(preset("equal"), members, 100_000, "USD")
    a, b = got.shares
    assert (a.change, a.change_pct) == (10_000, D("0.2500"))
    assert (b.change, b.change_pct) == (None, None)


def test_allocation_round_trips_through_json():
    got = allocate(preset("hybrid", sponsor_fraction=D("0.5"), cap=D("0.35")), FOUR
                   + [Member("e", months=6)], 7_702_740, "USD")
    from resolver.usage.sharing import Allocation
    assert Allocation.from_dict(got.to_dict()) == got


def test_no_member_is_an_error():
    with pytest.raises(PolicyError):
        allocate(preset("equal"), [], 100, "USD")


def test_a_new_member_does_not_absorb_the_others_smoothing():
    # by use 50:50:50 of 300,000 -> 100,000 each. a and b paid 50,000 last year (±20 %:
    # 40,000..60,000); c is new and pays what the policy gives it, 100,000. a and b must
    # then pay 200,000 together, beyond their bands (120,000): the bands are centred on last
    # year's × 2 (200,000 / 100,000): 80,000..120,000 -> 100,000 each. (Had c absorbed the
    # rest it would pay 180,000.)
    members = [Member("a", use=50, last_amount=50_000), Member("b", use=50, last_amount=50_000),
               Member("c", use=50)]
    got = allocate(preset("use", smoothing=D("0.2")), members, 300_000, "USD")
    assert [s.amount for s in got.shares] == [100_000, 100_000, 100_000]
    assert [n.code for n in got.notes] == ["smoothing_scaled"]


def test_smoothing_a_member_at_zero_can_still_move_within_its_band():
    # a paid 1,000 last year, b 900; by use now a 0 and b 1,900 (a has no use). ±10 %: bands
    # 900..1,100 and 810..990, which meet the total 1,900. a at zero cannot grow in
    # proportion, so the same amount t is added to both within their bands:
    # a = clamp(0 + t, 900, 1,100), b = clamp(1,900 + t, 810, 990): b is at 990 for any
    # t >= -910, a at 900 until t = 900 and a = t beyond, so a = 1,900 - 990 = 910
    members = [Member("a", use=0, last_amount=1000), Member("b", use=10, last_amount=900)]
    got = allocate(preset("use", smoothing=D("0.1")), members, 1_900, "USD")
    assert [s.amount for s in got.shares] == [910, 990]
    assert got.notes == ()


def test_smoothing_scaled_to_zero_when_the_others_are_new():
    # b is new and pays its policy share, 1,900: a (band 900..1,100) would have to pay 0.
    # The bands are centred on last year's × (a's policy share 0 / last year's 1,000) = 0:
    # a pays 0, with a note
    members = [Member("a", use=0, last_amount=1000), Member("b", use=10)]
    got = allocate(preset("use", smoothing=D("0.1")), members, 1_900, "USD")
    assert [s.amount for s in got.shares] == [0, 1_900]
    assert [n.code for n in got.notes] == ["smoothing_scaled"]


def test_a_policy_without_use_imputes_no_use():
    got = allocate(preset("equal"), [Member("a", use=10), Member("b")], 100, "USD")
    b = got.for_member("b")
    assert (b.use, b.use_imputed, got.for_member("a").use) == (None, None, D("10.00"))
    assert got.notes == ()
