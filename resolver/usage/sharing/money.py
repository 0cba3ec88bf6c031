"""Money in integer minor units: currencies, conversion, largest-remainder rounding (pure).

Amounts the sharing core computes are exact fractions until the end; what a member pays is an
integer number of the currency's minor units (US cents; VND has none: đồng). The shares are
rounded by the **largest-remainder** method, so they sum *exactly* to the amount shared: each
member first gets the whole units of its exact share, then the units left over go one each to
the largest fractional parts; equal parts go to the larger raw share, then by member code
(alphabetical), so the same inputs always give the same amounts.

How many decimals a figure has is decided here too, per currency, and nowhere else: an
amount has the currency's minor digits (:data:`MINOR_DIGITS`: USD 2, VND 0), a cost per
download :data:`PER_DOWNLOAD_DIGITS` (USD 4: a download costs a fraction of a cent; VND 0: a
fraction of a đồng says nothing). Pages, statements and the command line format figures with
these (:mod:`resolver.usage.sharing_tables`), so one figure reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

__all__ = [
    "MINOR_DIGITS",
    "PER_DOWNLOAD_DIGITS",
    "convert",
    "from_minor",
    "largest_remainder",
    "per_download",
    "rounded",
    "to_minor",
]

#: decimals of each currency lienhop keeps (resolver.usage.models.CURRENCIES)
MINOR_DIGITS = {"USD": 2, "VND": 0}
#: decimals a cost per download is shown with, per currency (module docstring)
PER_DOWNLOAD_DIGITS = {"USD": 4, "VND": 0}


def _digits(currency: str) -> int:
    try:
        return MINOR_DIGITS[currency.upper()]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """``Decimal("12.34")`` USD -> 1234; VND is whole đồng. Half a minor unit rounds up."""
    scaled = Decimal(str(amount)).scaleb(_digits(currency))
    return int(scaled.quantize(Decimal(1), ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    """1234 (USD) -> ``Decimal("12.34")``; VND -> whole đồng."""
    digits = _digits(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def rounded(value: Decimal, currency: str) -> Decimal:
    """A major-unit ``value`` to the currency's minor unit, always with its digits
    (``Decimal("12.5")`` USD -> ``12.50``); half a unit rounds up."""
    return value.quantize(Decimal(1).scaleb(-_digits(currency)), ROUND_HALF_UP)


def per_download(value: Decimal, currency: str) -> Decimal:
    """A cost per download with :data:`PER_DOWNLOAD_DIGITS` decimals, always
    (``Decimal("0.25")`` USD -> ``0.2500``); half a unit rounds up."""
    digits = PER_DOWNLOAD_DIGITS.get(currency.upper())
    if digits is None:
        raise ValueError(f"unknown currency {currency!r}")
    return value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def convert(minor: int, source: str, target: str, vnd_per_usd: Decimal | None) -> int:
    """``minor`` units of ``source`` in ``target`` minor units, with a rate in VND per USD
    (half a unit rounds up). Raises ValueError when a rate is needed and missing."""
    source, target = source.upper(), target.upper()
    if source == target:
        return minor
    if vnd_per_usd is None or vnd_per_usd <= 0:
        raise ValueError(f"no exchange rate to convert {source} to {target}")
    major = Fraction(minor, 10 ** _digits(source))
    rate = Fraction(vnd_per_usd)
    value = major * rate if source == "USD" else major / rate
    scaled = value * 10 ** _digits(target)
    return int((scaled + Fraction(1, 2)) // 1)


def largest_remainder(total: int, exact: Sequence[Fraction], keys: Sequence[str],
                      priority: Sequence[Fraction] | None = None) -> list[int]:
    """Integers summing to ``total``, each the floor or ceiling of its ``exact`` share.

    ``exact`` must sum to ``total`` (shares of it, each >= 0); leftover units go to the
    largest fractional parts; equal parts go first to the larger ``priority`` (the
    allocation passes the raw shares, so of two members held at the same cap the one with
    more use never pays less), then by ``keys`` ascending (member codes)."""
    if len(exact) != len(keys) or (priority is not None and len(priority) != len(keys)):
        raise ValueError("one key per share")
    if sum(exact, Fraction(0)) != total:
        raise ValueError("the exact shares must sum to the total")
    rank = priority if priority is not None else [Fraction(0)] * len(exact)
    base = [int(x // 1) for x in exact]
    left = total - sum(base)
    order = sorted(range(len(exact)),
                   key=lambda i: (-(exact[i] - base[i]), -rank[i], keys[i]))
    for i in order[:left]:
        base[i] += 1
    return base
