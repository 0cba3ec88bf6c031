"""A cost-sharing allocation as pages, statements and exports show it (pure).

The allocation (:mod:`resolver.usage.sharing`) is in one currency, the package cost's. The
consortium's accounts and the members' statements show every amount in VND *and* USD, with
the year's exchange rate; converting each member's amount on its own would leave the
converted amounts a few đồng or cents off the converted total, so the members' total is
converted once and split again by the same largest-remainder rule, in proportion to the
amounts: the other-currency amounts sum exactly to it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_decimal

from resolver.usage.exports import FRACTION, INTEGER, TEXT, USD, VND, Sheet
from resolver.usage.sharing import (
    MINOR_DIGITS,
    PER_DOWNLOAD_DIGITS,
    Allocation,
    convert,
    from_minor,
    largest_remainder,
    per_download,
    rounded,
)

__all__ = [
    "EXPORT_COLUMNS",
    "Amounts",
    "both_currencies",
    "export_sheet",
    "money",
    "money_value",
    "other_currency",
    "per_download_text",
]

#: (key, kind) of each column of the accounts' export, in order; the view gives the headers
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", TEXT), ("member", TEXT), ("months", INTEGER), ("use", INTEGER),
    ("size", INTEGER), ("last_vnd", VND), ("last_usd", USD), ("amount_vnd", VND),
    ("amount_usd", USD), ("change_pct", FRACTION),
)


def other_currency(currency: str) -> str:
    """USD for VND and VND for USD (the two currencies lienhop keeps)."""
    return "USD" if currency.upper() == "VND" else "VND"


def _figure(value: Decimal, digits: int, lang: str) -> str:
    """``value`` with exactly ``digits`` decimals, grouped, in ``lang``'s convention."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern,
                              locale=lang if lang in ("vi", "en") else "vi"))


def money(minor: int | None, currency: str, lang: str) -> str:
    """Minor units as the page's language writes them: VND without decimals ("12.000.000"),
    USD with two ("1.234,50" in Vietnamese, "1,234.50" in English); "—" for none."""
    if minor is None:
        return "—"
    return _figure(from_minor(minor, currency), MINOR_DIGITS[currency.upper()], lang)


def money_value(value: Decimal | None, currency: str, lang: str) -> str:
    """An amount in major units (an exact share) shown like :func:`money`: rounded to the
    currency's minor unit (:func:`~resolver.usage.sharing.money.rounded`); "—" for none."""
    if value is None:
        return "—"
    return _figure(rounded(value, currency), MINOR_DIGITS[currency.upper()], lang)


def per_download_text(value: Decimal | None, currency: str, lang: str) -> str:
    """A cost per download with the currency's :data:`PER_DOWNLOAD_DIGITS` decimals, always
    ("0,2500" and "0,1487" USD in Vietnamese, never "0,25" beside "0,1487"); "—" for none."""
    if value is None:
        return "—"
    return _figure(per_download(value, currency), PER_DOWNLOAD_DIGITS[currency.upper()], lang)


@dataclass(frozen=True)
class Amounts:
    """An allocation's amounts in minor units of both currencies (``None`` in the currency
    that needs the missing exchange rate): ``total``, ``sponsor``, ``members`` (by code),
    ``last`` (last year's amounts, converted like this year's)."""

    total: dict[str, int | None]
    sponsor: dict[str, int | None]
    members: dict[str, dict[str, int | None]]
    last: dict[str, dict[str, int | None]]

    def of(self, code: str, currency: str) -> int | None:
        return self.members.get(code, {}).get(currency.upper())


def _split(total: int, parts: Sequence[int], keys: Sequence[str]) -> list[int]:
    whole = sum(parts)
    if whole == 0:
        exact = [Fraction(total, len(parts))] * len(parts) if parts else []
    else:
        exact = [Fraction(p * total, whole) for p in parts]
    return largest_remainder(total, exact, keys) if parts else []


def both_currencies(allocation: Allocation, rate: Decimal | None) -> Amounts:
    """The allocation's amounts in its own currency and the other one (VND per USD
    ``rate``; None: the other currency's amounts are None). The converted members' total
    is split in proportion to the amounts, so it is their exact sum."""
    cur = allocation.currency.upper()
    other = other_currency(cur)
    codes = [s.code for s in allocation.shares]
    own = {s.code: s.amount for s in allocation.shares}
    last_own = {s.code: s.last_amount for s in allocation.shares}
    converted: dict[str, int | None] = dict.fromkeys(codes)
    last_converted: dict[str, int | None] = dict.fromkeys(codes)
    total_other: int | None = None
    sponsor_other: int | None = None
    if rate is not None and rate > 0:
        total_other = convert(allocation.total, cur, other, rate)
        members_other = convert(allocation.members_total, cur, other, rate)
        sponsor_other = total_other - members_other
        converted = dict(zip(codes, _split(members_other, [own[c] for c in codes], codes),
                             strict=True))
        last_converted = {c: None if v is None else convert(v, cur, other, rate)
                          for c, v in last_own.items()}
    return Amounts(
        total={cur: allocation.total, other: total_other},
        sponsor={cur: allocation.sponsor, other: sponsor_other},
        members={c: {cur: own[c], other: converted[c]} for c in codes},
        last={c: {cur: last_own[c], other: last_converted[c]} for c in codes})


def _major(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else from_minor(minor, currency)


def export_sheet(allocation: Allocation, rate: Decimal | None, *, title: str,
                 headers: Sequence[str], names: dict[str, str] | None = None) -> Sheet:
    """The accounts' table of an allocation: one row per member with :data:`EXPORT_COLUMNS`
    (amounts in major units of VND and USD, the change from last year as a fraction);
    ``headers`` in the reader's language, ``names`` the members' names to show (default:
    the allocation's)."""
    amounts = both_currencies(allocation, rate)
    rows = []
    for s in allocation.shares:
        last = amounts.last[s.code]
        rows.append([
            s.code, (names or {}).get(s.code, s.name), s.months, s.use_actual, s.size_actual,
            _major(last["VND"], "VND"), _major(last["USD"], "USD"),
            _major(amounts.of(s.code, "VND"), "VND"), _major(amounts.of(s.code, "USD"), "USD"),
            s.change_pct,
        ])
    return Sheet(title, list(headers), [kind for _key, kind in EXPORT_COLUMNS], rows)
