"""The link check job: sample each package's title links and record which ones are dead.

Runs in ``lienhop worker`` as a huey task registered on the same huey instance as the
harvest jobs (:func:`register` takes a :class:`resolver.harvesting.queue.JobQueue`).
For each package
it samples a few titles, builds their title-level links exactly as the resolver does
(:mod:`resolver.kb.linktemplates`, without any institution's proxy: the check is about the
publisher's link, not a member's proxy login), asks each with HEAD (GET when the server
will not answer HEAD) under a short timeout, and waits a polite delay between two requests
to one host. The package's previous results are replaced, so the table always shows the
latest check.

Nothing here holds a database transaction open across the network: titles are read first,
probed, then the results written in one short transaction per package.
"""

from __future__ import annotations

import logging
import random
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from resolver import db
from resolver.db.base import utcnow
from resolver.kb.linktemplates import build_links
from resolver.kb.models import KbTitle, LinkCheck, Package
from resolver.openurl import Citation

__all__ = [
    "LINKCHECK_TASK",
    "Probe",
    "enqueue_link_check",
    "probe",
    "register",
    "run_link_check",
    "sample_titles",
    "title_link",
]

log = logging.getLogger("lienhop.linkcheck")

LINKCHECK_TASK = "lienhop.link_check"
DEFAULT_SAMPLE = 5
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "lienhop-linkcheck/1 (link resolver of the Vietnam S&T library consortium)"
# Statuses that say "this link is gone" whatever the method: asking again with GET would
# only cost the publisher a second request.
_DEFINITIVE = frozenset({404, 410})
NO_LINK = "no title-level link can be built for this title"


@dataclass(frozen=True)
class Probe:
    """What one URL answered: an HTTP status (after redirects), or None and an error."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


def title_link(package: Package, title: KbTitle) -> str | None:
    """The title-level link the resolver would offer for ``title`` (no proxy)."""
    citation = Citation(title=title.title, jtitle=title.title, issn=title.print_id,
                        eissn=title.online_id)
    return build_links(citation, title_template=package.title_template or "{title_url}",
                       title_url=title.title_url, title_id=title.title_id).title


def sample_titles(session: Session, package_id: int, n: int,
                  rng: random.Random) -> list[KbTitle]:
    """Up to ``n`` titles of a package, drawn at random (ids first: packages can be big)."""
    ids = list(session.scalars(select(KbTitle.id).where(KbTitle.package_id == package_id)
                               .order_by(KbTitle.id)))
    chosen = rng.sample(ids, min(max(n, 0), len(ids)))
    if not chosen:
        return []
    return list(session.scalars(select(KbTitle).where(KbTitle.id.in_(chosen))
                                .order_by(KbTitle.row, KbTitle.id)))


def probe(http: requests.Session, url: str, timeout: float) -> Probe:
    """HEAD ``url``; GET it when HEAD is refused or errs on the server's side.

    Many platforms answer HEAD with 403/405/500 while GET works, so only a 404/410 is
    believed from HEAD. A timeout is not retried with GET: it would just wait again.
    """
    try:
        resp = http.head(url, timeout=timeout, allow_redirects=True)
        resp.close()
        if resp.status_code < 400 or resp.status_code in _DEFINITIVE:
            return Probe(resp.status_code)
        resp = http.get(url, timeout=timeout, allow_redirects=True, stream=True)
        resp.close()  # stream=True: the body is never downloaded
        return Probe(resp.status_code)
    except requests.Timeout:
        return Probe(None, f"timeout after {timeout:g} s")
    except requests.RequestException as exc:
        return Probe(None, f"{type(exc).__name__}: {exc}"[:500])


class _Polite:
    """Waits so that two requests to one host are at least ``delay`` seconds apart."""

    def __init__(self, delay: float, sleep: Callable[[float], None],
                 clock: Callable[[], float] = time.monotonic):
        self.delay, self.sleep, self.clock = delay, sleep, clock
        self.last: dict[str, float] = {}

    def wait(self, url: str) -> None:
        host = urlsplit(url).netloc.lower()
        if host in self.last:
            remaining = self.delay - (self.clock() - self.last[host])
            if remaining > 0:
                self.sleep(remaining)
        self.last[host] = self.clock()


def run_link_check(
    sessions: sessionmaker[Session], *, packages: Sequence[str] | None = None,
    per_package: int = DEFAULT_SAMPLE, timeout: float = DEFAULT_TIMEOUT, delay: float = 1.0,
    seed: int | None = None, http: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, tuple[int, int]]:
    """Check ``per_package`` sampled title links of each package (all, or ``packages``).

    Returns package code -> (links checked, links dead). A title whose link cannot be
    built counts as dead: the resolver cannot send anyone there either.
    """
    rng = random.Random(seed)
    own_http = http is None
    http = http or requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    polite = _Polite(delay, sleep)
    summary: dict[str, tuple[int, int]] = {}
    try:
        with sessions() as s:
            query = select(Package).order_by(Package.code)
            if packages is not None:
                query = query.where(Package.code.in_(list(packages)))
            work = [(p.code, [(t.title, title_link(p, t))
                              for t in sample_titles(s, p.id, per_package, rng)])
                    for p in s.scalars(query)]
        for code, links in work:
            results = []
            for title, url in links:
                if url is None:
                    results.append(LinkCheck(package=code, title=title[:1000], url="",
                                             status=None, error=NO_LINK, checked_at=utcnow()))
                    continue
                polite.wait(url)
                found = probe(http, url, timeout)
                log.info("event=link_check package=%s status=%s url=%s", code, found.status,
                         url)
                results.append(LinkCheck(package=code, title=title[:1000], url=url[:2000],
                                         status=found.status, error=found.error,
                                         checked_at=utcnow()))
            with db.transaction(sessions) as s:
                s.execute(delete(LinkCheck).where(LinkCheck.package == code))
                s.add_all(results)
            summary[code] = (len(results), sum(1 for r in results if not r.ok))
    finally:
        if own_http:
            http.close()
    return summary


# --- the huey task ---------------------------------------------------------------------------

# One task object per huey instance: registering a name twice on one huey is an error, and
# the web process may build its queue more than once (tests do).
_TASKS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def register(queue: Any) -> Any:
    """Register the link check task on ``queue.huey`` (a
    :class:`resolver.harvesting.queue.JobQueue`).

    ``lienhop worker`` must call this on its queue too, or its consumer will not know the
    task name the web process sends.
    """
    huey = queue.huey
    task = _TASKS.get(huey)
    if task is None:
        settings = getattr(queue, "settings", None)
        delay = float(getattr(settings, "harvest_delay", 1.0))

        def link_check(packages: list[str] | None = None,
                       per_package: int = DEFAULT_SAMPLE) -> dict[str, tuple[int, int]]:
            return run_link_check(queue.sessions(), packages=packages,
                                  per_package=per_package, delay=delay)

        task = huey.task(name=LINKCHECK_TASK)(link_check)
        _TASKS[huey] = task
    return task


def enqueue_link_check(queue: Any, packages: list[str] | None = None,
                       per_package: int = DEFAULT_SAMPLE) -> str:
    """Send a link check to the worker; returns huey's task id."""
    signature = register(queue).s(packages, per_package)
    queue.huey.enqueue(signature)
    return str(signature.id)
