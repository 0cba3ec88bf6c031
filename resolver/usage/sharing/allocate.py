"""Who pays how much of a package's yearly cost: the allocation (pure, no I/O).

:func:`allocate` takes the total to share (integer minor units of one currency), the members
(:class:`Member`: months entitled, use, size, last year's amount) and a
:class:`~resolver.usage.sharing.policy.Policy`, and returns an :class:`Allocation`. Everything
is exact (fractions) until the last step. **Order of operations**, and why:

1. **Sponsor.** The sponsor's contribution (an amount, or a fraction of the total rounded to
   the minor unit) is taken off first; the *members' total* is what is left. It is paid
   centrally, so it lowers every member's amount and is never itself capped or floored.
2. **Raw shares.** Each component (equal, use, size) splits the members' total in proportion
   to a *basis*: equal = 1, use = the use figure, size = the tier points — each multiplied by
   months entitled / 12 when the policy is pro rata (a member entitled six months pays half
   what it would pay for the year; the other members cover the rest, since the package costs
   what it costs). A member without use (or size) data gets the figure the policy's missing
   rule gives (median or mean of the others', or its equal share), never zero, and a note. A
   component no member has any basis for (nobody used the package) is shared equally, with a
   note. The raw share is the components' weighted sum. Before all this, when the policy
   annualises, the use of a member entitled only part of the use period is scaled to twelve
   months (:func:`use_figure`: use × 12 / months; under
   :data:`~resolver.usage.sharing.policy.MIN_ANNUALISE_MONTHS` months it is missing, with a
   note), so it is compared with the others' on the same footing.
3. **Floor and cap.** Each member pays at least the floor (pro rata by months, like
   everything else) and at most the cap (a fraction of the members' total). The amounts are
   ``clamp(t × raw, floor, cap)`` for the one scale ``t`` that makes them sum to the members'
   total, so those between the bounds keep their proportions and the money a bound frees or
   needs moves to or from them alone. Where a member's floor is above the cap, **the floor
   wins** (a note says so). Floors adding up to more than the members' total, or caps too low
   to reach it, are a :class:`~resolver.usage.sharing.policy.PolicyError` — never a wrong sum.
4. **Smoothing.** A member with last year's amount may change by at most the smoothing
   fraction of it (last year's amount scaled by months this year / months last year when pro
   rata). The same clamp-and-scale step runs with those bands, inside the floor and cap
   (floor and cap are this year's rule and hold; where a band lies outside them, the nearer
   bound of floor/cap holds, with a note). A member without last year's amount (new) pays
   what step 3 gave it: smoothing moves money only among the members it protects (else a
   new member would absorb every other member's limited change). Within the bands the
   amounts keep the policy's proportions (clamp and scale); where a member at zero makes
   that impossible, the same amount is added to each member within its band instead. When
   the bands cannot reach what those members must pay together (the total itself moved
   more than the limit), the bands are centred on last year's amounts scaled by the change
   of those members' total, with a note; if even that cannot hold, smoothing is not
   applied, with a note.
5. **Rounding.** Largest remainder (:func:`~resolver.usage.sharing.money.largest_remainder`):
   the amounts sum exactly to the members' total; equal remainders go to the larger raw
   share first, then by member code. A bound can be missed by less than one minor unit
   through rounding, never more.

Under a pure by-use policy with no smoothing, a member with more use never pays less than one
with less use and the same months (``clamp`` and the scale are monotone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median
from typing import Any

from resolver.usage.sharing.money import from_minor, largest_remainder, to_minor
from resolver.usage.sharing.notes import Note
from resolver.usage.sharing.policy import (
    MIN_ANNUALISE_MONTHS,
    MISSING_EQUAL,
    MISSING_MEAN,
    N_,
    Policy,
    PolicyError,
)

__all__ = ["Allocation", "Member", "Share", "allocate", "use_figure"]

_Q = Decimal("0.0001")


@dataclass(frozen=True)
class Member:
    """One participating member, as the allocation needs it.

    * ``code`` — institution code (ties in rounding go by it); ``name`` — for display;
    * ``months`` — months of the year it is entitled to the package (1..12);
    * ``use`` — its use figure over the policy's period, or None when it has **no data**
      (then the policy's missing rule applies); 0 is a real zero;
    * ``size`` — its size measure (students or FTE, as the policy asks), or None when not
      reported; ``size_year`` — the year that figure was reported for;
    * ``last_amount`` — what it paid last year, integer minor units **in the allocation's
      currency** (the service converts), or None (new member, or no adopted policy);
      ``last_months`` — its months of entitlement last year (None: 12);
    * ``use_months`` — months of the policy's *use period* it was entitled (0..12), for
      annualising its use; None: not known, the use is taken as it is.
    """

    code: str
    name: str = ""
    months: int = 12
    use: int | None = None
    size: int | None = None
    size_year: int | None = None
    last_amount: int | None = None
    last_months: int | None = None
    use_months: int | None = None


@dataclass(frozen=True)
class Share:
    """One member's line of an allocation. Amounts ``raw``, ``bounded`` and ``smoothed`` are
    exact shares (Decimal, **major** units, 4 decimals) at each step of the module docstring;
    ``amount`` is what it pays, **integer minor units** (``value`` in major units).

    * ``use`` — the use figure used (Decimal; imputed and annualised ones may have
      decimals); when the policy gives use no weight, the member's own figure (annualised
      if the policy annualises) or None (nothing is imputed); ``use_actual`` — its own
      figure as counted over the period (None: no data); ``use_imputed`` — the missing rule
      applied (``median``, ``mean``, ``equal``) or None (also set when its own figure covers
      too few months to annualise); ``use_months`` — months of the use period it was
      entitled (None: not known, or an allocation stored before annualising existed);
      ``use_annualised`` — its figure was scaled to twelve months;
    * ``size``, ``size_year``, ``points``, ``size_imputed`` — likewise for size (``points``
      are the tier points used, imputed or not);
    * ``change`` (minor units) and ``change_pct`` (fraction, ``Decimal("0.125")`` = +12.5 %)
      from ``last_amount``; None without last year's amount (``change_pct`` also when it
      was 0);
    * ``cost_per_download`` — ``value`` / the member's own use figure (annualised when the
      policy annualises it; major units per download, 4 decimals), None without a positive
      figure of its own.
    """

    code: str
    name: str
    months: int
    use: Decimal | None
    use_actual: int | None
    use_imputed: str | None
    size: Decimal | None
    size_actual: int | None
    size_year: int | None
    points: Decimal | None
    size_imputed: str | None
    raw: Decimal
    bounded: Decimal
    smoothed: Decimal
    amount: int
    value: Decimal
    last_amount: int | None
    change: int | None
    change_pct: Decimal | None
    cost_per_download: Decimal | None
    # after the fields every stored allocation has: older ones read back without them
    use_months: int | None = None
    use_annualised: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Share:
        decimals = {"use", "size", "points", "raw", "bounded", "smoothed", "value",
                    "change_pct", "cost_per_download"}
        values: dict[str, Any] = {k: (Decimal(v) if k in decimals and v is not None else v)
                                  for k, v in data.items()}
        return cls(**values)


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate`: ``total`` = ``sponsor`` + ``members_total`` =
    sponsor + the sum of every share's ``amount`` (integer minor units of ``currency``),
    exactly. ``shares`` are in member-code order; ``notes`` say what the policy's rules did
    (imputations, floor over cap, smoothing relaxed), each with ``member`` set when it is
    about one member. ``for_member(code)`` is one member's share (an institution
    administrator's view)."""

    policy: Policy
    currency: str
    total: int
    sponsor: int
    members_total: int
    shares: tuple[Share, ...]
    notes: tuple[Note, ...] = field(default=())

    def for_member(self, code: str) -> Share | None:
        return next((s for s in self.shares if s.code == code), None)

    def major(self, minor: int) -> Decimal:
        """``minor`` units of this allocation's currency in major units."""
        return from_minor(minor, self.currency)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the adopted-policy table (a statement reproduced years later)."""
        return {"policy": self.policy.to_dict(), "currency": self.currency,
                "total": self.total, "sponsor": self.sponsor,
                "members_total": self.members_total,
                "shares": [s.to_dict() for s in self.shares],
                "notes": [n.to_dict() for n in self.notes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Allocation:
        return cls(Policy.from_dict(data["policy"]), data["currency"], int(data["total"]),
                   int(data["sponsor"]), int(data["members_total"]),
                   tuple(Share.from_dict(s) for s in data["shares"]),
                   tuple(Note.from_dict(n) for n in data.get("notes", [])))


# --- step 2: raw shares ------------------------------------------------------------------------

def use_figure(policy: Policy, member: Member) -> tuple[Fraction | None, bool]:
    """The member's own use figure as ``policy`` counts it, and whether it was annualised.

    Without annualising, or with its months of the use period unknown (None), none (0: no
    entitlement recorded there, so nothing says how long it had access) or all 12, its
    figure as it is; entitled 1 to 11 months, use × 12 / months — or None (no data: the
    missing rule applies) under :data:`MIN_ANNUALISE_MONTHS` months."""
    if member.use is None:
        return None, False
    months = member.use_months
    if not policy.annualise or months is None or not 0 < months < 12:
        return Fraction(member.use), False
    if months < MIN_ANNUALISE_MONTHS:
        return None, False
    return Fraction(member.use * 12, months), True


def _annualise_note(member: Member, figure: Fraction | None) -> Note:
    assert member.use_months is not None
    if figure is None:
        return Note("use_too_few_months", N_(
            "%(member)s was entitled only %(months)s months of the use period (fewer than "
            "%(least)s): its use (%(use)s) counts as missing."),
            {"member": member.code, "months": member.use_months,
             "least": MIN_ANNUALISE_MONTHS, "use": member.use}, member.code)
    return Note("use_annualised", N_(
        "%(member)s was entitled %(months)s months of the use period: its use (%(use)s) is "
        "counted as %(value)s for twelve months."),
        {"member": member.code, "months": member.use_months, "use": member.use,
         "value": _dec(figure, Decimal("0.01"))}, member.code)


def _impute(values: dict[str, Fraction | None], rule: str) -> Fraction | None:
    known = [v for v in values.values() if v is not None]
    if not known:
        return None
    if rule == MISSING_MEAN:
        return sum(known, Fraction(0)) / len(known)
    return Fraction(median(known))


def _component(members: Sequence[Member], figures: dict[str, Fraction | None],
               factor: dict[str, Fraction], rule: str, what: str,
               notes: list[Note]) -> tuple[dict[str, Fraction], dict[str, Fraction],
                                           dict[str, str]]:
    """(basis per member, figure used per member, rule per imputed member) of a use or size
    component; bases are figure × months factor."""
    imputed: dict[str, str] = {}
    used: dict[str, Fraction] = {}
    missing = [m.code for m in members if figures[m.code] is None]
    stand_in = _impute(figures, rule)
    if stand_in is None:  # nobody has data: the component is shared equally
        notes.append(Note(f"{what}_none",
                          N_("No member has use data: the use part is shared equally.")
                          if what == "use" else
                          N_("No member has a size reported: the size part is shared "
                             "equally.")))
        return dict(factor), {}, {}
    for code in missing:
        imputed[code] = rule
    basis: dict[str, Fraction] = {}
    for m in members:
        v = figures[m.code]
        if v is not None:
            used[m.code] = v
            basis[m.code] = v * factor[m.code]
    if rule == MISSING_EQUAL and missing:
        known = sum(basis.values(), Fraction(0))
        total_factor = sum(factor.values(), Fraction(0))
        missing_factor = sum((factor[c] for c in missing), Fraction(0))
        for code in missing:
            # its share of this component = its share of the equal component
            basis[code] = factor[code] * known / (total_factor - missing_factor)
            used[code] = basis[code] / factor[code]
    else:
        for code in missing:
            used[code] = stand_in
            basis[code] = stand_in * factor[code]
    for code in missing:
        notes.append(_missing_note(what, rule, code, _dec(used[code], Decimal("0.01"))))
    if sum(basis.values(), Fraction(0)) == 0:
        notes.append(Note(f"{what}_zero", N_(
            "No member has any use in the period: the use part is shared equally.")))
        return dict(factor), used, imputed
    return basis, used, imputed


def _missing_note(what: str, rule: str, code: str, value: Decimal) -> Note:
    if what == "use":
        template = {
            "median": N_("%(member)s has no use data: counted with the median of the "
                         "others' use (%(value)s)."),
            "mean": N_("%(member)s has no use data: counted with the mean of the others' "
                       "use (%(value)s)."),
            "equal": N_("%(member)s has no use data: it pays its equal share of the use "
                        "part."),
        }[rule]
    else:
        template = {
            "median": N_("%(member)s has no size reported: counted with the median of the "
                         "others' points (%(value)s)."),
            "mean": N_("%(member)s has no size reported: counted with the mean of the "
                       "others' points (%(value)s)."),
            "equal": N_("%(member)s has no size reported: it pays its equal share of the "
                        "size part."),
        }[rule]
    return Note(f"{what}_imputed", template, {"member": code, "value": value}, code)


# --- steps 3 and 4: clamp and scale ------------------------------------------------------------

def _clamp(x: Fraction, lo: Fraction, hi: Fraction) -> Fraction:
    return lo if x < lo else hi if x > hi else x


def _fit(target: Fraction, weights: Sequence[Fraction], lo: Sequence[Fraction],
         hi: Sequence[Fraction]) -> list[Fraction] | None:
    """``clamp(t × w, lo, hi)`` summing to ``target`` (exact), or None when no ``t`` can.
    Requires lo <= hi. The sum is continuous and non-decreasing in ``t``, linear between the
    breakpoints lo/w and hi/w: find the segment, solve it."""
    def total(t: Fraction) -> Fraction:
        return sum((_clamp(t * w, a, b) for w, a, b in zip(weights, lo, hi, strict=True)),
                   Fraction(0))

    points = sorted({Fraction(0)} | {a / w for w, a in zip(weights, lo, strict=True) if w > 0}
                    | {b / w for w, b in zip(weights, hi, strict=True) if w > 0})
    previous_t, previous_sum = points[0], total(points[0])
    if previous_sum > target:
        return None
    if previous_sum == target:
        return [_clamp(previous_t * w, a, b) for w, a, b in zip(weights, lo, hi, strict=True)]
    for t in points[1:]:
        s = total(t)
        if s >= target:
            t_star = previous_t + (target - previous_sum) * (t - previous_t) / (s - previous_sum)
            return [_clamp(t_star * w, a, b) for w, a, b in zip(weights, lo, hi, strict=True)]
        previous_t, previous_sum = t, s
    return None


def _fit_shift(target: Fraction, start: Sequence[Fraction], lo: Sequence[Fraction],
               hi: Sequence[Fraction]) -> list[Fraction] | None:
    """``clamp(start + t, lo, hi)`` summing to ``target`` (exact), or None when
    ``sum(lo) <= target <= sum(hi)`` does not hold: the same amount added to (or taken from)
    everyone within their bounds, for when :func:`_fit` cannot (a member at zero cannot
    grow in proportion)."""
    def total(t: Fraction) -> Fraction:
        return sum((_clamp(x + t, a, b) for x, a, b in zip(start, lo, hi, strict=True)),
                   Fraction(0))

    if not sum(lo, Fraction(0)) <= target <= sum(hi, Fraction(0)):
        return None
    points = sorted({a - x for x, a in zip(start, lo, strict=True)}
                    | {b - x for x, b in zip(start, hi, strict=True)})
    previous_t, previous_sum = points[0], total(points[0])  # everyone at lo: sum(lo)
    for t in points[1:]:
        s = total(t)
        if s >= target:
            t_star = (previous_t if s == previous_sum else
                      previous_t + (target - previous_sum) * (t - previous_t)
                      / (s - previous_sum))
            return [_clamp(x + t_star, a, b) for x, a, b in zip(start, lo, hi, strict=True)]
        previous_t, previous_sum = t, s
    return [_clamp(x + previous_t, a, b) for x, a, b in zip(start, lo, hi, strict=True)]


# --- the allocation -----------------------------------------------------------------------------

def _dec(x: Fraction, q: Decimal = _Q) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(q, ROUND_HALF_UP)


def _sponsor(policy: Policy, total: int, currency: str) -> int:
    if policy.sponsor_fraction is not None:
        s = Fraction(policy.sponsor_fraction) * total
        return int((s + Fraction(1, 2)) // 1)
    if policy.sponsor_amount is not None:
        amount = to_minor(policy.sponsor_amount, currency)
        if amount > total:
            raise PolicyError(N_("The sponsor's amount (%(sponsor)s) is more than the total "
                                 "(%(total)s)."), sponsor=str(policy.sponsor_amount),
                              total=str(from_minor(total, currency)))
        return amount
    return 0


def allocate(policy: Policy, members: Sequence[Member], total: int,
             currency: str) -> Allocation:
    """Share ``total`` (integer minor units of ``currency``, "USD" or "VND") among
    ``members`` by ``policy``, by the steps of the module docstring.

    Raises :class:`~resolver.usage.sharing.policy.PolicyError` (with a translatable
    ``message``) when there is no member, when the sponsor's amount exceeds the total, when
    the floors exceed the members' total or the caps cannot reach it; ValueError for inputs
    no caller should send (negative total, months outside 1..12, a code twice)."""
    currency = currency.upper()
    if total < 0:
        raise ValueError("the total cannot be negative")
    if not members:
        raise PolicyError(N_("No member is entitled to this package in the year."))
    codes = [m.code for m in members]
    if len(set(codes)) != len(codes):
        raise ValueError("a member code appears twice")
    if any(not 1 <= m.months <= 12 for m in members):
        raise ValueError("months of entitlement are 1..12")
    members = sorted(members, key=lambda m: m.code)
    notes: list[Note] = []
    sponsor = _sponsor(policy, total, currency)
    shared = total - sponsor

    factor = {m.code: Fraction(m.months, 12) if policy.pro_rata else Fraction(1)
              for m in members}
    own_use = {m.code: use_figure(policy, m) for m in members}
    uses: dict[str, Fraction | None] = {code: got[0] for code, got in own_use.items()}
    points: dict[str, Fraction | None] = {
        m.code: None if m.size is None else Fraction(policy.points(m.size)) for m in members}
    use_notes = [_annualise_note(m, own_use[m.code][0]) for m in members
                 if m.use is not None and (own_use[m.code][1] or own_use[m.code][0] is None)]
    size_notes: list[Note] = []
    use_basis, use_used, use_imputed = _component(members, uses, factor, policy.missing,
                                                  "use", use_notes)
    size_basis, size_used, size_imputed = _component(members, points, factor, policy.missing,
                                                     "size", size_notes)
    # a component the policy does not weigh imputes nothing: its figures are shown as they are
    if policy.use > 0:
        notes += use_notes
    else:
        use_used = {c: v for c, v in uses.items() if v is not None}
        use_imputed = {}
    if policy.size > 0:
        notes += size_notes
    else:
        size_used = {c: v for c, v in points.items() if v is not None}
        size_imputed = {}

    raw: dict[str, Fraction] = {m.code: Fraction(0) for m in members}
    for weight, basis in ((policy.equal, factor), (policy.use, use_basis),
                          (policy.size, size_basis)):
        if weight == 0:
            continue
        whole = sum(basis.values(), Fraction(0))
        for code in raw:
            raw[code] += Fraction(weight) * shared * basis[code] / whole

    # step 3: floor and cap
    floor = Fraction(to_minor(policy.floor, currency)) if policy.floor is not None else None
    lo = [floor * factor[m.code] if floor is not None else Fraction(0) for m in members]
    cap = Fraction(policy.cap) * shared if policy.cap is not None else Fraction(shared)
    hi = []
    for m, low in zip(members, lo, strict=True):
        if low > cap:
            notes.append(Note("floor_over_cap", N_(
                "%(member)s: the floor is above the cap; the floor holds."),
                {"member": m.code}, m.code))
        hi.append(max(cap, low))
    if sum(lo, Fraction(0)) > shared:
        raise PolicyError(N_("The floors add up to %(floors)s, more than the members' total "
                             "(%(total)s)."),
                          floors=str(from_minor(math.ceil(sum(lo, Fraction(0))), currency)),
                          total=str(from_minor(shared, currency)))
    weights = [raw[m.code] for m in members]
    bounded = _fit(Fraction(shared), weights, lo, hi)
    if bounded is None:
        # the members with a raw share must reach the rest between them: cap >= rest / n
        growing = [w for w in weights if w > 0]
        fixed = sum((a for w, a in zip(weights, lo, strict=True) if w == 0), Fraction(0))
        least = (shared - fixed) / len(growing) / shared if growing and shared else Fraction(1)
        raise PolicyError(N_("A cap of %(cap)s cannot reach the members' total: with these "
                             "members it must be at least %(least)s."),
                          cap=_pct(Fraction(policy.cap or 0)), least=_pct(least))

    # step 4: smoothing
    smoothed = bounded
    if policy.smoothing is not None and any(m.last_amount is not None for m in members):
        smoothed = _smooth(policy, members, factor, bounded, lo, hi, shared, notes)

    # step 5: rounding
    amounts = largest_remainder(shared, smoothed, [m.code for m in members], weights)
    shares = []
    for i, m in enumerate(members):
        amount = amounts[i]
        value = from_minor(amount, currency)
        change = None if m.last_amount is None else amount - m.last_amount
        pct = (_dec(Fraction(change, m.last_amount)) if change is not None and m.last_amount
               else None)
        own = uses[m.code]
        cpd = _dec(Fraction(value) / own) if own else None
        shares.append(Share(
            code=m.code, name=m.name, months=m.months,
            use=_dec(use_used[m.code], Decimal("0.01")) if m.code in use_used else None,
            use_actual=m.use, use_imputed=use_imputed.get(m.code),
            size=(Decimal(m.size) if m.size is not None else None),
            size_actual=m.size, size_year=m.size_year,
            points=(_dec(size_used[m.code], Decimal("0.01")) if m.code in size_used
                    else None),
            size_imputed=size_imputed.get(m.code),
            raw=_money(raw[m.code], currency), bounded=_money(bounded[i], currency),
            smoothed=_money(smoothed[i], currency), amount=amount, value=value,
            last_amount=m.last_amount, change=change, change_pct=pct,
            cost_per_download=cpd, use_months=m.use_months,
            use_annualised=own_use[m.code][1]))
    return Allocation(policy, currency, total, sponsor, shared, tuple(shares), tuple(notes))


def _pct(fraction: Fraction) -> str:
    """0.5 -> "50%", 1/3 -> "33.34%" (rounded up: the least cap that holds)."""
    hundredths = math.ceil(fraction * 10000)
    return f"{Decimal(hundredths).scaleb(-2).normalize():f}%"


def _money(minor: Fraction, currency: str) -> Decimal:
    """Exact minor units as major units with 4 decimals."""
    return _dec(minor / Fraction(10 ** (2 if currency == "USD" else 0)))


def _smooth(policy: Policy, members: Sequence[Member], factor: dict[str, Fraction],
            bounded: list[Fraction], lo: list[Fraction], hi: list[Fraction], shared: int,
            notes: list[Note]) -> list[Fraction]:
    assert policy.smoothing is not None
    s = Fraction(policy.smoothing)
    base: dict[int, Fraction] = {}
    for i, m in enumerate(members):
        if m.last_amount is None:
            continue
        last = Fraction(m.last_amount)
        if policy.pro_rata and (m.last_months or 12) != m.months:
            last = last * m.months / (m.last_months or 12)
        base[i] = last

    def bands(scale: Fraction) -> tuple[list[Fraction], list[Fraction], list[str]]:
        # a member without last year's amount pays what floor and cap gave it: smoothing
        # moves money only among the members it protects
        low, high, clipped = list(bounded), list(bounded), []
        for i, b in base.items():
            a, z = b * scale * (1 - s), b * scale * (1 + s)
            if z < lo[i] or a > hi[i]:
                clipped.append(members[i].code)
                a = z = lo[i] if z < lo[i] else hi[i]
            low[i], high[i] = max(a, lo[i]), min(z, hi[i])
        return low, high, clipped

    def fit(low: list[Fraction], high: list[Fraction]) -> list[Fraction] | None:
        return (_fit(Fraction(shared), bounded, low, high)
                or _fit_shift(Fraction(shared), bounded, low, high))

    low, high, clipped = bands(Fraction(1))
    fitted = fit(low, high)
    if fitted is None:
        old = sum(base.values(), Fraction(0))
        scale = sum((bounded[i] for i in base), Fraction(0)) / old if old else Fraction(1)
        low, high, clipped = bands(scale)
        fitted = fit(low, high)
        if fitted is not None:
            notes.append(Note("smoothing_scaled", N_(
                "The members' total moved more than smoothing allows: the limit applies "
                "around last year's amounts scaled by %(factor)s."),
                {"factor": _dec(scale)}))
    if fitted is None:
        notes.append(Note("smoothing_dropped", N_(
            "Smoothing cannot hold together with the floors and caps: it was not applied.")))
        return bounded
    for code in clipped:
        notes.append(Note("smoothing_clipped", N_(
            "%(member)s: the smoothing limit lies outside the floor and cap; the floor or cap "
            "holds."), {"member": code}, code))
    return fitted
