"""Cost-sharing fixtures: a small consortium in a migrated database (SQLite and PostgreSQL).

``sd`` has four members in 2025: ``a`` and ``b`` all year, ``c`` from 1 July (6 months), and
``d`` whose entitlement ended on 31 March 2025 (3 months); ``e`` has an entitlement that ended
in 2024 (not a member in 2025). COUNTER TR_J1 Total_Item_Requests in 2024: a 100 a month
(1,200), b 300 a month (3,600), d 50 a month (600); c has none. Unique_Item_Requests are half.
Cost of sd in 2025: USD 10,000.00 consortium-wide (and a member's own cost row, ignored).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po

from resolver import db
from resolver.kb.models import Entitlement, Package
from resolver.registry.models import Institution
from resolver.usage.costs import set_cost
from resolver.usage.counter import CounterReport, UsageRow
from resolver.usage.counter_import import import_counter
from resolver.web.i18n import TRANSLATIONS

D = dt.date


def counter(per_month: int) -> CounterReport:
    rows = []
    for m in range(1, 13):
        rows.append(UsageRow("J", "Total_Item_Requests", D(2024, m, 1), per_month))
        rows.append(UsageRow("J", "Unique_Item_Requests", D(2024, m, 1), per_month // 2))
    return CounterReport("TR_J1", "5", begin=D(2024, 1, 1), end=D(2024, 12, 1), rows=rows)


@pytest.fixture
def consortium(sessions):  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        inst = {c: Institution(code=c, name_vi=f"Trường {c.upper()}", status="member")
                for c in "abcde"}
        s.add_all(inst.values())
        pkg = Package(code="sd", name="ScienceDirect")
        s.add(pkg)
        s.flush()
        for code, start, end in (("a", D(2019, 1, 1), None), ("b", None, None),
                                 ("c", D(2025, 7, 1), None), ("d", D(2020, 1, 1),
                                                              D(2025, 3, 31)),
                                 ("e", D(2020, 1, 1), D(2024, 12, 31))):
            s.add(Entitlement(package_id=pkg.id, institution_id=inst[code].id, start=start,
                              end=end))
        for code, per in (("a", 100), ("b", 300), ("d", 50)):
            import_counter(s, counter(per), institution=code, package="sd")
        set_cost(s, "sd", 2025, Decimal("10000.00"))
        set_cost(s, "sd", 2025, Decimal("999.00"), institution="a")  # a's own: not shared
    return sessions


@pytest.fixture(scope="module")
def vi():  # type: ignore[no-untyped-def]
    """The Vietnamese of an English message, from the catalogue the pages and the CLI use
    (a message without one fails the test)."""
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="vi")

    def translate(message: str) -> str:
        entry = catalog.get(message)
        assert entry is not None and entry.string, f"no Vietnamese for {message!r}"
        return entry.string

    return translate
