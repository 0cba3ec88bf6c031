"""Money amounts as people type them and as pages show them: the one rule (pure).

Vietnamese writes twelve thousand "12.000" and twelve and a half "12,5"; English writes
"12,000" and "12.5". Reading a Vietnamese form the English way saved "12.000" as 12 (a cost
per download 1,000 times too small), so forms read an amount by this rule, which every
refusal states in the user's language:

* an amount has **at most two decimals** (every currency lienhop keeps has cents or none);
* it is read in the **interface language's convention** first, with Babel's strict parser
  (thousands grouped by three): on a Vietnamese page "12.000" is 12000 and "12,5" is 12.5;
* what the interface language cannot read at all is read in the other language, if that
  reads it: "2,750.00" on a Vietnamese page can only be 2750 (a decimal comma is never
  followed by a thousands dot), "12.5" only 12.5 (thousands come in threes);
* an amount both languages read, differently, is **refused, never guessed**: that is one
  separator followed by exactly three digits that the interface language takes for three
  decimals ("1,234" on a Vietnamese page, "12.000" on an English one: 1234 or 1.234?).
  Where the interface language takes them for thousands ("12.000" on a Vietnamese page)
  its convention decides, and the page echoes the amount back to confirm.

Spaces between groups of three digits ("12 000") are thousands separators in both.

Machines and the command line use the **machine form** (:func:`read_machine_amount`): a
decimal point, at most two decimals, commas or underscores between thousands allowed
("12000.50", "2,750", "77_027.40"); "12,5" and "12.000" are refused there.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

__all__ = [
    "LARGEST",
    "PLACES",
    "AmountError",
    "example",
    "format_amount",
    "read_amount",
    "read_machine_amount",
]

#: decimals an amount may have (``package_cost.amount`` is NUMERIC(16, 2))
PLACES = 2
#: amounts must stay below this (NUMERIC(16, 2) holds 14 integer digits)
LARGEST = Decimal("1e14")
#: the two conventions lienhop's pages are written in
_LANGS = ("vi", "en")
#: whitespace people and spreadsheets put between thousands: space, no-break, narrow no-break
_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
#: what may be left of an amount once group spaces are gone: ASCII digits and separators,
#: starting and ending with a digit (Babel alone would take ",5", "5,", "1e3" and "١٢")
_SHAPE = re.compile(r"\d+(?:[.,]\d+)*")
_MINUS = ("-", "\u2212")


class AmountError(ValueError):
    """An amount that is not read, with why: ``reason`` is one of ``"empty"``, ``"format"``
    (no convention reads it), ``"decimals"`` (more than two), ``"ambiguous"`` (both
    conventions read it, differently), ``"negative"`` or ``"large"``."""

    def __init__(self, reason: str, text: str):
        super().__init__(f"{text!r}: {reason}")
        self.reason = reason
        self.text = text


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _strict(text: str, lang: str) -> Decimal | None:
    try:
        return parse_decimal(text, locale=lang, strict=True)
    except NumberFormatError:
        return None


def _compact(text: str) -> str:
    s = (text or "").strip()
    if not s:
        raise AmountError("empty", text)
    if s.startswith(_MINUS):
        raise AmountError("negative", text)
    s = _GROUP_SPACE.sub("", s)
    if not _SHAPE.fullmatch(s):
        raise AmountError("format", text)
    return s


def _checked(value: Decimal, text: str) -> Decimal:
    if value >= LARGEST:
        raise AmountError("large", text)
    return value


def read_amount(text: str, lang: str) -> Decimal:
    """An amount typed into a form of a page in ``lang`` (``vi`` or ``en``), by the rule
    in the module docstring; raises :class:`AmountError`."""
    lang = lang if lang in _LANGS else "vi"
    other = "en" if lang == "vi" else "vi"
    s = _compact(text)
    own, theirs = _strict(s, lang), _strict(s, other)
    if own is not None and _places(own) <= PLACES:
        return _checked(own, text)
    if own is not None:  # the interface language reads more than two decimals
        if theirs is not None and _places(theirs) <= PLACES:
            raise AmountError("ambiguous", text)
        raise AmountError("decimals", text)
    if theirs is not None:
        if _places(theirs) <= PLACES:
            return _checked(theirs, text)
        raise AmountError("decimals", text)
    raise AmountError("format", text)


def read_machine_amount(text: str) -> Decimal:
    """An amount in the machine form (command line, programs): ``12000.50``, ``2,750``,
    ``77_027.40``; raises :class:`AmountError`."""
    s = _compact(re.sub(r"(?<=\d)_(?=\d)", "", (text or "").strip()))
    value = _strict(s, "en")
    if value is None:
        raise AmountError("format", text)
    if _places(value) > PLACES:
        raise AmountError("decimals", text)
    return _checked(value, text)


def format_amount(value: Decimal | float | int, lang: str, *, places: int = PLACES) -> str:
    """An amount as a page in ``lang`` shows it: grouped thousands, two decimals (up to
    ``places`` when the value has more, e.g. a cost per download)."""
    pattern = "#,##0.00" + "#" * max(0, places - PLACES)
    return str(format_decimal(value, format=pattern, locale=lang if lang in _LANGS else "vi"))


def example(lang: str) -> str:
    """An amount written in ``lang``'s convention, for hints and error messages."""
    return format_amount(Decimal("23400.50"), lang)
