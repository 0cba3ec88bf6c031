"""A package shared by the admin app's two members, for the cost-sharing page tests.

``sd`` (ScienceDirect) in 2025: Đại học Huế entitled all year, Đại học Trà Vinh from July
(six months); cost USD 10,000; 25,000 VND per USD; 2024 downloads (COUNTER
Total_Item_Requests) Huế 300, Trà Vinh 100. Hand-computed shares, in cents:

* equal, no sponsor: bases 1 and ½ -> 666,666.67 and 333,333.33 -> 666,667 and 333,333;
* equal, sponsor 50 %: 500,000 shared -> 333,333.33 and 166,666.67 -> 333,333 and 166,667;
  in VND the members' 125,000,000 đ split in those proportions -> 83,333,250 and 41,666,750;
* by use, sponsor 50 %: bases 300 and 100 × 6/12 = 50 -> 6/7 and 1/7 of 500,000 ->
  428,571.43 and 71,428.57 -> 428,571 and 71,429.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from resolver import db
from resolver.kb.entitlements import entitle
from resolver.kb.models import SUBSCRIPTION, Package
from resolver.registry.models import Institution
from resolver.usage.costs import set_cost
from resolver.usage.counter import CounterReport, UsageRow
from resolver.usage.counter_import import import_counter
from resolver.usage.sharing import set_rate

#: an institution name a spreadsheet would run as a formula
HOSTILE_NAME = "=HYPERLINK(\"http://evil.example/\",\"Bấm\")"


def downloads(count: int, year: int = 2024) -> CounterReport:
    """A TR_J1 report: ``count`` Total_Item_Requests in January of ``year``."""
    month = dt.date(year, 1, 1)
    return CounterReport("TR_J1", "5", begin=month, end=month, rows=[
        UsageRow(title="Journal of Hydrology", metric="Total_Item_Requests", month=month,
                 count=count)])


def share_sd(sessions: Any, *, rate: bool = True, hostile: bool = False) -> None:
    """Load the module docstring's package, cost, rate and use (``hostile``: a third member,
    entitled all year, whose name starts with ``=``)."""
    with db.transaction(sessions) as s:
        s.add(Package(code="sd", name="ScienceDirect", kind=SUBSCRIPTION))
        if hostile:
            s.add(Institution(code="evil", name_vi=HOSTILE_NAME, status="member"))
        s.flush()
        entitle(s, "sd", "hue")
        entitle(s, "sd", "tvu", dt.date(2025, 7, 1))
        if hostile:
            entitle(s, "sd", "evil")
        set_cost(s, "sd", 2025, "10000")
        if rate:
            set_rate(s, 2025, 25000)
        import_counter(s, downloads(300), institution="hue", package="sd")
        import_counter(s, downloads(100), institution="tvu", package="sd")
