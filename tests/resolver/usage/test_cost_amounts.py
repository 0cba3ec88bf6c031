"""The amount rule (resolver.usage.amounts): read in the interface language's convention,
refused when ambiguous, shown the language's way; the machine form for programs (issue 15).
The pages that apply it: test_cost_pages_language.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from resolver import db
from resolver.usage.amounts import AmountError, format_amount, read_amount, read_machine_amount
from resolver.usage.costs import set_cost
from tests.support import admin

pytestmark = pytest.mark.usefixtures("cheap_hashes")
sessions = admin.sessions  # the admin app's database (see test_usage_pages.py)


# --- the rule, pure ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("12.000", "vi", "12000"),  # twelve thousand, as Vietnamese write it
    ("12,5", "vi", "12.5"),
    ("12.000,50", "vi", "12000.50"),
    ("1.234.567", "vi", "1234567"),
    ("12 000", "vi", "12000"),
    ("23400", "vi", "23400"),
    ("2,750.00", "vi", "2750.00"),  # only English reads it: a decimal comma is never followed
    ("12.5", "vi", "12.5"),         # by a thousands dot, and thousands come in threes
    ("12,000", "en", "12000"),
    ("12.5", "en", "12.5"),
    ("2.750,00", "en", "2750.00"),
    ("12000.50", "en", "12000.50"),
])
def test_amounts_are_read_in_the_interface_convention(text, lang, expected):
    assert read_amount(text, lang) == Decimal(expected)


@pytest.mark.parametrize(("text", "lang", "reason"), [
    ("1,234", "vi", "ambiguous"),   # 1.234 with three decimals, or 1234 the English way?
    ("12.000", "en", "ambiguous"),  # 12 with three decimals, or twelve thousand?
    ("1,2345", "vi", "decimals"),
    ("12,505", "vi", "ambiguous"),
    ("-5", "vi", "negative"),
    ("1e3", "en", "format"),
    (",5", "vi", "format"),
    ("12,5.0", "vi", "format"),
    ("abc", "en", "format"),
    ("", "vi", "empty"),
    ("100000000000000", "vi", "large"),
])
def test_what_is_ambiguous_or_wrong_is_refused(text, lang, reason):
    with pytest.raises(AmountError) as caught:
        read_amount(text, lang)
    assert caught.value.reason == reason


def test_machine_form_for_the_command_line_and_programs():
    assert read_machine_amount("12000.50") == Decimal("12000.50")
    assert read_machine_amount("2,750") == Decimal("2750")
    assert read_machine_amount("77_027.40") == Decimal("77027.40")
    for text in ("12,5", "12.000", "1.234,5", "-1"):
        with pytest.raises(AmountError):
            read_machine_amount(text)


def test_amounts_are_shown_in_the_interface_convention():
    assert format_amount(Decimal("12000"), "vi") == "12.000,00"
    assert format_amount(Decimal("12000"), "en") == "12,000.00"
    assert format_amount(Decimal("2.5"), "vi", places=4) == "2,50"
    assert format_amount(Decimal("10.0001"), "vi", places=4) == "10,0001"


def test_set_cost_refuses_what_the_column_would_round(sessions):
    with db.transaction(sessions) as s:
        with pytest.raises(ValueError):
            set_cost(s, "sd", 2024, Decimal("1.005"))
        with pytest.raises(ValueError):
            set_cost(s, "sd", 2024, "12,5")  # not the machine form: refused, not 125
