"""The what-if page's form: query parameters -> up to three policies, or the reasons why not.

The comparison is a GET form, so a comparison is a URL people can send each other; anything
may therefore arrive in it. Every parameter is bounded and read here, and whatever cannot be
read becomes a sentence on the page (never a 500, never silently a default): a percentage is
a number from 0 to 100 written the page language's way (``12,5`` on a Vietnamese page, by
:func:`resolver.usage.amounts.read_amount`), an amount likewise, a choice one of its values.

Each of the three columns (``p1``…``p3``) is a kind of policy — equal, by use, by size, or
hybrid (its weights ``pN_equal``/``pN_use``/``pN_size`` in %, summing to 100) — or empty;
what applies to all of them (the sponsor's share or amount, the floor, cap and smoothing, the
use measure and period, whether use is annualised, the size measure, the rule for missing
data) is set once, so moving the sponsor's share moves every column. ``annualise`` is ``yes``
(the default, also when absent: a comparison made before the option existed then annualises,
as every new one does) or ``no``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from resolver.registry.codes import CODE_RE
from resolver.usage.amounts import AmountError, read_amount
from resolver.usage.models import CURRENCIES
from resolver.usage.sharing import (
    MAX_POLICIES,
    MEASURE_TOTAL,
    MEASURES,
    MISSING_MEDIAN,
    MISSING_RULES,
    PERIOD_PREVIOUS_YEAR,
    PERIODS,
    SIZE_MEASURES,
    SIZE_STUDENTS,
    Policy,
    PolicyError,
    preset,
)

__all__ = ["KINDS", "SLOTS", "WhatIf", "policy_title", "read_what_if", "read_year"]

#: the kinds of policy a column can be
KINDS = ("equal", "use", "size", "hybrid")
#: the columns of the comparison
SLOTS = tuple(range(1, MAX_POLICIES + 1))
#: the columns a first visit compares (the issue's "equal / by-use / hybrid")
DEFAULT_KINDS = ("equal", "use", "hybrid")
#: a hybrid column's weights (%) until someone changes them: the preset's 40 % + 60 %
DEFAULT_WEIGHTS = {"equal": "40", "use": "60", "size": "0"}
#: longest value read from any parameter: every real one is far shorter
MAX_PARAM = 40
FIRST_YEAR, LAST_YEAR = 1990, 2100
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
#: the ``annualise`` parameter's values: the policy's ``annualise`` field
ANNUALISE = {"yes": True, "no": False}


@dataclass
class WhatIf:
    """What the form asked for (``values``: the texts, to show the form again as typed),
    the policies it makes (one per non-empty column, with its column number and kind) and
    the problems found (in the reader's language)."""

    package: str
    year: int
    currency: str | None
    values: dict[str, str]
    policies: list[tuple[int, str, Policy]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: the kind each column asked for ("" for none), to show the form again
    chosen: dict[int, str] = field(default_factory=dict)


def read_year(text: str | None, default: int) -> int | None:
    """A year from 1990 to 2100 (``default`` when not given), None when not one."""
    text = (text or "").strip()
    if not text:
        return default
    if len(text) != 4 or not text.isdigit():
        return None
    year = int(text)
    return year if FIRST_YEAR <= year <= LAST_YEAR else None


def _text(args: Mapping[str, str], name: str, default: str = "") -> str:
    value = args.get(name)
    return default if value is None else str(value).strip()[:MAX_PARAM + 1]


def _percent(text: str, label: str, lang: str, problems: list[str]) -> Decimal | None:
    """A percentage 0..100 as a fraction (None when empty or unreadable; the problem added)."""
    if not text:
        return None
    try:
        value = read_amount(text, lang)
    except AmountError:
        value = Decimal(-1)
    if not 0 <= value <= 100:
        problems.append(_("%(field)s: “%(value)s” is not a percentage from 0 to 100.",
                          field=label, value=text))
        return None
    return value / 100


def _amount(text: str, label: str, lang: str, problems: list[str]) -> Decimal | None:
    if not text:
        return None
    try:
        return read_amount(text, lang)
    except AmountError:
        problems.append(_("%(field)s: “%(value)s” is not an amount (write it like "
                          "%(example)s).", field=label, value=text,
                          example="23.400,50" if lang == "vi" else "23,400.50"))
        return None


def _choice(args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str,
            label: str, problems: list[str]) -> str:
    value = _text(args, name, default) or default
    if value not in choices:
        problems.append(_("%(field)s: “%(value)s” is not one of the choices.", field=label,
                          value=value[:MAX_PARAM]))
        return default
    return value


def _common(args: Mapping[str, str], lang: str, problems: list[str]) -> dict[str, Any]:
    """What every column's policy shares, as :class:`Policy` fields."""
    common: dict[str, Any] = {
        "measure": _choice(args, "measure", MEASURES, MEASURE_TOTAL, _("Use measure"),
                           problems),
        "period": _choice(args, "period", PERIODS, PERIOD_PREVIOUS_YEAR, _("Use period"),
                          problems),
        "size_measure": _choice(args, "size_measure", SIZE_MEASURES, SIZE_STUDENTS,
                                _("Size measure"), problems),
        "missing": _choice(args, "missing", MISSING_RULES, MISSING_MEDIAN,
                           _("Members without data"), problems),
        "annualise": ANNUALISE[_choice(args, "annualise", tuple(ANNUALISE), "yes",
                                       _("Members entitled part of the use period"),
                                       problems)],
    }
    period_end = _text(args, "period_end")
    if period_end:
        if _MONTH.fullmatch(period_end):
            common["period_end"] = period_end
        else:
            problems.append(_("%(field)s: “%(value)s” is not a month (YYYY-MM).",
                              field=_("Last month of the use period"), value=period_end))
    sponsor = _percent(_text(args, "sponsor"), _("Sponsor's share"), lang, problems)
    sponsor_amount = _amount(_text(args, "sponsor_amount"), _("Sponsor's amount"), lang,
                             problems)
    if sponsor and sponsor_amount:
        problems.append(_("The sponsor pays a share or an amount, not both: clear one."))
    elif sponsor_amount:
        common["sponsor_amount"] = sponsor_amount
    elif sponsor:
        common["sponsor_fraction"] = sponsor
    floor = _amount(_text(args, "floor"), _("Floor"), lang, problems)
    if floor:
        common["floor"] = floor
    cap = _percent(_text(args, "cap"), _("Cap"), lang, problems)
    if cap:
        common["cap"] = cap
    smoothing = _percent(_text(args, "smoothing"), _("Smoothing"), lang, problems)
    if smoothing:
        common["smoothing"] = smoothing
    return common


def _kind_label(kind: str) -> str:
    return str({"equal": _("Equal shares"), "use": _("By use"), "size": _("By size"),
                "hybrid": _("Hybrid")}[kind])


def _hybrid_name(weights: Mapping[str, Decimal]) -> str:
    return str(_("Hybrid %(equal)s/%(use)s/%(size)s", **{
        k: f"{(weights[k] * 100).normalize():f}" for k in ("equal", "use", "size")}))


def policy_title(policy: Policy) -> str:
    """A policy's name on a page: the name people gave it, or, for one named by its kind
    (this form and the command line's ``--policy use`` do so, so that a statement printed in
    either language names the adopted policy in that language), the kind in the reader's
    language, with a hybrid's weights."""
    if policy.name and policy.name not in KINDS:
        return policy.name
    if policy.kind == "hybrid":
        return _hybrid_name({"equal": policy.equal, "use": policy.use, "size": policy.size})
    return _kind_label(policy.kind)


def _slot(args: Mapping[str, str], slot: int, first: bool, common: dict[str, Any], lang: str,
          problems: list[str]) -> tuple[int, str, Policy] | None:
    default = DEFAULT_KINDS[slot - 1] if first else ""
    kind = _text(args, f"p{slot}", default)
    if not kind:
        return None
    label = _("Policy %(n)s", n=slot)
    if kind not in KINDS:
        problems.append(_("%(field)s: “%(value)s” is not one of the choices.", field=label,
                          value=kind[:MAX_PARAM]))
        return None
    found: list[str] = []
    try:
        if kind != "hybrid":
            # named by its kind: a page shows it in the reader's language (policy_title)
            return slot, kind, preset(kind, **common, name=kind)
        weights: dict[str, Decimal] = {}
        for part in ("equal", "use", "size"):
            text = _text(args, f"p{slot}_{part}", DEFAULT_WEIGHTS[part]) or "0"
            weights[part] = _percent(text, label, lang, found) or Decimal(0)
        if found:
            problems.extend(found)
            return None
        if sum(weights.values()) != 1:
            problems.append(_("%(field)s: the weights of a hybrid policy add up to 100 %%.",
                              field=label))
            return None
        return slot, kind, Policy(equal=weights["equal"], use=weights["use"],
                                  size=weights["size"], **common, name=kind)
    except PolicyError as exc:
        problems.append(f"{label}: {exc.message(_)}")
        return None


def read_what_if(args: Mapping[str, str], lang: str, today: dt.date) -> WhatIf:
    """The what-if form's parameters (``args``: the query string) read for a page in
    ``lang``; a first visit (no parameter at all) compares :data:`DEFAULT_KINDS`."""
    problems: list[str] = []
    package = _text(args, "package").lower()
    if package and (len(package) > MAX_PARAM or not CODE_RE.match(package)):
        problems.append(_("Package code: lower-case letters, digits, '.', '_' or '-'."))
        package = ""
    year = read_year(_text(args, "year"), today.year)
    if year is None:
        problems.append(_("The year must be between 1990 and 2100."))
        year = today.year
    currency = _text(args, "currency").upper() or None
    if currency is not None and currency not in CURRENCIES:
        problems.append(_("Unknown currency."))
        currency = None
    first = not any(f"p{s}" in args for s in SLOTS)
    common = _common(args, lang, problems)
    policies = []
    chosen = {}
    for slot in SLOTS:
        chosen[slot] = _text(args, f"p{slot}", DEFAULT_KINDS[slot - 1] if first else "")
        got = _slot(args, slot, first, common, lang, problems)
        if got is not None:
            policies.append(got)
    if not policies and not problems:
        problems.append(_("Choose at least one policy to compare."))
    values = {k: _text(args, k)[:MAX_PARAM] for k in args}
    return WhatIf(package, year, currency, values, policies, problems, chosen)
