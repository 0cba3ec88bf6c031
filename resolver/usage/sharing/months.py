"""Months of entitlement in a year, or in any run of months (pure).

A month counts when an entitlement covers its **first day**: joining on 1 July pays from July
(six months), joining on 15 July from August (five); an entitlement ending on 30 June
(inclusive) counts June. Several entitlements of one member count each month once. This is the
one rule for "pro rata by months" (the allocation multiplies by months / 12) and for the
months a member was entitled in a use period (annualising its use, see
:mod:`resolver.usage.sharing.policy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

__all__ = ["months_entitled", "months_entitled_between"]

Spans = Iterable[tuple[dt.date | None, dt.date | None]]


def months_entitled_between(first: dt.date, last: dt.date, spans: Spans) -> int:
    """How many months from ``first``'s month to ``last``'s (both included) the ``(start,
    end)`` spans cover (None: open-ended; both inclusive), by the rule in the module
    docstring; 0 when ``last`` is before ``first``."""
    spans = list(spans)
    covered = 0
    index, end_index = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    while index <= end_index:
        day = dt.date(index // 12, index % 12 + 1, 1)
        if any((start is None or start <= day) and (end is None or day <= end)
               for start, end in spans):
            covered += 1
        index += 1
    return covered


def months_entitled(year: int, spans: Spans) -> int:
    """How many months of ``year`` the ``(start, end)`` spans cover (None: open-ended;
    both inclusive), by the rule in the module docstring."""
    return months_entitled_between(dt.date(year, 1, 1), dt.date(year, 12, 1), spans)
