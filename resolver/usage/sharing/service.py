"""Cost sharing against the database: gather a package's inputs for a year, compare policies,
adopt one (audited) (I/O around the pure :func:`~resolver.usage.sharing.allocate.allocate`).

Inputs of a package and year (:func:`gather`):

* **the total** — the package's consortium-wide cost for the year (``package_cost`` rows with
  no institution; a member's own cost rows are its own business, see
  :mod:`resolver.usage.costs`), converted to the allocation's currency with the year's rate
  when they differ; or a ``total`` the caller gives (the what-if page's "what if it cost…");
* **the members** — institutions entitled to the package on the first day of at least one
  month of the year, with those months (:mod:`resolver.usage.sharing.months`), and the
  months of the policy's use period they were entitled, by the same rule from the same
  entitlements (start and end dates are kept, so a past period's months are known): a policy
  that annualises scales the use of a member entitled only part of that period;
* **use** — the policy's measure over the policy's period: COUNTER figures from the journal
  and book views (``TR_J1`` + ``TR_B1``; a member that sent only ``TR``, or only ``DR``, is
  counted from that), or the resolver's subscription full-text clicks. A member with no
  figure at all in the period has *no data* (the policy's missing rule applies); with clicks,
  no click in a whole period counts as no data too;
* **sizes** — the latest figure reported for the year or before (registry);
* **last year** — the amounts of last year's adopted policy, converted to this currency with
  last year's rate (this year's when last year has none).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.accounts.auth import audit_entry, institution_scope
from resolver.accounts.models import AdminUser
from resolver.kb.models import SUBSCRIPTION, Entitlement, Package
from resolver.registry.models import Institution
from resolver.usage.counts import DOWNLOAD_REPORTS, clicks, counter_downloads
from resolver.usage.models import CURRENCIES, PackageCost
from resolver.usage.sharing.allocate import Allocation, Member, Share, allocate
from resolver.usage.sharing.money import convert, to_minor
from resolver.usage.sharing.months import months_entitled, months_entitled_between
from resolver.usage.sharing.policy import MEASURE_CLICKS, N_, Policy, PolicyError
from resolver.usage.sharing.records import Adopted, adopted, rate, sizes, store

__all__ = [
    "MAX_POLICIES",
    "Comparison",
    "ComparisonRow",
    "Inputs",
    "adopt",
    "compare",
    "gather",
    "member_scope",
    "share",
    "shared_packages",
]

#: the what-if page compares at most this many policies side by side
MAX_POLICIES = 3


@dataclass(frozen=True)
class Inputs:
    """Everything :func:`allocate` is given for a package and year, and where it came from.

    ``total`` is in minor units of ``currency``; ``cost`` / ``cost_currency`` is the recorded
    cost it came from (None when the caller gave the total); ``rate`` the year's VND per USD
    (None if not recorded); ``use_start``/``use_end`` the first days of the use period's
    first and last months; ``last`` last year's adopted policy (None if none)."""

    package: str
    package_name: str
    year: int
    currency: str
    total: int
    cost: Decimal | None
    cost_currency: str | None
    rate: Decimal | None
    use_start: dt.date
    use_end: dt.date
    members: tuple[Member, ...]
    last: Adopted | None


def _package(session: Session, package: str) -> Package:
    pkg = session.scalar(select(Package).where(Package.code == package))
    if pkg is None:
        raise PolicyError(N_("No package %(code)s in the knowledge base."), code=package)
    return pkg


Spans = dict[str, list[tuple[dt.date | None, dt.date | None]]]


def _members(session: Session, pkg: Package, year: int,
             spans: Spans | None = None) -> dict[str, tuple[str, int]]:
    """code -> (Vietnamese name, months entitled in ``year``), months >= 1 only; ``spans``,
    when given, receives every institution's entitlement spans of the package."""
    spans = {} if spans is None else spans
    names: dict[str, str] = {}
    for code, name, start, end in session.execute(
            select(Institution.code, Institution.name_vi, Entitlement.start, Entitlement.end)
            .join(Institution, Institution.id == Entitlement.institution_id)
            .where(Entitlement.package_id == pkg.id)):
        spans.setdefault(code, []).append((start, end))
        names[code] = name
    out = {}
    for code, s in spans.items():
        months = months_entitled(year, s)
        if months:
            out[code] = (names[code], months)
    return out


def _use(session: Session, package: str, policy: Policy, year: int,
         codes: list[str]) -> tuple[dict[str, int], dt.date, dt.date]:
    start, end = policy.use_months(year)
    if policy.measure == MEASURE_CLICKS:
        got: dict[str, int] = defaultdict(int)
        for r in clicks(session, start=start, end=end, by=("institution",),
                        kinds=["fulltext"], packages=[package], institutions=codes):
            if r.institution:
                got[r.institution] += r.count
        return {c: n for c, n in got.items() if n > 0}, start, end
    out: dict[str, int] = {}
    for reports in (DOWNLOAD_REPORTS, ("TR",), ("DR",)):
        left = [c for c in codes if c not in out]
        if not left:
            break
        seen: dict[str, int] = defaultdict(int)
        for r in counter_downloads(session, start=start, end=end, by=("institution",),
                                   metric=policy.measure, reports=reports,
                                   packages=[package], institutions=left):
            if r.institution:
                seen[r.institution] += r.count
        out.update(seen)
    return out, start, end


def _total(session: Session, package: str, year: int,
           currency: str | None, year_rate: Decimal | None) -> tuple[int, str, Decimal, str]:
    """(total in minor units of the currency, the currency, cost, cost currency)."""
    rows = session.execute(select(PackageCost.currency, PackageCost.amount).where(
        PackageCost.package == package, PackageCost.year == year,
        PackageCost.institution.is_(None))).all()
    if not rows:
        raise PolicyError(N_("No cost of %(package)s is recorded for %(year)s."),
                          package=package, year=year)
    cost_currency = sorted({r[0] for r in rows})[0] if len({r[0] for r in rows}) == 1 else None
    target = (currency or cost_currency or "USD").upper()
    total = 0
    for cur, amount in rows:
        total += _convert(to_minor(Decimal(amount), cur), cur, target, year_rate, year)
    cost = sum((Decimal(a) for _, a in rows), Decimal(0)) if cost_currency else Decimal(0)
    return total, target, cost, cost_currency or target


def _convert(minor: int, source: str, target: str, vnd_per_usd: Decimal | None,
             year: int) -> int:
    try:
        return convert(minor, source, target, vnd_per_usd)
    except ValueError:
        raise PolicyError(N_("No exchange rate is recorded for %(year)s (lienhop usage rate)."),
                          year=year) from None


def gather(session: Session, package: str, year: int, policy: Policy, *,
           currency: str | None = None, total: int | None = None) -> Inputs:
    """The inputs of ``package`` in ``year`` under ``policy`` (module docstring).

    ``currency`` ("USD" or "VND"; default: the cost's) is the allocation's currency;
    ``total`` (minor units of that currency) replaces the recorded cost. Raises
    :class:`PolicyError` for an unknown package, no cost recorded (and no ``total``), or a
    conversion without a recorded rate."""
    if currency is not None and currency.upper() not in CURRENCIES:
        raise PolicyError(N_("Unknown currency: %(value)s"), value=currency)
    pkg = _package(session, package)
    year_rate = rate(session, year)
    cost: Decimal | None = None
    cost_currency: str | None = None
    if total is None:
        total, cur, cost, cost_currency = _total(session, package, year, currency, year_rate)
    else:
        cur = (currency or "USD").upper()
    spans: Spans = {}
    entitled = _members(session, pkg, year, spans)
    codes = sorted(entitled)
    use, start, end = _use(session, package, policy, year, codes)
    use_months = {c: months_entitled_between(start, end, spans[c]) for c in codes}
    size = sizes(session, year, policy.size_measure, codes)
    last = adopted(session, package, year - 1)
    last_amounts: dict[str, tuple[int, int]] = {}
    if last is not None:
        last_rate = rate(session, year - 1) or year_rate
        for s in last.allocation.shares:
            last_amounts[s.code] = (
                _convert(s.amount, last.currency, cur, last_rate, year - 1), s.months)
    members = tuple(
        Member(code=c, name=entitled[c][0], months=entitled[c][1], use=use.get(c),
               size=size[c].value if c in size else None,
               size_year=size[c].year if c in size else None,
               last_amount=last_amounts[c][0] if c in last_amounts else None,
               last_months=last_amounts[c][1] if c in last_amounts else None,
               use_months=use_months[c])
        for c in codes)
    return Inputs(package, pkg.name, year, cur, total, cost, cost_currency, year_rate, start,
                  end, members, last)


def share(session: Session, package: str, year: int, policy: Policy, *,
          currency: str | None = None, total: int | None = None) -> Allocation:
    """:func:`gather` then :func:`allocate`: what each member of ``package`` pays in
    ``year`` under ``policy``. Raises :class:`PolicyError`."""
    inputs = gather(session, package, year, policy, currency=currency, total=total)
    return allocate(policy, inputs.members, inputs.total, inputs.currency)


@dataclass(frozen=True)
class ComparisonRow:
    """One member's line of a comparison: ``cells[i]`` is its
    :class:`~resolver.usage.sharing.allocate.Share` under ``Comparison.policies[i]``
    (``amount``, ``value``, ``change``, ``change_pct``, ``cost_per_download``), None where
    that policy failed."""

    code: str
    name: str
    months: int
    cells: tuple[Share | None, ...]


@dataclass(frozen=True)
class Comparison:
    """Up to :data:`MAX_POLICIES` policies side by side for one package and year (the
    what-if page's table). ``allocations[i]`` is policy ``i``'s whole allocation, or None
    with ``errors[i]`` the :class:`PolicyError` saying why (shown in place of the column).
    ``rows`` are the members in code order — only the ``institution``'s own line when the
    comparison was asked for one (an institution administrator; the allocations then hold
    only that member's share too, see :meth:`only`); ``institution`` is None for the
    consortium's view. ``inputs`` are the first policy's inputs (total, currency, rate,
    use period, last year's adoption)."""

    package: str
    year: int
    currency: str
    total: int
    policies: tuple[Policy, ...]
    allocations: tuple[Allocation | None, ...]
    errors: tuple[PolicyError | None, ...]
    rows: tuple[ComparisonRow, ...]
    inputs: Inputs
    institution: str | None = None

    def only(self, institution: str | None) -> Comparison:
        """The same comparison with only ``institution``'s line (None: every line): the
        rows, and each allocation's ``shares`` and member notes, keep only that member;
        totals (cost, sponsor, members' total) stay, as a statement shows them."""
        if institution is None:
            return self

        def mine(a: Allocation | None) -> Allocation | None:
            if a is None:
                return None
            return replace(a, shares=tuple(s for s in a.shares if s.code == institution),
                           notes=tuple(n for n in a.notes
                                       if n.member is None or n.member == institution))

        return replace(self, rows=tuple(r for r in self.rows if r.code == institution),
                       allocations=tuple(mine(a) for a in self.allocations),
                       institution=institution)


def compare(session: Session, package: str, year: int, policies: Sequence[Policy], *,
            currency: str | None = None, total: int | None = None,
            institution: str | None = None) -> Comparison:
    """Allocate ``package``'s cost in ``year`` under each of ``policies`` (1 to
    :data:`MAX_POLICIES`). A policy that cannot be applied (floors above the total…) gives
    an error in its column, not an exception; problems common to all (no cost recorded,
    unknown package, missing rate) raise :class:`PolicyError`. ``institution``: only that
    member's line (:meth:`Comparison.only`)."""
    if not 1 <= len(policies) <= MAX_POLICIES:
        raise ValueError(f"compare 1 to {MAX_POLICIES} policies")
    first: Inputs | None = None
    allocations: list[Allocation | None] = []
    errors: list[PolicyError | None] = []
    for policy in policies:
        inputs = gather(session, package, year, policy, currency=currency, total=total)
        first = first or inputs
        try:
            allocations.append(allocate(policy, inputs.members, inputs.total,
                                        inputs.currency))
            errors.append(None)
        except PolicyError as exc:
            allocations.append(None)
            errors.append(exc)
    assert first is not None
    rows = []
    for m in first.members:
        rows.append(ComparisonRow(m.code, m.name, m.months, tuple(
            a.for_member(m.code) if a is not None else None for a in allocations)))
    return Comparison(package, year, first.currency, first.total, tuple(policies),
                      tuple(allocations), tuple(errors), tuple(rows), first).only(institution)


def adopt(session: Session, package: str, year: int, policy: Policy,
          user: AdminUser | None, *, currency: str | None = None, total: int | None = None,
          username: str | None = None, ip: str = "") -> Adopted:
    """Adopt ``policy`` as ``package``'s rule for ``year``: allocate, store the policy and
    the whole allocation, and write an audit-log entry (``usage.share.adopt``) as ``user``
    (or ``username``, e.g. "(command line)"). The caller commits. Raises
    :class:`PolicyError`."""
    allocation = share(session, package, year, policy, currency=currency, total=total)
    who = username or (user.username if user is not None else "")
    row = store(session, package, year, allocation, who)
    audit_entry(session, user, "usage.share.adopt", f"cost-share:{package}/{year}", {
        "policy": policy.to_dict(), "currency": allocation.currency,
        "total": allocation.total, "sponsor": allocation.sponsor,
        "members": {s.code: s.amount for s in allocation.shares}}, ip=ip, username=who)
    found = adopted(session, package, year)
    assert found is not None and found.id == row.id
    return found


def member_scope(session: Session, user: AdminUser | None) -> str | None:
    """The institution code an administrator is limited to (their own line), or None for
    a consortium administrator. Views pass it as ``compare(..., institution=…)``.

    Who is limited is :func:`resolver.accounts.auth.institution_scope`'s rule (the role, not
    whether an institution is set), so this agrees with every other admin page; an institution
    administrator without an institution gets ``""``, which is nobody's line."""
    if user is None:
        return None
    scope = institution_scope(user)
    if scope is None:
        return None
    code = session.scalar(select(Institution.code).where(Institution.id == scope))
    return code or ""


def shared_packages(session: Session, year: int) -> list[tuple[str, str]]:
    """``(code, name)`` of the subscription packages with at least one member entitled in
    ``year`` (the what-if page's choice), by code."""
    out = []
    for pkg in session.scalars(select(Package).where(Package.kind == SUBSCRIPTION)
                               .order_by(Package.code)):
        if _members(session, pkg, year):
            out.append((pkg.code, pkg.name))
    return out
