"""The resolver request log: what each resolution offered, for requests and turnaways.

:func:`classify` is pure (a resolution -> its outcome); :func:`record` writes one
:class:`~resolver.usage.models.ResolveLog` row and never lets a logging failure reach the
user, as the click log does. :class:`RecentClicks` remembers which ``/go/`` tokens were
just counted, so that replaying one link counts one click.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from resolver.openurl import Citation
from resolver.usage.models import FULLTEXT, NO_MATCH, OPEN_ONLY, TURNAWAY, ResolveLog

log = logging.getLogger("lienhop.usage")


@dataclass(frozen=True)
class Outcome:
    outcome: str
    #: the best-ranked subscription package the institution is not entitled to (turnaway)
    package: str | None
    packages: tuple[str, ...]


class MenuLine(Protocol):
    """What the log reads of one menu line (:class:`resolver.linking.ranking.Target`)."""

    @property
    def kind(self) -> str: ...
    @property
    def available(self) -> bool: ...
    @property
    def url(self) -> str | None: ...


class Member(Protocol):
    @property
    def code(self) -> str: ...


_Line = TypeVar("_Line", bound=MenuLine)


class Resolved(Protocol[_Line]):
    """What the log reads of a resolution (:class:`resolver.linking.service.Resolution`):
    described here, so that usage does not depend on the linking domain."""

    @property
    def citation(self) -> Citation: ...
    @property
    def institution(self) -> Member | None: ...
    @property
    def targets(self) -> Sequence[_Line]: ...
    @property
    def search_urls(self) -> Collection[str]: ...
    def package_code(self, target: _Line, /) -> str | None: ...


def classify(res: Resolved[_Line]) -> Outcome:
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


def record(session: Session, res: Resolved[_Line]) -> None:
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


class RecentClicks:
    """The clicks counted in the last ``window`` seconds, so that a replay counts once.

    Kept in the process and bounded (``size`` keys, the oldest forgotten first): the click
    table has no column for a token and may not change without a migration. A replay that
    reaches another worker of the same server therefore counts again, at most once per
    worker and window; what this stops is a reload, a back button, a link checker or a
    script replaying one link hundreds of times.
    """

    def __init__(self, window: float = 600.0, size: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        #: digest of a key -> when it was counted, oldest first
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def first(self, key: str) -> bool:
        """True (and remember ``key``) unless ``key`` was counted within the window."""
        # A digest, not the key: tokens run to kilobytes, and this holds 100k of them.
        digest = hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=16).digest()
        now = self._clock()
        with self._lock:
            seen = self._seen
            while seen:
                oldest, at = next(iter(seen.items()))
                if now - at < self.window:
                    break
                del seen[oldest]
            if digest in seen:
                return False
            seen[digest] = now
            if len(seen) > self.size:
                seen.popitem(last=False)
            return True

    def __len__(self) -> int:
        return len(self._seen)
