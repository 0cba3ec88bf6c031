"""Sharing a package's yearly cost among the members entitled to it (issue #16).

The public API, re-exported here (import from ``resolver.usage.sharing``):

Pure core (no I/O; mypy strict):

* :class:`Policy` (``policy.py``): the rule — component weights ``equal``/``use``/``size``
  (Decimal, sum 1), use ``measure`` and ``period``, size ``tiers``, ``sponsor_amount`` or
  ``sponsor_fraction``, ``floor``, ``cap``, ``smoothing``, ``missing``, ``pro_rata``,
  ``annualise`` (use of a member entitled part of the use period scaled to twelve months,
  from :data:`MIN_ANNUALISE_MONTHS`; stored policies without it read as False);
  ``to_dict``/``from_dict`` (JSON), ``with_(...)`` (a changed copy); :func:`preset` for
  ``equal``/``use``/``size``/``hybrid`` (40 % equal + 60 % use). Invalid rules raise
  :class:`PolicyError`, whose ``message(translate)`` is the reason in the reader's language.
* :func:`allocate` (``allocate.py``): ``allocate(policy, members, total, currency) ->
  Allocation``. ``members`` are :class:`Member` (code, name, months, use, size, last
  year's amount in minor units); ``total`` in **integer minor units** (USD cents, VND đồng).
  The :class:`Allocation` has ``total`` = ``sponsor`` + ``members_total`` (exactly the sum
  of the shares' ``amount``), ``shares`` (:class:`Share` per member, by code: months, use and
  size figures and whether imputed, ``raw`` / ``bounded`` / ``smoothed`` exact shares in
  major units, ``amount`` (minor) and ``value`` (major) paid, ``change``/``change_pct`` from
  last year, ``cost_per_download``), and ``notes`` (:class:`Note`, ``text(translate, lang)``).
  Order of operations in ``allocate.py``'s docstring; :func:`use_figure` is a member's use
  as a policy counts it (annualised or not).
* Money (``money.py``): :func:`to_minor`, :func:`from_minor`, :func:`convert` (VND per USD),
  :func:`largest_remainder`; :data:`MINOR_DIGITS`; the decimals figures are shown with,
  per currency: :func:`rounded` (an amount), :func:`per_download` and
  :data:`PER_DOWNLOAD_DIGITS` (a cost per download).
* :func:`describe` (``describe.py``): ``describe(policy, translate, lang, currency=, year=)``
  -> the rule as sentences (pass Flask-Babel's ``gettext`` on a page);
  :func:`measure_label`, :func:`percent`.
* :func:`months_entitled` / :func:`months_entitled_between` (``months.py``): months of a
  year (or of a use period) entitlements cover (the pro-rata rule).

Database (I/O; the caller commits):

* ``service.py``: :func:`gather` (a package and year's :class:`Inputs`), :func:`share`
  (gather + allocate), :func:`compare` (1 to :data:`MAX_POLICIES` policies ->
  :class:`Comparison` with :class:`ComparisonRow` per member, ``cells`` = a Share per
  policy; ``institution=`` or ``Comparison.only(code)`` keeps one member's line),
  :func:`adopt` (stores the allocation and writes the audit log), :func:`member_scope`
  (the institution code an administrator is limited to, None for the consortium),
  :func:`shared_packages` (packages with members in a year).
* ``records.py``: :func:`adopted` / :func:`adopted_history` (:class:`Adopted`: policy and
  the allocation as adopted), :func:`set_rate` / :func:`rate` (VND per USD per year),
  :func:`set_size` / :func:`sizes` (students, FTE per institution and reporting year).
"""

from resolver.usage.sharing.allocate import Allocation, Member, Share, allocate, use_figure
from resolver.usage.sharing.describe import describe, measure_label, percent
from resolver.usage.sharing.money import (
    MINOR_DIGITS,
    PER_DOWNLOAD_DIGITS,
    convert,
    from_minor,
    largest_remainder,
    per_download,
    rounded,
    to_minor,
)
from resolver.usage.sharing.months import months_entitled, months_entitled_between
from resolver.usage.sharing.notes import Note, Translate
from resolver.usage.sharing.policy import (
    DEFAULT_TIERS,
    MEASURE_CLICKS,
    MEASURE_TOTAL,
    MEASURE_UNIQUE,
    MEASURES,
    MIN_ANNUALISE_MONTHS,
    MISSING_EQUAL,
    MISSING_MEAN,
    MISSING_MEDIAN,
    MISSING_RULES,
    PERIOD_PREVIOUS_YEAR,
    PERIOD_ROLLING_12,
    PERIODS,
    SIZE_FTE,
    SIZE_MEASURES,
    SIZE_STUDENTS,
    Policy,
    PolicyError,
    SizeTier,
    preset,
)
from resolver.usage.sharing.records import (
    Adopted,
    Size,
    adopted,
    adopted_history,
    rate,
    set_rate,
    set_size,
    sizes,
)
from resolver.usage.sharing.service import (
    MAX_POLICIES,
    Comparison,
    ComparisonRow,
    Inputs,
    adopt,
    compare,
    gather,
    member_scope,
    share,
    shared_packages,
)

__all__ = [
    "DEFAULT_TIERS",
    "MAX_POLICIES",
    "MEASURES",
    "MEASURE_CLICKS",
    "MEASURE_TOTAL",
    "MEASURE_UNIQUE",
    "MINOR_DIGITS",
    "MIN_ANNUALISE_MONTHS",
    "MISSING_EQUAL",
    "MISSING_MEAN",
    "MISSING_MEDIAN",
    "MISSING_RULES",
    "PERIODS",
    "PERIOD_PREVIOUS_YEAR",
    "PERIOD_ROLLING_12",
    "PER_DOWNLOAD_DIGITS",
    "SIZE_FTE",
    "SIZE_MEASURES",
    "SIZE_STUDENTS",
    "Adopted",
    "Allocation",
    "Comparison",
    "ComparisonRow",
    "Inputs",
    "Member",
    "Note",
    "Policy",
    "PolicyError",
    "Share",
    "Size",
    "SizeTier",
    "Translate",
    "adopt",
    "adopted",
    "adopted_history",
    "allocate",
    "compare",
    "convert",
    "describe",
    "from_minor",
    "gather",
    "largest_remainder",
    "measure_label",
    "member_scope",
    "months_entitled",
    "months_entitled_between",
    "per_download",
    "percent",
    "preset",
    "rate",
    "rounded",
    "set_rate",
    "set_size",
    "share",
    "shared_packages",
    "sizes",
    "to_minor",
    "use_figure",
]
# INTERFACE READY
