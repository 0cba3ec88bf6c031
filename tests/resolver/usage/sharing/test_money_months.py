"""Minor units, conversion, largest remainder; months of entitlement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from resolver.usage.sharing import (
    convert,
    from_minor,
    largest_remainder,
    months_entitled,
    per_download,
    rounded,
    to_minor,
)

D = dt.date


def test_minor_units():
    assert to_minor(Decimal("12.34"), "USD") == 1234
    assert to_minor(Decimal("12.345"), "USD") == 1235  # half a cent rounds up
    assert to_minor(Decimal("25400"), "VND") == 25400
    assert from_minor(1234, "USD") == Decimal("12.34")
    assert from_minor(5, "VND") == Decimal("5")
    with pytest.raises(ValueError):
        to_minor(Decimal(1), "EUR")


def test_conversion():
    # USD 10.00 at 25,400 VND/USD = 254,000 VND; back: 254,000 / 25,400 = USD 10.00
    assert convert(1000, "USD", "VND", Decimal("25400")) == 254_000
    assert convert(254_000, "VND", "USD", Decimal("25400")) == 1000
    # 1 VND = 0.0039 cents -> 0 cents; 127 VND = 0.5 cent -> rounds up to 1
    assert convert(127, "VND", "USD", Decimal("25400")) == 1
    assert convert(5, "USD", "USD", None) == 5
    with pytest.raises(ValueError):
        convert(5, "USD", "VND", None)


def test_largest_remainder():
    thirds = [Fraction(100, 3)] * 3
    assert largest_remainder(100, thirds, ["b", "a", "c"]) == [33, 34, 33]
    # a larger priority wins a tie before the code does
    assert largest_remainder(100, thirds, ["b", "a", "c"],
                             [Fraction(1), Fraction(0), Fraction(2)]) == [33, 33, 34]
    # 10.6 + 20.3 + 69.1 = 100: 10 + 20 + 69 = 99, the unit to .6
    assert largest_remainder(100, [Fraction(106, 10), Fraction(203, 10), Fraction(691, 10)],
                             ["a", "b", "c"]) == [11, 20, 69]
    with pytest.raises(ValueError):
        largest_remainder(100, [Fraction(1)], ["a"])


@pytest.mark.parametrize(("spans", "months"), [
    ([(None, None)], 12),
    ([(D(2025, 7, 1), None)], 6),  # joins on 1 July: July to December
    ([(D(2025, 7, 15), None)], 5),  # joins mid-July: from August
    ([(None, D(2025, 6, 30))], 6),  # leaves at the end of June
    ([(D(2024, 1, 1), D(2024, 12, 31))], 0),  # last year only
    ([(D(2025, 1, 1), D(2025, 3, 31)), (D(2025, 2, 1), D(2025, 5, 31))], 5),  # overlap once
    ([(D(2026, 1, 1), None)], 0),
])
def test_months_entitled(spans, months):
    assert months_entitled(2025, spans) == months


def test_the_decimals_of_an_amount_and_of_a_cost_per_download():
    assert str(rounded(Decimal("12.5"), "USD")) == "12.50"
    assert str(rounded(Decimal("12.5"), "VND")) == "13"
    assert str(per_download(Decimal("0.25"), "USD")) == "0.2500"  # never "0.25" beside
    assert str(per_download(Decimal("0.1487"), "USD")) == "0.1487"  # "0.1487"
    assert str(per_download(Decimal("410.6402"), "VND")) == "411"
    with pytest.raises(ValueError):
        per_download(Decimal(1), "EUR")
