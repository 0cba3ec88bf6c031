"""Months of entitlement in a year (pure).

A month counts when an entitlement covers its **first day**: joining on 1 July pays from July
(six months), joining on 15 July from August (five); an entitlement ending on 30 June
(inclusive) counts June. Several entitlements of one member count each month once. This is the
one rule for "pro rata by months" (the allocation multiplies by months / 12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

__all__ = ["months_entitled"]


def months_entitled(year: int, spans: Iterable[tuple[dt.date | None, dt.date | None]]) -> int:
    """How many months of ``year`` the ``(start, end)`` spans cover (None: open-ended;
    both inclusive), by the rule in the module docstring."""
    covered = set()
    for start, end in spans:
        for month in range(1, 13):
            first = dt.date(year, month, 1)
            if (start is None or start <= first) and (end is None or first <= end):
                covered.add(month)
    return len(covered)
