"""The request log: what each resolution offered (requests and turnaways), and the clicks.

:func:`classify` is pure (a resolution -> its outcome); :func:`resolution_row` and
:func:`click_row` are the columns of a :class:`~resolver.usage.models.ResolveLog` and a
:class:`~resolver.usage.models.ClickLog` row (pure, cut to the columns' sizes);
:func:`record` and :func:`record_click` hand them to the request log's buffer
(:class:`resolver.usage.logbuffer.LogBuffer`, written in batches) and never let a logging
failure reach the user. :class:`RecentClicks` remembers which ``/go/`` tokens were just
counted, so that replaying one link counts one click.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from resolver.openurl import Citation
from resolver.usage.models import (
    FULLTEXT,
    NO_MATCH,
    OPEN_ONLY,
    RESTRICTED,
    TURNAWAY,
    ClickLog,
    ResolveLog,
)

log = logging.getLogger("lienhop.usage")

#: target kinds that lead to a member repository's restricted record: its record page and the
#: publisher's page through the DOI (resolver.linking.ranking's RecordPage and DoiLink)
MEMBER_KINDS = frozenset({"repository", "publisher"})


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
    * ``restricted``: none of those, but a member repository holds the work, restricted: its
      record page or the publisher's page through the DOI is offered (demand the consortium
      holds, not "no match");
    * ``nomatch``: nothing at all.

    ``package`` is also set for ``open`` outcomes when a subscription package turned the
    institution away: an open copy rescued the user, but the demand is still evidence.
    """
    packages: list[str] = []
    denied: str | None = None
    has_fulltext = has_open = has_member = False
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
        elif t.kind in MEMBER_KINDS and t.available and t.url:
            has_member = True
    if has_fulltext:
        return Outcome(FULLTEXT, None, tuple(packages))
    if has_open:
        return Outcome(OPEN_ONLY, denied, tuple(packages))
    if denied:
        return Outcome(TURNAWAY, denied, tuple(packages))
    if has_member:
        return Outcome(RESTRICTED, None, tuple(packages))
    return Outcome(NO_MATCH, None, tuple(packages))


class LogRows(Protocol):
    """Where log rows go (:class:`resolver.usage.logbuffer.LogBuffer`)."""

    def add(self, table: type[ResolveLog] | type[ClickLog], values: dict[str, Any], /) -> None:
        ...


def _cut(value: object, size: int) -> str | None:
    """``value`` as text of at most ``size`` characters; None for nothing."""
    if value is None or value == "":
        return None
    return str(value)[:size]


def resolution_row(res: Resolved[_Line]) -> dict[str, Any]:
    """The :class:`ResolveLog` columns of one resolution (its time is stamped by the buffer).

    No IP address, no cookie, no user: usage reports count institutions, not people.
    """
    o = classify(res)
    c = res.citation
    return {
        "institution": res.institution.code if res.institution else None,
        "outcome": o.outcome, "package": o.package, "packages": " ".join(o.packages)[:500],
        "doi": _cut(c.doi, 300), "issn": _cut(c.issn or c.eissn, 20), "isbn": _cut(c.isbn, 20),
        "title": _cut(c.atitle or c.title, 300),
    }


def click_row(payload: Sequence[Any]) -> dict[str, Any]:
    """The :class:`ClickLog` columns of a followed ``/go/`` token's payload
    ``[url, kind, package, institution, doi, issn, isbn, title, …]``, each cut to its
    column (a DOI has no length limit; PostgreSQL refuses a value longer than its column)."""
    _url, kind, package, inst, doi, issn, isbn, title = (list(payload) + [None] * 8)[:8]
    return {
        "kind": str(kind)[:16], "package": _cut(package, 64), "institution": _cut(inst, 64),
        "doi": _cut(doi, 300), "issn": _cut(issn, 20), "isbn": _cut(isbn, 20),
        "title": _cut(title, 300),
    }


def record(rows: LogRows, res: Resolved[_Line]) -> None:
    """Log one resolution; failures are logged, never raised."""
    try:
        rows.add(ResolveLog, resolution_row(res))
    except Exception:  # a lost log line must not cost the user their article
        log.exception("could not log a resolution")


def record_click(rows: LogRows, payload: Sequence[Any]) -> None:
    """Log one followed link; failures are logged, never raised."""
    try:
        rows.add(ClickLog, click_row(payload))
    except Exception:  # a lost log line must not cost the user their article
        log.exception("could not log a click")


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
