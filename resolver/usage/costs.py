"""Package costs and cost per download.

Definitions (:func:`cost_per_download_yearly`, :func:`cost_per_download_monthly`):

* a package's cost for a year is the sum of its :class:`PackageCost` rows of that year in
  one currency: the consortium-wide amount plus every member's own amount;
* *downloads* are COUNTER ``Total_Item_Requests`` from the journal and book views
  (``TR_J1`` + ``TR_B1``: disjoint, so nothing is counted twice; a package that only sends
  ``TR`` or ``DR`` is reported with ``reports=("TR",)`` or ``("DR",)``), or, with
  ``source="clicks"``, the resolver's subscription full-text clicks;
* **yearly**: cost of the year / downloads in the year;
* **monthly, running**: the yearly cost accrues evenly, one twelfth a month, so in month
  *m* ``cost to date = cost × m / 12`` and the running figure is cost to date / downloads
  from January to *m*. December's running figure equals the yearly one, and the same month
  of two years compares like with like (year over year);
* **monthly, in the month**: (cost / 12) / downloads in that month;
* **per member**: the member's own cost rows over the member's own downloads of that
  package. A consortium-wide cost is not shared out among members (any key would be a
  policy choice); it shows in the per-package figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.usage.amounts import LARGEST, PLACES, read_machine_amount
from resolver.usage.counts import DOWNLOAD_METRIC, DOWNLOAD_REPORTS, clicks, counter_downloads
from resolver.usage.models import CURRENCIES, PackageCost
from resolver.usage.rollup import MonthCount, month_start

__all__ = [
    "CostMonth",
    "CostYear",
    "cost_per_download_monthly",
    "cost_per_download_yearly",
    "set_cost",
]


def set_cost(session: Session, package: str, year: int, amount: Decimal | str | float, *,
             institution: str | None = None, currency: str = "USD", note: str = "") -> None:
    """Set (insert or replace) a package's cost for a year (the caller commits).

    A text ``amount`` is in the machine form ("12000.50", see :mod:`resolver.usage.amounts`;
    forms read what people type with :func:`~resolver.usage.amounts.read_amount` first);
    more than two decimals is refused rather than rounded away by the column."""
    currency = currency.upper()
    if currency not in CURRENCIES:
        raise ValueError(f"currency must be one of {', '.join(CURRENCIES)}")
    value = read_machine_amount(amount) if isinstance(amount, str) else Decimal(str(amount))
    if not value.is_finite() or value >= LARGEST:
        raise ValueError("a cost is a number below 10^14")
    if value < 0:
        raise ValueError("a cost cannot be negative")
    if value != value.quantize(Decimal(1).scaleb(-PLACES)):
        raise ValueError(f"a cost has at most {PLACES} decimals")
    row = session.execute(select(PackageCost).where(
        PackageCost.package == package, PackageCost.year == year,
        PackageCost.currency == currency,
        PackageCost.institution.is_(None) if institution is None
        else PackageCost.institution == institution)).scalar_one_or_none()
    if row is None:
        session.add(PackageCost(package=package, year=year, amount=value, currency=currency,
                                institution=institution, note=note))
    else:
        row.amount, row.note = value, note or row.note


@dataclass(frozen=True)
class CostYear:
    year: int
    package: str
    institution: str | None  # None: the package as a whole (per-package report)
    currency: str
    cost: Decimal
    downloads: int
    cost_per_download: Decimal | None
    #: change of cost per download from the year before (fraction, 0.1 = +10 %)
    change: Decimal | None = None


@dataclass(frozen=True)
class CostMonth:
    month: dt.date
    package: str
    institution: str | None
    currency: str
    downloads: int
    downloads_to_date: int
    cost_to_date: Decimal
    cost_per_download_to_date: Decimal | None
    cost_per_download_in_month: Decimal | None


_PLACES = Decimal("0.0001")

#: (year, package, institution or None, currency)
_CostKey = tuple[int, str, str | None, str]


def _div(a: Decimal, b: int) -> Decimal | None:
    return (a / b).quantize(_PLACES, ROUND_HALF_UP) if b else None


def _check(by: str, institutions: Sequence[str] | None) -> None:
    if by not in ("package", "institution"):
        raise ValueError("by is 'package' or 'institution'")
    if by == "package" and institutions is not None:
        # A package's figures are the whole consortium's: a member's share of them would
        # be a policy choice (see the module docstring).
        raise ValueError("per-package costs cannot be restricted to institutions; "
                         "use by='institution'")


def _costs(session: Session, years: Iterable[int], by: str, packages: Sequence[str] | None,
           institutions: Sequence[str] | None) -> dict[_CostKey, Decimal]:
    """(year, package, institution or None, currency) -> amount, as the report groups."""
    stmt = select(PackageCost.year, PackageCost.package, PackageCost.institution,
                  PackageCost.currency, PackageCost.amount).where(
        PackageCost.year.in_(list(years)))
    if packages is not None:
        stmt = stmt.where(PackageCost.package.in_(list(packages)))
    if institutions is not None:
        stmt = stmt.where(PackageCost.institution.in_(list(institutions)))
    out: dict[_CostKey, Decimal] = defaultdict(Decimal)
    for year, pkg, inst, cur, amount in session.execute(stmt):
        if by == "package":
            out[(year, pkg, None, cur)] += Decimal(amount)
        elif inst is not None:  # per member: only the member's own cost
            out[(year, pkg, inst, cur)] += Decimal(amount)
    return out


def _downloads(session: Session, start: dt.date, end: dt.date, by: str, source: str,
               metric: str, reports: Sequence[str], packages: Sequence[str] | None,
               institutions: Sequence[str] | None) -> list[MonthCount]:
    dims = ("package",) if by == "package" else ("institution", "package")
    if source == "clicks":
        return clicks(session, start=start, end=end, by=dims, kinds=["fulltext"],
                      packages=packages, institutions=institutions)
    if source != "counter":
        raise ValueError("source is 'counter' or 'clicks'")
    return counter_downloads(session, start=start, end=end, by=dims, metric=metric,
                             reports=reports, packages=packages, institutions=institutions)


def cost_per_download_yearly(
    session: Session, *, years: Sequence[int], by: str = "package", source: str = "counter",
    metric: str = DOWNLOAD_METRIC, reports: Sequence[str] = DOWNLOAD_REPORTS,
    packages: Sequence[str] | None = None, institutions: Sequence[str] | None = None,
) -> list[CostYear]:
    """Cost per download per package (``by="package"``) or per member and package
    (``by="institution"``, optionally only the members ``institutions``) for each year,
    with the change from the year before. Definitions in the module docstring."""
    _check(by, institutions)
    years = sorted(set(years))
    if not years:
        return []
    costs = _costs(session, years, by, packages, institutions)
    if not costs:
        return []
    counts: dict[tuple[int, str, str | None], int] = defaultdict(int)
    for r in _downloads(session, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 1), by,
                        source, metric, reports, sorted({k[1] for k in costs}), institutions):
        if r.month.year in years:
            counts[(r.month.year, r.package or "", r.institution)] += r.count
    out: list[CostYear] = []
    previous: dict[tuple[str, str | None, str], Decimal | None] = {}
    for (year, pkg, inst, cur), cost in sorted(costs.items(), key=lambda kv: (
            kv[0][1], kv[0][2] or "", kv[0][3], kv[0][0])):
        n = counts.get((year, pkg, inst), 0)
        cpd = _div(cost, n)
        prev = previous.get((pkg, inst, cur)) if (year - 1) in years else None
        change = ((cpd - prev) / prev).quantize(_PLACES, ROUND_HALF_UP) if (
            cpd is not None and prev) else None
        out.append(CostYear(year, pkg, inst, cur, cost, n, cpd, change))
        previous[(pkg, inst, cur)] = cpd
    return sorted(out, key=lambda r: (r.year, r.package, r.institution or "", r.currency))


def cost_per_download_monthly(
    session: Session, *, years: Sequence[int], by: str = "package", source: str = "counter",
    metric: str = DOWNLOAD_METRIC, reports: Sequence[str] = DOWNLOAD_REPORTS,
    packages: Sequence[str] | None = None, until: dt.date | None = None,
    institutions: Sequence[str] | None = None,
) -> list[CostMonth]:
    """Month by month, for each year in ``years``: downloads, running cost per download and
    cost per download in the month (definitions in the module docstring). Months after
    ``until`` (default: this month) are left out; several years give the year-over-year
    view. ``institutions`` (with ``by="institution"``) keeps only those members."""
    _check(by, institutions)
    years = sorted(set(years))
    if not years:
        return []
    until = month_start(until or dt.date.today())
    costs = _costs(session, years, by, packages, institutions)
    if not costs:
        return []
    counts: dict[tuple[dt.date, str, str | None], int] = defaultdict(int)
    for r in _downloads(session, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 1), by,
                        source, metric, reports, sorted({k[1] for k in costs}), institutions):
        counts[(r.month, r.package or "", r.institution)] += r.count
    out: list[CostMonth] = []
    for (year, pkg, inst, cur), cost in sorted(costs.items(), key=lambda kv: (
            kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])):
        to_date = 0
        for m in range(1, 13):
            month = dt.date(year, m, 1)
            if month > until:
                break
            n = counts.get((month, pkg, inst), 0)
            to_date += n
            cost_to_date = (cost * m / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
            out.append(CostMonth(month, pkg, inst, cur, n, to_date, cost_to_date,
                                 _div(cost * m / 12, to_date), _div(cost / 12, n)))
    return out
