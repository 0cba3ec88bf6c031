"""KB rows for a citation, read from the database (the snapshot's reference behaviour).

The resolver answers from memory (:meth:`resolver.kb.snapshot.KbSnapshot.holdings`, same
matching and order); this query is what that must agree with, and what a caller without a
snapshot uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from resolver.kb.models import KbTitle, Package
from resolver.kb.rows import fold_title

__all__ = ["holdings_rows"]


def holdings_rows(
    session: Session,
    *,
    issns: Sequence[str] = (),
    isbns: Sequence[str] = (),
    title: str | None = None,
    packages: Mapping[int, Package] | None = None,
) -> list[tuple[Package, list[KbTitle]]]:
    """KB rows for a citation, grouped by package (package code order).

    Identifiers first (print or online ISSN/ISBN); the folded title only when no
    identifier matched anything, since a title alone also matches unrelated namesakes.
    ``packages`` (id -> package, e.g. a cached snapshot) saves a join per request; a
    package missing from it is read from the database.
    """
    ids = [i for i in (*issns, *isbns) if i]
    rows: Sequence[KbTitle] = []
    if ids:
        rows = session.scalars(
            select(KbTitle).where(or_(KbTitle.print_id.in_(ids), KbTitle.online_id.in_(ids)))
            .order_by(KbTitle.row)
        ).all()
    if not rows and title:
        folded = fold_title(title)
        if folded:
            rows = session.scalars(
                select(KbTitle).where(KbTitle.title_norm == folded).order_by(KbTitle.row)
            ).all()
    known = dict(packages or {})
    missing = {r.package_id for r in rows} - known.keys()
    if missing:
        known.update((p.id, p) for p in session.scalars(
            select(Package).where(Package.id.in_(missing))))
    grouped: dict[int, tuple[Package, list[KbTitle]]] = {}
    for row in rows:
        grouped.setdefault(row.package_id, (known[row.package_id], []))[1].append(row)
    return sorted(grouped.values(), key=lambda g: g[0].code)
