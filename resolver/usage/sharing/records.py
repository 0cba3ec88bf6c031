"""What cost sharing keeps in the database: exchange rates, institution sizes, adopted
policies (I/O). Every setter adds to the caller's session; the caller commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.registry.models import Institution, InstitutionSize
from resolver.usage.models import CostShare, ExchangeRate
from resolver.usage.sharing.allocate import Allocation
from resolver.usage.sharing.policy import N_, SIZE_FTE, SIZE_MEASURES, Policy, PolicyError

__all__ = [
    "Adopted",
    "Size",
    "adopted",
    "adopted_history",
    "rate",
    "set_rate",
    "set_size",
    "sizes",
]


# --- exchange rates -----------------------------------------------------------------------------

def set_rate(session: Session, year: int, vnd_per_usd: Decimal | str | int, *,
             recorded_by: str = "") -> Decimal:
    """Record (or replace) the year's rate in VND per USD (e.g. ``25400``); returns it.
    Raises :class:`PolicyError` for a rate that is not a positive number."""
    try:
        value = Decimal(str(vnd_per_usd).replace(",", "").replace("_", ""))
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0 or value >= Decimal("1e10") or \
            value != value.quantize(Decimal("0.0001")):
        raise PolicyError(N_("An exchange rate is a positive number of VND per USD with at "
                             "most four decimals: %(value)s"), value=str(vnd_per_usd))
    row = session.get(ExchangeRate, year)
    if row is None:
        session.add(ExchangeRate(year=year, vnd_per_usd=value, recorded_by=recorded_by))
    else:
        row.vnd_per_usd, row.recorded_by = value, recorded_by
    return value


def rate(session: Session, year: int) -> Decimal | None:
    """The year's rate in VND per USD, or None when not recorded."""
    row = session.get(ExchangeRate, year)
    return None if row is None else Decimal(row.vnd_per_usd)


# --- institution sizes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Size:
    """An institution's size figure as used: the measure's value and the year reported."""

    institution: str
    value: int
    year: int


def set_size(session: Session, institution: str, year: int, *, students: int | None = None,
             fte: int | None = None, recorded_by: str = "") -> None:
    """Record an institution's students and/or researchers (FTE) for a reporting year; a
    figure not given keeps what was recorded. Raises :class:`PolicyError` for an unknown
    institution or a negative figure."""
    inst = session.scalar(select(Institution).where(Institution.code == institution))
    if inst is None:
        raise PolicyError(N_("No institution %(code)s in the registry."), code=institution)
    for figure in (students, fte):
        if figure is not None and figure < 0:
            raise PolicyError(N_("A size cannot be negative."))
    row = session.scalar(select(InstitutionSize).where(
        InstitutionSize.institution_id == inst.id, InstitutionSize.year == year))
    if row is None:
        row = InstitutionSize(institution_id=inst.id, year=year)
        session.add(row)
    if students is not None:
        row.students = students
    if fte is not None:
        row.fte = fte
    row.recorded_by = recorded_by


def sizes(session: Session, year: int, measure: str,
          institutions: list[str] | None = None) -> dict[str, Size]:
    """Per institution code: its latest figure of ``measure`` (``students`` or ``fte``)
    reported for ``year`` or before (institutions that never reported it are absent)."""
    if measure not in SIZE_MEASURES:
        raise ValueError(f"size measure is one of {SIZE_MEASURES}")
    column = InstitutionSize.fte if measure == SIZE_FTE else InstitutionSize.students
    stmt = (select(Institution.code, InstitutionSize.year, column)
            .join(Institution, Institution.id == InstitutionSize.institution_id)
            .where(InstitutionSize.year <= year, column.is_not(None))
            .order_by(InstitutionSize.year))
    if institutions is not None:
        stmt = stmt.where(Institution.code.in_(institutions))
    out: dict[str, Size] = {}
    for code, reported, value in session.execute(stmt):
        if value is not None:  # the query asks for figures reported; later years overwrite
            out[code] = Size(code, int(value), int(reported))
    return out


# --- adopted policies ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Adopted:
    """A policy adopted for a package and year, with the allocation it gave then."""

    id: int
    package: str
    year: int
    currency: str
    total: int
    policy: Policy
    allocation: Allocation
    adopted_by: str
    adopted_at: dt.datetime


def _adopted(row: CostShare) -> Adopted:
    return Adopted(row.id, row.package, row.year, row.currency, int(row.total),
                   Policy.from_dict(row.policy), Allocation.from_dict(row.allocation),
                   row.adopted_by, row.adopted_at)


def adopted(session: Session, package: str, year: int) -> Adopted | None:
    """The package's adopted policy for the year (the latest adoption), or None."""
    row = session.scalar(select(CostShare).where(
        CostShare.package == package, CostShare.year == year).order_by(
        CostShare.id.desc()).limit(1))
    return None if row is None else _adopted(row)


def adopted_history(session: Session, package: str) -> list[Adopted]:
    """Every adoption for the package, newest first."""
    rows = session.scalars(select(CostShare).where(CostShare.package == package).order_by(
        CostShare.year.desc(), CostShare.id.desc()))
    return [_adopted(r) for r in rows]


def store(session: Session, package: str, year: int, allocation: Allocation,
          adopted_by: str) -> CostShare:
    row = CostShare(package=package, year=year, currency=allocation.currency,
                    total=allocation.total, policy=allocation.policy.to_dict(),
                    allocation=allocation.to_dict(), adopted_by=adopted_by)
    session.add(row)
    session.flush()
    return row
