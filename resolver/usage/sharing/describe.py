"""A policy in words, in the reader's language (pure): for statements, pages and the CLI.

:func:`describe` returns sentences whose English message ids are marked with ``N_`` (so
``pybabel extract`` and tests/resolver/web/test_i18n.py see them) and passed through the
caller's ``translate``: Flask-Babel's ``gettext`` on a page, a Babel catalogue on the command
line (``lienhop usage share --lang vi``, resolver/cli/usage.py). Numbers are written in the reader's
convention (``40 %`` / ``40%``, ``1.000,50`` / ``1,000.50``).
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal, format_percent

from resolver.usage.amounts import format_amount
from resolver.usage.sharing.notes import Translate, identity
from resolver.usage.sharing.policy import (
    MEASURE_CLICKS,
    MEASURE_UNIQUE,
    MIN_ANNUALISE_MONTHS,
    MISSING_EQUAL,
    MISSING_MEAN,
    N_,
    PERIOD_PREVIOUS_YEAR,
    SIZE_FTE,
    Policy,
)

__all__ = ["describe", "measure_label", "percent"]


def percent(fraction: Decimal, lang: str) -> str:
    """``Decimal("0.35")`` -> "35%" in both languages (Babel's pattern here, not the locale's
    spacing, so the vi and en statements line up); up to two decimals."""
    return str(format_percent(fraction, format="#,##0.##%", locale=lang))


def measure_label(measure: str, translate: Translate = identity) -> str:
    """A use measure in words."""
    if measure == MEASURE_CLICKS:
        return translate(N_("full-text clicks in the resolver"))
    if measure == MEASURE_UNIQUE:
        return translate(N_("COUNTER Unique_Item_Requests"))
    return translate(N_("COUNTER Total_Item_Requests"))


def _period(policy: Policy, year: int | None, translate: Translate) -> str:
    if year is None:
        return translate(N_("over the previous calendar year")
                         if policy.period == PERIOD_PREVIOUS_YEAR
                         else N_("over the 12 months before the year"))
    start, end = policy.use_months(year)
    if policy.period == PERIOD_PREVIOUS_YEAR:
        return translate(N_("over %(year)s")) % {"year": start.year}
    return translate(N_("over %(start)s to %(end)s")) % {
        "start": f"{start.month:02d}/{start.year}", "end": f"{end.month:02d}/{end.year}"}


def _tiers(policy: Policy, translate: Translate, lang: str) -> str:
    measure = translate(N_("researchers (FTE)") if policy.size_measure == SIZE_FTE
                        else N_("students"))
    parts = [translate(N_("from %(lower)s: %(points)s")) % {
        "lower": format_decimal(t.lower, locale=lang),
        "points": format_decimal(t.points, locale=lang)} for t in policy.tiers]
    return translate(N_("%(measure)s, points %(tiers)s")) % {
        "measure": measure, "tiers": "; ".join(parts)}


def describe(policy: Policy, translate: Translate = identity, lang: str = "en", *,
             currency: str = "USD", year: int | None = None) -> list[str]:
    """The rule of ``policy`` as sentences in the reader's language (``translate`` and
    ``lang``: "vi" or "en"); ``currency`` is the allocation's (for the sponsor's amount and
    the floor), ``year`` the allocation's (to name the use period's months)."""
    parts = []
    if policy.equal:
        parts.append(translate(N_("%(pct)s in equal shares")) % {
            "pct": percent(policy.equal, lang)})
    if policy.use:
        parts.append(translate(N_("%(pct)s in proportion to use (%(measure)s, %(period)s)"))
                     % {"pct": percent(policy.use, lang),
                        "measure": measure_label(policy.measure, translate),
                        "period": _period(policy, year, translate)})
    if policy.size:
        parts.append(translate(N_("%(pct)s in proportion to size (%(tiers)s)")) % {
            "pct": percent(policy.size, lang), "tiers": _tiers(policy, translate, lang)})
    out = [translate(N_("The members' total is shared: %(parts)s.")) % {
        "parts": "; ".join(parts)}]
    if policy.sponsor_fraction:
        out.append(translate(N_("The sponsor pays %(pct)s of the cost centrally, before it is "
                                "shared.")) % {"pct": percent(policy.sponsor_fraction, lang)})
    elif policy.sponsor_amount:
        out.append(translate(N_("The sponsor pays %(amount)s %(currency)s centrally, before "
                                "the cost is shared.")) % {
            "amount": format_amount(policy.sponsor_amount, lang), "currency": currency})
    if policy.pro_rata:
        out.append(translate(N_("A member entitled for part of the year pays for its months "
                                "of entitlement (pro rata).")))
    else:
        out.append(translate(N_("Every member pays for the whole year, whatever its months "
                                "of entitlement.")))
    if policy.use:
        if policy.annualise:
            out.append(translate(N_("The use of a member entitled for only part of the use "
                                    "period is scaled to twelve months (use × 12 ÷ months "
                                    "entitled); with fewer than %(least)s months, its use "
                                    "counts as missing. A member with no entitlement "
                                    "recorded in the period is counted on its use as it "
                                    "is.")) % {"least": MIN_ANNUALISE_MONTHS})
        else:
            out.append(translate(N_("Every member is counted on its use over the period as "
                                    "it is, whatever its months of entitlement in it.")))
    if policy.use or policy.size:
        out.append(translate({
            MISSING_MEAN: N_("A member without data is counted with the mean of the "
                             "others' figures."),
            MISSING_EQUAL: N_("A member without data pays its equal share of that part."),
        }.get(policy.missing, N_("A member without data is counted with the median of the "
                                  "others' figures."))))
    if policy.floor:
        out.append(translate(N_("No member pays less than %(amount)s %(currency)s for a "
                                "full year.")) % {
            "amount": format_amount(policy.floor, lang), "currency": currency})
    if policy.cap:
        out.append(translate(N_("No member pays more than %(pct)s of the members' total; "
                                "where a floor is above the cap, the floor holds.")) % {
            "pct": percent(policy.cap, lang)})
    if policy.smoothing:
        out.append(translate(N_("No member's amount changes by more than %(pct)s from last "
                                "year's, within the floor and cap.")) % {
            "pct": percent(policy.smoothing, lang)})
    out.append(translate(N_("Amounts are rounded to whole %(unit)s so that they add up "
                            "exactly to the cost (largest remainder).")) % {
        "unit": translate(N_("cents") if currency == "USD" else N_("dong"))})
    return out
