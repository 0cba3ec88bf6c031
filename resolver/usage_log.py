"""The resolver request log: what each resolution offered, for requests and turnaways.

:func:`classify` is pure (a resolution -> its outcome); :func:`record` writes one
:class:`~resolver.usage_models.ResolveLog` row and never lets a logging failure reach the
user, as the click log does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from resolver.usage_models import FULLTEXT, NO_MATCH, OPEN_ONLY, TURNAWAY, ResolveLog

log = logging.getLogger("lienhop.usage")


@dataclass(frozen=True)
class Outcome:
    outcome: str
    #: the best-ranked subscription package the institution is not entitled to (turnaway)
    package: str | None
    packages: tuple[str, ...]


def classify(res) -> Outcome:  # type: ignore[no-untyped-def]  # resolve_service.Resolution
    """The outcome of one resolution.

    * ``fulltext``: some subscription full text is available to the institution;
    * ``open``: no entitled full text, but an open copy (our index or an open package; an
      open platform's *search* link does not count: it may find nothing);
    * ``turnaway``: neither, and a subscription package holds the citation for a period
      that covers it, but the institution is not entitled (or could not be identified);
    * ``nomatch``: nothing at all.

    ``package`` is also set for ``open`` outcomes when a subscription package turned the
    institution away: an open copy rescued the user, but the demand is still evidence.
    """
    packages: list[str] = []
    denied: str | None = None
    has_fulltext = has_open = False
    for t in res.targets:
        code = res.package_code(t)
        if code and code not in packages:
            packages.append(code)
        if t.kind == "fulltext":
            if t.available and t.url:
                has_fulltext = True
            elif denied is None and code:
                denied = code
        elif t.kind == "open" and t.available and t.url and t.url not in res.search_urls:
            has_open = True
    if has_fulltext:
        return Outcome(FULLTEXT, None, tuple(packages))
    if has_open:
        return Outcome(OPEN_ONLY, denied, tuple(packages))
    if denied:
        return Outcome(TURNAWAY, denied, tuple(packages))
    return Outcome(NO_MATCH, None, tuple(packages))


def record(session: Session, res) -> None:  # type: ignore[no-untyped-def]
    """Log one resolution (committing ``session``); failures are logged, never raised."""
    try:
        o = classify(res)
        c = res.citation
        title = c.atitle or c.title
        # No IP address, no cookie, no user: usage reports count institutions, not people.
        session.add(ResolveLog(
            institution=res.institution.code if res.institution else None,
            outcome=o.outcome, package=o.package, packages=" ".join(o.packages)[:500],
            doi=(c.doi or None) and c.doi[:300], issn=c.issn or c.eissn, isbn=c.isbn,
            title=title[:300] if title else None))
        session.commit()
    except Exception:  # a lost log line must not cost the user their article
        session.rollback()
        log.exception("could not log a resolution")
