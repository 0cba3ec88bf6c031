"""The demo consortium's shared subscription for cost sharing: a package, its members and
their entitlements, COUNTER usage, sizes, costs, exchange rates and last year's adopted
policy, from ``cost_sharing.toml`` beside this module.

Loaded by ``lienhop demo load`` (what ``make run`` runs) after the demo registry; running it
again changes nothing that is already there (the COUNTER import replaces its own months, costs
and rates are set, the 2024 policy is adopted only once).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.kb.models import SUBSCRIPTION, Entitlement, Package
from resolver.registry.models import Institution
from resolver.usage.costs import set_cost
from resolver.usage.counter import CounterReport, UsageRow
from resolver.usage.counter_import import import_counter
from resolver.usage.sharing import adopted, preset, set_rate, set_size, share
from resolver.usage.sharing.records import store

DATA = Path(__file__).resolve().parent / "cost_sharing.toml"
WHO = "(demo)"


def _report(downloads: dict[str, int], unique_share: float) -> CounterReport:
    rows = []
    for year, per_month in sorted(downloads.items()):
        for month in range(1, 13):
            day = dt.date(int(year), month, 1)
            # a little seasonal: fewer downloads in the Tết month and the summer
            n = per_month * (8 if month in (2, 7) else 11) // 10
            rows.append(UsageRow("ScienceDirect journals", "Total_Item_Requests", day, n))
            rows.append(UsageRow("ScienceDirect journals", "Unique_Item_Requests", day,
                                 int(n * unique_share)))
    months = sorted({r.month for r in rows})
    return CounterReport("TR_J1", "5", begin=months[0], end=months[-1], rows=rows,
                         created_by="lienhop demo")


def load_demo_sharing(session: Session, data_file: Path = DATA) -> str:
    """Write the demo's cost-sharing data into ``session`` (the caller commits); the demo
    registry must be loaded. Returns the package code."""
    data: dict[str, Any] = tomllib.loads(data_file.read_text(encoding="utf-8"))
    spec = data["package"]
    pkg = session.scalar(select(Package).where(Package.code == spec["code"]))
    if pkg is None:
        pkg = Package(code=spec["code"], name=spec["name"], platform=spec["platform"],
                      kind=SUBSCRIPTION)
        session.add(pkg)
        session.flush()
    for member in data["member"]:
        inst = session.scalar(select(Institution).where(Institution.code == member["code"]))
        if inst is None:
            raise ValueError(f"demo member {member['code']!r} is not in the demo registry")
        start = member["start"]
        known = session.scalar(select(Entitlement).where(
            Entitlement.package_id == pkg.id, Entitlement.institution_id == inst.id))
        if known is None:
            session.add(Entitlement(package_id=pkg.id, institution_id=inst.id, start=start))
        if member.get("monthly_downloads"):
            import_counter(session, _report(member["monthly_downloads"],
                                            member.get("unique_share", 0.8)),
                           institution=member["code"], package=pkg.code,
                           source="demo: cost_sharing.toml")
        if "students" in member or "fte" in member:
            set_size(session, member["code"], 2024, students=member.get("students"),
                     fte=member.get("fte"), recorded_by=WHO)
    for year, amount in data["cost"].items():
        set_cost(session, pkg.code, int(year), Decimal(amount), note="demo")
    for year, vnd in data["rates"].items():
        set_rate(session, int(year), vnd, recorded_by=WHO)
    session.flush()
    if adopted(session, pkg.code, 2024) is None:
        spec_2024 = data["adopted_2024"]
        policy = preset(spec_2024["kind"],
                        sponsor_fraction=Decimal(spec_2024["sponsor_fraction"]))
        store(session, pkg.code, 2024, share(session, pkg.code, 2024, policy), WHO)
    return str(pkg.code)
