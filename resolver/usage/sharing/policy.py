"""A cost-sharing policy: how a package's yearly cost is split among its members (pure).

A :class:`Policy` is a weighted mix of three *components* whose weights sum to 1:

* **equal** — every member the same (pro rata by months of entitlement);
* **use** — in proportion to a use figure: COUNTER ``Unique_Item_Requests`` or
  ``Total_Item_Requests`` (journal and book views, ``TR_J1`` + ``TR_B1``), or the resolver's
  full-text clicks; over the previous calendar year or the 12 months ending at a month;
* **size** — in proportion to *points* from a tier table on a size measure (students, or
  researchers/FTE): a member gets the points of the highest tier whose lower bound it reaches.

and the adjustments applied in this order (:mod:`resolver.usage.sharing.allocate` says why):
a **sponsor** contribution paid centrally before the split (an amount in the allocation's
currency, or a fraction of the total), a per-member **floor** (an amount, pro rata by months)
and **cap** (a fraction of the members' total), **smoothing** (a limit on the change from last
year's amount, as a fraction of it) and the rule for a member **without use (or size) data**:
the median of the others' figures (default), their mean, or "equal" (that member's use share
is its equal share). A member is never silently given zero.

With ``annualise`` (the default for new policies), the use of a member entitled for only part
of the use period is scaled to twelve months — use × 12 / months entitled in the period — so a
member that joined in July is not charged for half a year's use next year; with fewer than
:data:`MIN_ANNUALISE_MONTHS` months its use counts as missing (the missing rule applies), since
a month or two says little about a year. A member with use but no entitlement recorded in the
period is counted on its use as it is: the records do not say how long it had access.

Policies are stored as JSON (:meth:`Policy.to_dict` / :meth:`Policy.from_dict`, a lossless
round trip: every number is a decimal string) in the adopted-policy table, so a statement
printed years later shows the rule as it was adopted. A stored policy without ``annualise``
was adopted before the option existed, when use was never annualised: it reads back as
``annualise=False``, so its statement is reproduced as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DEFAULT_TIERS",
    "MEASURES",
    "MEASURE_CLICKS",
    "MEASURE_TOTAL",
    "MEASURE_UNIQUE",
    "MISSING_EQUAL",
    "MISSING_MEAN",
    "MISSING_MEDIAN",
    "MISSING_RULES",
    "MIN_ANNUALISE_MONTHS",
    "PERIODS",
    "PERIOD_PREVIOUS_YEAR",
    "PERIOD_ROLLING_12",
    "SIZE_FTE",
    "SIZE_MEASURES",
    "SIZE_STUDENTS",
    "Policy",
    "PolicyError",
    "SizeTier",
    "preset",
]

#: use measures: the COUNTER metric names, and the resolver's full-text clicks
MEASURE_UNIQUE = "Unique_Item_Requests"
MEASURE_TOTAL = "Total_Item_Requests"
MEASURE_CLICKS = "clicks"
MEASURES = (MEASURE_UNIQUE, MEASURE_TOTAL, MEASURE_CLICKS)

#: use periods: the calendar year before the allocation's year, or 12 months ending at a month
PERIOD_PREVIOUS_YEAR = "previous_year"
PERIOD_ROLLING_12 = "rolling_12"
PERIODS = (PERIOD_PREVIOUS_YEAR, PERIOD_ROLLING_12)

#: size measures (:class:`resolver.registry.models.InstitutionSize` columns)
SIZE_STUDENTS = "students"
SIZE_FTE = "fte"
SIZE_MEASURES = (SIZE_STUDENTS, SIZE_FTE)

#: what a member without data is given: the others' median, their mean, or its equal share
MISSING_MEDIAN = "median"
MISSING_MEAN = "mean"
MISSING_EQUAL = "equal"
MISSING_RULES = (MISSING_MEDIAN, MISSING_MEAN, MISSING_EQUAL)

#: fewest months of entitlement in the use period from which use is annualised (below: missing)
MIN_ANNUALISE_MONTHS = 3

_MONTH = re.compile(r"\d{4}-\d{2}")
_ONE = Decimal(1)


class PolicyError(ValueError):
    """A policy (or an allocation asked of it) that cannot be, with why.

    ``template`` is an English message id with ``%(name)s`` placeholders (marked for the
    catalogue where it is written); :meth:`message` passes it through a ``translate``
    function (Flask-Babel's ``gettext`` on a page), as :mod:`resolver.registry.schedule`
    does with its errors."""

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(self.message())

    def message(self, translate: Any = None) -> str:
        """The reason in the reader's language (``translate``: message id -> text)."""
        text = translate(self.template) if translate is not None else self.template
        return str(text) % self.values


def N_(message: str) -> str:
    """Marks a message for the catalogue (``pybabel extract`` reads ``N_``)."""
    return message


@dataclass(frozen=True, order=True)
class SizeTier:
    """Members whose size measure is at least ``lower`` get ``points`` (the highest tier
    they reach)."""

    lower: int
    points: Decimal


#: students (or FTE): below 5,000 one point, then 2, 3 and 4 points
DEFAULT_TIERS: tuple[SizeTier, ...] = (
    SizeTier(0, Decimal(1)), SizeTier(5000, Decimal(2)),
    SizeTier(15000, Decimal(3)), SizeTier(40000, Decimal(4)),
)


def _dec(value: object, name: str) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise PolicyError(N_("%(name)s is not a number: %(value)s"), name=name,
                          value=str(value)) from exc
    if not d.is_finite():
        raise PolicyError(N_("%(name)s is not a number: %(value)s"), name=name,
                          value=str(value))
    return d


@dataclass(frozen=True)
class Policy:
    """How a package's cost is shared (see the module docstring).

    Weights (``equal`` + ``use`` + ``size``) are fractions summing to exactly 1
    (``Decimal("0.4")`` + ``Decimal("0.6")``). Every field has a default, so
    ``Policy(use=Decimal(1))`` is "all by use, previous year's Total_Item_Requests".

    Fields:

    * ``equal``, ``use``, ``size`` — component weights (Decimal, each 0..1, sum 1);
    * ``measure`` — one of :data:`MEASURES` (the use figure; also the "downloads" of
      cost per download, whatever the weights);
    * ``period`` — :data:`PERIOD_PREVIOUS_YEAR` (Jan–Dec of the year before) or
      :data:`PERIOD_ROLLING_12` (the 12 months ending at ``period_end``, "YYYY-MM";
      without one, the last month before the allocation's year);
    * ``size_measure`` — :data:`SIZE_STUDENTS` or :data:`SIZE_FTE`; ``tiers`` — the
      tier table, lower bounds strictly increasing from 0;
    * ``sponsor_amount`` — paid centrally, in the allocation's currency (major units,
      e.g. ``Decimal("1000.50")`` USD); or ``sponsor_fraction`` — a fraction of the total
      (``Decimal("0.5")`` = 50 %); at most one of the two;
    * ``floor`` — least a member pays for a full year, in the allocation's currency (major
      units; pro rata by months); ``cap`` — most a member pays, as a fraction of the
      members' total (``Decimal("0.35")``);
    * ``smoothing`` — most a member's amount may change from last year's (fraction of last
      year's amount, ``Decimal("0.2")`` = ±20 %);
    * ``missing`` — for a member without use (or size) data: :data:`MISSING_MEDIAN`,
      :data:`MISSING_MEAN` or :data:`MISSING_EQUAL`;
    * ``pro_rata`` — members entitled part of the year pay by months (default True);
    * ``annualise`` — the use of a member entitled part of the *use period* is scaled to
      twelve months (default True; stored policies without it read as False, see the module
      docstring);
    * ``name`` — a label people gave it ("hybrid 40/60"); not part of the rule.
    """

    equal: Decimal = Decimal(0)
    use: Decimal = Decimal(0)
    size: Decimal = Decimal(0)
    measure: str = MEASURE_TOTAL
    period: str = PERIOD_PREVIOUS_YEAR
    period_end: str | None = None
    size_measure: str = SIZE_STUDENTS
    tiers: tuple[SizeTier, ...] = field(default=DEFAULT_TIERS)
    sponsor_amount: Decimal | None = None
    sponsor_fraction: Decimal | None = None
    floor: Decimal | None = None
    cap: Decimal | None = None
    smoothing: Decimal | None = None
    missing: str = MISSING_MEDIAN
    pro_rata: bool = True
    annualise: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        for name in ("equal", "use", "size"):
            w = _dec(getattr(self, name), name)
            if not 0 <= w <= 1:
                raise PolicyError(N_("the weight %(name)s must be between 0 and 1"), name=name)
            object.__setattr__(self, name, w)
        if self.equal + self.use + self.size != _ONE:
            raise PolicyError(N_("the weights must sum to 1 (they sum to %(sum)s)"),
                              sum=str(self.equal + self.use + self.size))
        if self.measure not in MEASURES:
            raise PolicyError(N_("unknown use measure: %(value)s"), value=self.measure)
        if self.period not in PERIODS:
            raise PolicyError(N_("unknown use period: %(value)s"), value=self.period)
        if self.period_end is not None and not (
                _MONTH.fullmatch(self.period_end) and 1 <= int(self.period_end[5:]) <= 12):
            raise PolicyError(N_("the end of the use period is a month, YYYY-MM: %(value)s"),
                              value=self.period_end)
        if self.size_measure not in SIZE_MEASURES:
            raise PolicyError(N_("unknown size measure: %(value)s"), value=self.size_measure)
        tiers = tuple(SizeTier(int(t.lower), _dec(t.points, "points")) for t in self.tiers)
        if not tiers or tiers[0].lower != 0 or any(
                b.lower <= a.lower for a, b in zip(tiers, tiers[1:], strict=False)):
            raise PolicyError(N_("size tiers start at 0 and their lower bounds increase"))
        if any(t.points <= 0 for t in tiers):
            raise PolicyError(N_("size tiers give more than 0 points"))
        object.__setattr__(self, "tiers", tiers)
        if self.sponsor_amount is not None and self.sponsor_fraction is not None:
            raise PolicyError(N_("a sponsor pays an amount or a share, not both"))
        for name in ("sponsor_amount", "sponsor_fraction", "floor", "cap", "smoothing"):
            value = getattr(self, name)
            if value is None:
                continue
            d = _dec(value, name)
            if d < 0:
                raise PolicyError(N_("%(name)s cannot be negative"), name=name)
            object.__setattr__(self, name, d)
        if self.sponsor_fraction is not None and self.sponsor_fraction > 1:
            raise PolicyError(N_("the sponsor's share is a fraction from 0 to 1"))
        if self.cap is not None and not 0 < self.cap <= 1:
            raise PolicyError(N_("the cap is a fraction of the members' total, above 0 and "
                                 "at most 1"))
        if self.missing not in MISSING_RULES:
            raise PolicyError(N_("unknown rule for missing data: %(value)s"), value=self.missing)
        if not isinstance(self.pro_rata, bool) or not isinstance(self.annualise, bool):
            raise PolicyError(N_("pro_rata and annualise are true or false"))

    # --- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: decimals as strings, tiers as ``[[lower, "points"], …]``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "tiers":
                out[f.name] = [[t.lower, str(t.points)] for t in value]
            elif isinstance(value, Decimal):
                out[f.name] = str(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """The policy :meth:`to_dict` wrote (unknown keys are refused, missing ones default;
        a missing ``annualise`` is False: the policy was stored before the option existed)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PolicyError(N_("unknown policy fields: %(fields)s"), fields=", ".join(unknown))
        kwargs: dict[str, Any] = {"annualise": False}
        for key, value in data.items():
            if key == "tiers":
                kwargs[key] = tuple(SizeTier(int(lo), _dec(pts, "points")) for lo, pts in value)
            elif key in ("equal", "use", "size", "sponsor_amount", "sponsor_fraction",
                         "floor", "cap", "smoothing") and value is not None:
                kwargs[key] = _dec(value, key)
            else:
                kwargs[key] = value
        return cls(**kwargs)

    # --- reading ----------------------------------------------------------------------------

    def points(self, size: int) -> Decimal:
        """The points of the highest tier ``size`` reaches."""
        got = self.tiers[0].points
        for t in self.tiers:
            if size >= t.lower:
                got = t.points
        return got

    def use_months(self, year: int) -> tuple[dt.date, dt.date]:
        """First and last month (first days) of the use period for an allocation of ``year``."""
        if self.period == PERIOD_PREVIOUS_YEAR:
            return dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 1)
        if self.period_end is None:
            end = dt.date(year - 1, 12, 1)
        else:
            end = dt.date(int(self.period_end[:4]), int(self.period_end[5:]), 1)
        first = end.year * 12 + end.month - 1 - 11
        return dt.date(first // 12, first % 12 + 1, 1), end

    @property
    def kind(self) -> str:
        """``equal``, ``use``, ``size`` (one component) or ``hybrid`` (several)."""
        used = [n for n in ("equal", "use", "size") if getattr(self, n) > 0]
        return used[0] if len(used) == 1 else "hybrid"

    def with_(self, **changes: Any) -> Policy:
        """A copy with ``changes`` (a page's sponsor slider: ``p.with_(sponsor_fraction=…)``)."""
        return replace(self, **changes)


def preset(kind: str, **changes: Any) -> Policy:
    """The named policies of the CLI and the what-if page: ``equal``, ``use``, ``size``, and
    ``hybrid`` (40 % equal + 60 % by use), with ``changes`` applied."""
    weights = {
        "equal": {"equal": Decimal(1), "use": Decimal(0), "size": Decimal(0)},
        "use": {"equal": Decimal(0), "use": Decimal(1), "size": Decimal(0)},
        "size": {"equal": Decimal(0), "use": Decimal(0), "size": Decimal(1)},
        "hybrid": {"equal": Decimal("0.4"), "use": Decimal("0.6"), "size": Decimal(0)},
    }
    if kind not in weights:
        raise PolicyError(N_("unknown policy: %(value)s"), value=kind)
    return Policy(**{**weights[kind], "name": kind, **changes})
