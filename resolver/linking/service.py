"""Resolution: citation + institution -> ranked targets (full text, open, catalogue, delivery).

The web layer parses the request and decides who is asking; this module reads the
knowledge base, the registry and the index and hands everything to the pure ranking in
:mod:`resolver.linking.ranking`. Every URL a target carries is built here from KB, registry or
index data (templates filled with percent-encoded citation values), never copied from the
request, which is what keeps ``redirect=1`` and ``/go`` from being open redirects.

Harvested metadata is the one source no one at the consortium vouches for: a member
repository's record may name any URL as its open copy. Such a copy is offered on the menu
(the reader chooses it), but ``redirect=1`` follows it only to the host of the repository
the record came from or to a host the consortium lists (:func:`may_redirect_to`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from index import Record, SearchIndex
from resolver.kb.coverage import covers_citation
from resolver.kb.linktemplates import (
    build_links,
    citation_values,
    fill_template,
    is_http_url,
    url_host,
)
from resolver.kb.models import OPEN_ACCESS, Entitlement
from resolver.kb.rows import fold_title
from resolver.kb.snapshot import KbSnapshot, PackageInfo, kb_titles_mark, load_kb_snapshot
from resolver.linking.ranking import (
    CatalogueLink,
    DeliveryOption,
    Grant,
    Holding,
    OpenCopy,
    Target,
    best_redirect,
    rank_targets,
)
from resolver.openurl import Citation
from resolver.registry.campus import IPNetwork, parse_ip
from resolver.registry.models import (
    Institution,
    IpRange,
    OpenPlatform,
    Repository,
    ResolverSettings,
)

__all__ = [
    "InstitutionInfo",
    "Registry",
    "RegistryCache",
    "Resolution",
    "identify",
    "load_registry",
    "may_redirect_to",
    "open_copies_from_index",
    "resolve",
]

log = logging.getLogger("lienhop.resolve")

#: The most open copies from our own index offered for one citation.
MAX_INDEX_COPIES = 3


@dataclass(frozen=True)
class InstitutionInfo:
    """What the resolver needs to know about one institution."""

    code: str
    name_vi: str
    name_en: str
    proxy_prefix: str = ""
    catalogue_template: str = ""
    catalogue_name: str = ""
    redirect_default: bool = False


#: (version, prefix length) -> {network address as int: institution code}, longest first
_IpIndex = tuple[tuple[int, int, dict[int, str]], ...]


def _ip_index(ranges: Sequence[tuple[str, IPNetwork]]) -> _IpIndex:
    """Ranges grouped by prefix length, so an address is matched by masking, not scanning.

    Two ranges of one prefix length that both contain an address are the same network;
    the first listed keeps it, as :func:`resolver.registry.campus.institution_for_ip` does.
    """
    groups: dict[tuple[int, int], dict[int, str]] = {}
    for code, net in ranges:
        groups.setdefault((net.version, net.prefixlen), {}).setdefault(
            int(net.network_address), code)
    return tuple((v, plen, nets) for (v, plen), nets in
                 sorted(groups.items(), key=lambda kv: -kv[0][1]))


@dataclass(frozen=True)
class Registry:
    """A snapshot of the registry, the open platforms and the knowledge base.

    Immutable and shared by every thread of a worker; :class:`RegistryCache` replaces it
    when the database changes.
    """

    institutions: dict[str, InstitutionInfo]
    ranges: tuple[tuple[str, IPNetwork], ...]
    platforms: tuple[tuple[str, str, str], ...]  # (code, name, url_template)
    #: package id -> entitlements (a few thousand rows for the whole consortium)
    grants: dict[int, list[Grant]] = field(default_factory=dict)
    packages: dict[int, PackageInfo] = field(default_factory=dict)
    kb: KbSnapshot | None = None
    #: the registry rows this snapshot was built from (compared to notice any edit)
    rows: tuple[Any, ...] = ()
    loaded_at: float = field(default_factory=time.monotonic)
    ip_index: _IpIndex = ()
    folded_codes: dict[str, str] = field(default_factory=dict)
    #: repository code -> the host of its OAI-PMH endpoint (its own site)
    repository_hosts: dict[str, str] = field(default_factory=dict)
    #: hosts the consortium itself lists (its open platforms)
    listed_hosts: frozenset[str] = frozenset()
    #: (package id, institution code) -> that institution's entitlements to the package
    institution_grants: dict[tuple[int, str], list[Grant]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ip_index and self.ranges:
            object.__setattr__(self, "ip_index", _ip_index(self.ranges))
        if not self.institution_grants and self.grants:
            by_institution: dict[tuple[int, str], list[Grant]] = {}
            for package_id, grants in self.grants.items():
                for grant in grants:
                    by_institution.setdefault((package_id, grant.institution), []).append(grant)
            object.__setattr__(self, "institution_grants", by_institution)
        if not self.folded_codes and self.institutions:
            object.__setattr__(self, "folded_codes",
                               {c.casefold(): c for c in self.institutions})

    @property
    def codes(self) -> Collection[str]:
        return self.institutions.keys()

    def grants_of(self, package_id: int, institution: str | None) -> list[Grant]:
        """``institution``'s entitlements to a package: the only ones the ranking can find
        running for it (a package has a grant per member; scanning them all per holding
        was waste)."""
        if not institution:
            return []
        return self.institution_grants.get((package_id, institution), [])

    def known_code(self, value: str | None) -> str | None:
        """An institution code as given or up to case; None when unknown."""
        if not value:
            return None
        v = value.strip()
        if v in self.institutions:
            return v
        return self.folded_codes.get(v.casefold())

    def institution_for_ip(self, ip: str | None) -> str | None:
        """Institution whose campus range holds ``ip``; the most specific range wins."""
        addr = parse_ip(ip)
        if addr is None:
            return None
        value = int(addr)
        width = addr.max_prefixlen
        for version, plen, nets in self.ip_index:
            if version != addr.version:
                continue
            code = nets.get(value >> (width - plen) << (width - plen))
            if code is not None:
                return code
        return None


def _registry_rows(session: Session) -> tuple[Any, ...]:
    """The registry tables as plain tuples: about 2 ms for 130 institutions and 1.5k grants.

    Cheap enough to read every second and compare, which notices every edit, including
    the in-place ones (a proxy prefix, an entitlement's end date) no count or max would.
    """
    def rows(stmt: Any) -> tuple[tuple[Any, ...], ...]:
        return tuple(tuple(r) for r in session.execute(stmt))

    return (
        rows(select(Institution.id, Institution.code, Institution.name_vi, Institution.name_en)
             .order_by(Institution.code)),
        rows(select(ResolverSettings.institution_id, ResolverSettings.proxy_prefix,
                    ResolverSettings.catalogue_template, ResolverSettings.catalogue_name,
                    ResolverSettings.redirect_default)
             .order_by(ResolverSettings.institution_id)),
        rows(select(IpRange.institution_id, IpRange.cidr).order_by(IpRange.id)),
        rows(select(OpenPlatform.code, OpenPlatform.name, OpenPlatform.url_template)
             .where(OpenPlatform.enabled.is_(True))
             .order_by(OpenPlatform.position, OpenPlatform.code)),
        rows(select(Entitlement.package_id, Entitlement.institution_id, Entitlement.start,
                    Entitlement.end).order_by(Entitlement.id)),
        rows(select(Repository.code, Repository.oai_url).order_by(Repository.code)),
    )


def _build_registry(rows: tuple[Any, ...], kb: KbSnapshot) -> Registry:
    inst_rows, settings_rows, range_rows, platform_rows, grant_rows, repo_rows = rows
    settings = {r[0]: r for r in settings_rows}
    insts: dict[str, InstitutionInfo] = {}
    ids: dict[int, str] = {}
    for iid, code, name_vi, name_en in inst_rows:
        s = settings.get(iid)
        ids[iid] = code
        insts[code] = InstitutionInfo(
            code, name_vi, name_en or name_vi,
            proxy_prefix=s[1] if s else "",
            catalogue_template=s[2] if s else "",
            catalogue_name=s[3] if s else "",
            redirect_default=bool(s[4]) if s else False,
        )
    ranges = []
    for iid, cidr in range_rows:
        try:  # parsed once per snapshot: parsing 200 CIDRs per request was the top cost
            ranges.append((ids[iid], ipaddress.ip_network(cidr, strict=False)))
        except (KeyError, ValueError):
            log.warning("ignoring IP range %r", cidr)
    grants: dict[int, list[Grant]] = {}
    for pid, iid, start, end in grant_rows:
        if iid in ids:
            grants.setdefault(pid, []).append(Grant(ids[iid], start, end))
    repo_hosts = {code: host for code, oai_url in repo_rows if (host := url_host(oai_url))}
    listed = frozenset(host for _c, _n, template in platform_rows
                       if (host := url_host(template)))
    return Registry(insts, tuple(ranges), tuple(platform_rows), grants, dict(kb.packages),
                    kb=kb, rows=rows, repository_hosts=repo_hosts, listed_hosts=listed)


def load_registry(session: Session) -> Registry:
    """Institutions (with resolver settings), campus ranges, open platforms and the KB."""
    kb = load_kb_snapshot(session)
    return _build_registry(_registry_rows(session), kb)


class RegistryCache:
    """One :class:`Registry` per process, checked against the database at most every
    ``check_seconds`` (0: on every call, for tests).

    A check reads the registry rows and the KB mark (about 2 ms); the registry is rebuilt
    from those rows when they differ (a millisecond), the title snapshot only when the
    mark differs (about a second for 50k titles). While one thread checks or rebuilds,
    the others keep answering from the previous snapshot instead of queueing behind it.
    """

    def __init__(self, check_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.check_seconds = check_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Registry | None = None
        self._checked = 0.0

    def get(self, session: Callable[[], Session]) -> Registry:
        """The current snapshot; ``session`` is only called when the database is read."""
        cur = self._current
        if cur is not None and self._clock() - self._checked < self.check_seconds:
            return cur
        if not self._lock.acquire(blocking=cur is None or self.check_seconds <= 0):
            assert cur is not None  # only a snapshot's holder tries without blocking
            return cur  # another thread is refreshing
        try:
            cur = self._current
            if cur is not None and self._clock() - self._checked < self.check_seconds:
                return cur  # refreshed while this thread waited
            s = session()
            mark = kb_titles_mark(s)  # read before the data it describes
            rows = _registry_rows(s)
            if cur is None or cur.kb is None or cur.kb.mark != mark:
                kb = load_kb_snapshot(s, mark)
                log.info("KB snapshot: %d titles in %d packages", kb.titles, len(kb.packages))
            else:
                kb = cur.kb
            if cur is None or kb is not cur.kb or rows != cur.rows:
                cur = _build_registry(rows, kb)
                self._current = cur
            self._checked = self._clock()
            return cur
        finally:
            self._lock.release()

    def clear(self) -> None:
        """Forget the snapshot: the next :meth:`get` reads everything again."""
        with self._lock:
            self._current = None


def identify(
    registry: Registry, *, inst_param: str | None, ip: str | None, cookie: str | None
) -> tuple[str | None, str | None]:
    """(institution code, how it was found: "inst" | "ip" | "cookie" | None).

    The order is the issue's: the catalogue's explicit ``inst``, then the campus network,
    then the user's earlier choice.
    """
    found = registry.known_code(inst_param)
    if found:
        return found, "inst"
    found = registry.institution_for_ip(ip)
    if found:
        return found, "ip"
    found = registry.known_code(cookie)
    if found:
        return found, "cookie"
    return None, None


@dataclass
class Resolution:
    """The menu for one citation: ranked targets plus what the page and API show."""

    citation: Citation
    institution: InstitutionInfo | None
    targets: list[Target]
    #: display name -> package code (targets carry the display name)
    package_codes: dict[str, str] = field(default_factory=dict)
    #: URLs of open-platform *searches*: offered on the menu, never a direct redirect
    search_urls: frozenset[str] = frozenset()
    #: the URLs a direct redirect may go to: built from the KB, or harvested copies on a
    #: host the registry vouches for; anything else is only offered (empty: never redirect)
    redirectable: frozenset[str] = frozenset()

    def redirect_target(self) -> Target | None:
        """The target ``redirect=1`` sends the user to, or None (show the menu)."""
        return best_redirect([t for t in self.targets if t.url in self.redirectable
                              and t.url not in self.search_urls])

    def package_code(self, target: Target) -> str | None:
        if target.package is None:
            return None
        return self.package_codes.get(target.package, target.package)


def _handle(citation: Citation) -> str | None:
    for other in citation.other_ids:
        m = re.search(r"(?:hdl\.handle\.net/|info:hdl/|^hdl:)(\d[\d.]*/\S+)", other)
        if m:
            return m.group(1)
    return None


def _record_url(record: Record) -> str | None:
    for url in (*record.fulltext_links, *record.urls):
        if is_http_url(url):
            return url
    return None


def may_redirect_to(url: str, *, owner_host: str | None, listed_hosts: Collection[str]) -> bool:
    """Whether ``redirect=1`` may send a reader to ``url``, a copy named by harvested metadata.

    Only to the host of the repository the record came from (``owner_host``) or to a host
    the consortium lists: a record can name any URL, and a redirect the reader did not
    choose must not take them wherever a repository's metadata says. Hosts are compared
    whole (``repo.example.evil.example`` is not ``repo.example``) and only when the URL's
    host is beyond doubt (see :func:`resolver.kb.linktemplates.url_host`).
    """
    host = url_host(url)
    return host is not None and (host == owner_host or host in listed_hosts)


def open_copies_from_index(ix: SearchIndex | None, citation: Citation) -> list[OpenCopy]:
    """Open records of our own index that are this work: same DOI/ISBN/handle, or the same
    title (exactly, after folding) and year.

    A title-only search returns namesakes; offering a namesake as "the open copy" is the
    OA false positive users complain about most, hence the exact-title check.
    """
    return [copy for copy, _repository in _index_copies(ix, citation)]


def _index_copies(ix: SearchIndex | None, citation: Citation) -> list[tuple[OpenCopy, str]]:
    """:func:`open_copies_from_index`, each copy with the code of its record's repository."""
    if ix is None:
        return []
    part_title = citation.atitle or (citation.title if citation.format != "journal" else None)
    handle = _handle(citation)
    if not (citation.doi or citation.isbn or handle or part_title):
        return []
    try:
        records = ix.lookup(doi=citation.doi, isbn=citation.isbn, handle=handle,
                            title=part_title, year=citation.year, author=citation.aulast,
                            limit=10)
    except Exception:  # the index is an optional source: a broken one must not break links
        log.exception("index lookup failed")
        return []
    want = fold_title(part_title) if part_title else None
    copies: list[tuple[OpenCopy, str]] = []
    for rec in records:
        if rec.access != "open":
            continue
        same_id = (
            (citation.doi and rec.doi == citation.doi)
            or (citation.isbn and citation.isbn in rec.isbn)
            or (handle and rec.handle == handle)
        )
        same_title = want and fold_title(rec.title) == want and (
            citation.year is None or rec.year is None or rec.year == citation.year)
        url = _record_url(rec)
        if url and (same_id or same_title) and all(c.url != url for c, _r in copies):
            copies.append((OpenCopy(url, rec.institution or rec.repository, source="index"),
                           rec.repository))
        if len(copies) >= MAX_INDEX_COPIES:
            break
    return copies


def _named(copy: OpenCopy, registry: Registry) -> OpenCopy:
    inst = registry.institutions.get(copy.name)
    if inst is None:
        return copy
    return dataclasses.replace(copy, name=inst.name_vi, name_en=inst.name_en)


def _display(pkg: PackageInfo) -> str:
    return pkg.name or pkg.code


def resolve(
    session: Session | None,
    citation: Citation,
    institution: InstitutionInfo | None,
    registry: Registry,
    *,
    today: date,
    index: SearchIndex | None = None,
    delivery_url: str | None = None,
) -> Resolution:
    """Rank every target for ``citation`` as seen by ``institution`` (None: unknown)."""
    code = institution.code if institution else None
    proxy = institution.proxy_prefix if institution else None
    kb = registry.kb
    if kb is None:  # a registry built by hand: read the knowledge base now
        if session is None:
            raise ValueError("a registry without a KB snapshot needs a session")
        kb = load_kb_snapshot(session)
    found = kb.holdings(
        issns=[i for i in (citation.issn, citation.eissn) if i],
        isbns=[citation.isbn] if citation.isbn else [],
        title=citation.title or citation.jtitle or citation.btitle or citation.stitle,
    )
    holdings: list[Holding] = []
    kb_open: list[OpenCopy] = []
    names: dict[str, str] = {}
    for pkg, rows in found:
        covs = [(r, r.coverage) for r in rows if r.coverage is not None]
        if not covs:
            continue
        decision = covers_citation([c for _, c in covs], citation, today)
        row = next((r for r, c in covs if c is decision.coverage), covs[0][0])
        links = build_links(
            citation,
            article_template=pkg.article_template or None,
            title_template=pkg.title_template or None,
            title_url=row.title_url,
            title_id=row.title_id,
            # Open collections need no proxy; proxying them only adds a login page.
            proxy_prefix=proxy if pkg.kind != OPEN_ACCESS else None,
        )
        display = _display(pkg)
        if display in names and names[display] != pkg.code:
            display = f"{display} ({pkg.code})"
        names[display] = pkg.code
        if pkg.kind == OPEN_ACCESS:
            if decision.covered and links.best:
                kb_open.append(OpenCopy(links.best, display, source="platform"))
            continue
        holdings.append(Holding(display, registry.grants_of(pkg.id, code), decision,
                                article_url=links.article, title_url=links.title))

    # a copy in our index is named by its institution, not by a repository code
    index_copies = [(_named(copy, registry), repo)
                    for copy, repo in _index_copies(index, citation)]
    # Everything the KB built may be a direct redirect; harvested copies only on the
    # owning repository's host or a listed one.
    redirectable = {u for h in holdings for u in (h.article_url, h.title_url) if u}
    redirectable.update(o.url for o in kb_open)
    redirectable.update(
        copy.url for copy, repo in index_copies
        if may_redirect_to(copy.url, owner_host=registry.repository_hosts.get(repo),
                           listed_hosts=registry.listed_hosts))
    opens = [copy for copy, _repo in index_copies] + kb_open
    values = citation_values(citation)
    searches = set()
    for _pcode, pname, template in registry.platforms:
        url = fill_template(template, values)
        if url:
            opens.append(OpenCopy(url, pname, source="platform"))
            searches.add(url)

    catalogue: list[CatalogueLink] = []
    if institution and institution.catalogue_template:
        for template in institution.catalogue_template.split():
            url = fill_template(template, values)
            if url:
                catalogue.append(CatalogueLink(url, institution.catalogue_name or code or ""))
                break
    delivery = [DeliveryOption(delivery_url)] if delivery_url else []
    targets = rank_targets(citation, code, holdings, opens, catalogue, delivery, today=today)
    # The ranking does not know which open copies came from a KB package; the API says so.
    kb_urls = {o.url: o.name for o in kb_open}
    targets = [
        dataclasses.replace(t, package=kb_urls[t.url])
        if t.kind == "open" and t.package is None and t.url in kb_urls else t
        for t in targets
    ]
    return Resolution(citation, institution, targets, names, frozenset(searches),
                      frozenset(redirectable))
