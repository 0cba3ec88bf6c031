"""Policies: what is refused, presets, tiers, use periods, JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from resolver.usage.sharing import (
    PERIOD_ROLLING_12,
    Policy,
    PolicyError,
    SizeTier,
    preset,
)

D = Decimal


@pytest.mark.parametrize("changes", [
    {"equal": D("0.5")},  # weights sum to 0.5
    {"equal": D("1.5"), "use": D("-0.5")},
    {"equal": D(1), "measure": "downloads"},
    {"equal": D(1), "period": "decade"},
    {"equal": D(1), "period_end": "2024-13"},
    {"equal": D(1), "size_measure": "books"},
    {"equal": D(1), "tiers": (SizeTier(100, D(1)),)},  # must start at 0
    {"equal": D(1), "tiers": (SizeTier(0, D(1)), SizeTier(0, D(2)))},
    {"equal": D(1), "tiers": (SizeTier(0, D(0)),)},
    {"equal": D(1), "sponsor_amount": D(1), "sponsor_fraction": D("0.5")},
    {"equal": D(1), "sponsor_fraction": D("1.5")},
    {"equal": D(1), "cap": D(0)},
    {"equal": D(1), "floor": D(-1)},
    {"equal": D(1), "missing": "zero"},  # never silently 0
    {"equal": "x"},
])
def test_refused(changes):
    with pytest.raises(PolicyError):
        Policy(**changes)


def test_presets():
    assert (preset("hybrid").equal, preset("hybrid").use) == (D("0.4"), D("0.6"))
    assert preset("use", cap=D("0.35")).cap == D("0.35")
    assert [preset(k).kind for k in ("equal", "use", "size", "hybrid")] == [
        "equal", "use", "size", "hybrid"]
    with pytest.raises(PolicyError):
        preset("lottery")


def test_tier_points():
    p = Policy(size=D(1))  # default tiers 0:1, 5000:2, 15000:3, 40000:4
    assert [p.points(n) for n in (0, 4999, 5000, 39999, 40000, 10**6)] == [1, 1, 2, 3, 4, 4]


def test_use_periods():
    assert Policy(use=D(1)).use_months(2025) == (dt.date(2024, 1, 1), dt.date(2024, 12, 1))
    rolling = Policy(use=D(1), period=PERIOD_ROLLING_12, period_end="2025-03")
    assert rolling.use_months(2025) == (dt.date(2024, 4, 1), dt.date(2025, 3, 1))
    assert Policy(use=D(1), period=PERIOD_ROLLING_12).use_months(2025) == (
        dt.date(2024, 1, 1), dt.date(2024, 12, 1))


def test_json_round_trip_and_unknown_fields():
    p = preset("hybrid", sponsor_fraction=D("0.5"), cap=D("0.35"), floor=D("100.50"),
               smoothing=D("0.2"), tiers=(SizeTier(0, D(1)), SizeTier(10000, D("2.5"))))
    data = p.to_dict()
    assert data["sponsor_fraction"] == "0.5" and data["tiers"] == [[0, "1"], [10000, "2.5"]]
    assert Policy.from_dict(data) == p
    with pytest.raises(PolicyError):
        Policy.from_dict({**data, "bonus": 1})


def test_error_messages_translate():
    with pytest.raises(PolicyError) as err:
        Policy(equal=D("0.5"))
    assert err.value.message() == "the weights must sum to 1 (they sum to 0.5)"
    assert err.value.message(lambda m: "[" + m + "]") == (
        "[the weights must sum to 1 (they sum to 0.5)]")
