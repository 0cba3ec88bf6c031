"""The usage tests' COUNTER files and seeded click log.

The seed (``click_rows``, loaded by the ``seeded`` fixture of tests/resolver/usage) is small
enough to count by hand: packages ``sd``, ``springer``, ``ieee`` (i = 0, 1, 2) × institutions
``hue``, ``ctu`` (j = 0, 1) × 14 months from November 2023 (k = 0 … 13). Each cell has
``(i+1)·(j+1) + k`` subscription full-text clicks; every institution also has one open-copy
click a month (no package) and ``hue`` one document-delivery click a month.
"""

from __future__ import annotations

import datetime as dt

from resolver.usage.rollup import add_months
from tests.support.paths import TEST_FIXTURES

FIXTURES = TEST_FIXTURES / "counter"
PACKAGES = ("sd", "springer", "ieee")
INSTITUTIONS = ("hue", "ctu")
FIRST = dt.date(2023, 11, 1)
MONTHS = [add_months(FIRST, k) for k in range(14)]


def click_rows() -> list[dict]:
    rows = []
    for k, month in enumerate(MONTHS):
        # Spread over the month, including its last second, to catch off-by-one truncation.
        days = [dt.datetime(month.year, month.month, 1, 0, 0, 0),
                dt.datetime.combine(add_months(month, 1), dt.time()) - dt.timedelta(seconds=1)]
        for i, pkg in enumerate(PACKAGES):
            for j, inst in enumerate(INSTITUTIONS):
                for n in range((i + 1) * (j + 1) + k):
                    rows.append({"at": days[n % 2], "institution": inst, "package": pkg,
                                 "kind": "fulltext", "doi": f"10.1/{n}"})
        for inst in INSTITUTIONS:
            rows.append({"at": days[0] + dt.timedelta(days=3), "institution": inst,
                         "package": None, "kind": "open"})
        rows.append({"at": days[0] + dt.timedelta(days=4), "institution": "hue",
                     "package": None, "kind": "delivery"})
    return rows
