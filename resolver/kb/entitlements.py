"""Which institution may use which package: granting and withdrawing entitlements."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.kb.errors import KbError
from resolver.kb.models import Entitlement, Package
from resolver.registry.models import Institution

__all__ = ["entitle"]


def entitle(
    session: Session,
    package: str,
    institution: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    remove: bool = False,
) -> Entitlement | None:
    """Grant (or with ``remove``, withdraw every grant of) a package to an institution.

    A grant with the same start date is updated in place, so re-running a script is safe.
    """
    pkg = session.scalar(select(Package).where(Package.code == package))
    if pkg is None:
        raise KbError(f"no package {package!r} (import it first: lienhop kb import)")
    inst = session.scalar(select(Institution).where(Institution.code == institution))
    if inst is None:
        raise KbError(f"no institution {institution!r} in the registry")
    if start and end and end < start:
        raise KbError(f"entitlement ends ({end}) before it starts ({start})")
    existing = session.scalars(select(Entitlement).where(
        Entitlement.package_id == pkg.id, Entitlement.institution_id == inst.id)).all()
    if remove:
        for e in existing:
            session.delete(e)
        session.flush()
        return None
    for e in existing:
        if e.start == start:
            e.end = end
            session.flush()
            return e
    e = Entitlement(package_id=pkg.id, institution_id=inst.id, start=start, end=end)
    session.add(e)
    session.flush()
    return e
