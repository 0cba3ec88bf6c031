"""Resolution: citation + institution -> ranked targets (full text, open, a member's record
page and DOI, catalogue, delivery).

The web layer parses the request and decides who is asking; this module reads the
knowledge base, the registry and the index and hands everything to the pure ranking in
:mod:`resolver.linking.ranking`. Every URL a target carries is built here from KB, registry or
index data (templates filled with percent-encoded citation values), never copied from the
request, which is what keeps ``redirect=1`` and ``/go`` from being open redirects.

Harvested metadata is the one source no one at the consortium vouches for: a member
repository's record may name any URL as its open copy. Such a copy is offered on the menu
(the reader chooses it), but ``redirect=1`` follows it only to a host the registry records
for the repository the record came from or to a host the consortium lists
(:func:`may_redirect_to`). A restricted record's page in its repository is offered at all
only on a host the registry records for that repository (the same rule, without the listed
hosts: see :mod:`resolver.linking.member_records`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
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
    apply_proxy,
    build_links,
    citation_values,
    fill_template,
    is_http_url,
    url_host,
)
from resolver.kb.models import OPEN_ACCESS, Entitlement
from resolver.kb.snapshot import KbSnapshot, PackageInfo, kb_titles_mark, load_kb_snapshot
from resolver.linking.member_records import matching_records, member_targets
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
    #: repository code -> the code of the institution it belongs to
    repository_institutions: dict[str, str] = field(default_factory=dict)
    #: institution code -> the host of its website, as the registry records it
    website_hosts: dict[str, str] = field(default_factory=dict)
    #: hosts the consortium itself lists (its open platforms)
    listed_hosts: frozenset[str] = frozenset()
    #: (package id, institution code) -> that institution's entitlements to the package
    institution_grants: dict[tuple[int, str], list[Grant]] = field(default_factory=dict)
    #: :meth:`hosts_of` each repository, computed once per snapshot
    _hosts: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    #: :meth:`domains_of` each repository, computed once per snapshot
    _domains: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.ip_index and self.ranges:
            object.__setattr__(self, "ip_index", _ip_index(self.ranges))
        if not self.institution_grants and self.grants:
            by_institution: dict[tuple[int, str], list[Grant]] = {}
            for package_id, grants in self.grants.items():
                for grant in grants:
                    by_institution.setdefault((package_id, grant.institution), []).append(grant)
            object.__setattr__(self, "institution_grants", by_institution)
        if not self._hosts:
            for repo in self.repository_hosts.keys() | self.repository_institutions.keys():
                self._hosts[repo] = self.hosts_of(repo)
                self._domains[repo] = self.domains_of(repo)
        if not self.folded_codes and self.institutions:
            object.__setattr__(self, "folded_codes",
                               {c.casefold(): c for c in self.institutions})

    @property
    def codes(self) -> Collection[str]:
        return self.institutions.keys()

    def hosts_of(self, repository: str | None) -> frozenset[str]:
        """The hosts the registry records for a repository: its OAI-PMH endpoint's and its
        institution's website's (compared whole: a subdomain is another host; the website's
        subdomains are :meth:`domains_of`)."""
        if not repository:
            return frozenset()
        known = self._hosts.get(repository)
        if known is not None:
            return known
        hosts = {self.repository_hosts.get(repository),
                 self.website_hosts.get(self.repository_institutions.get(repository, ""))}
        return frozenset(h for h in hosts if h)

    def domains_of(self, repository: str | None) -> frozenset[str]:
        """The domain a repository's institution holds, from the website the registry records
        for it (:func:`member_domain`: ``www.tvu.edu.vn`` → ``tvu.edu.vn``): the member's own
        journal and repository sites (``ojs.tvu.edu.vn``) are under it. Empty when the website
        names no domain a member can hold."""
        if not repository:
            return frozenset()
        known = self._domains.get(repository)
        if known is not None:
            return known
        host = self.website_hosts.get(self.repository_institutions.get(repository, ""))
        domain = member_domain(host) if host else None
        return frozenset((domain,)) if domain else frozenset()

    def repository_names(self, repository: str) -> tuple[str, str] | None:
        """The Vietnamese and English names of a repository's institution (None: the
        registry does not know the repository)."""
        inst = self.institutions.get(self.repository_institutions.get(repository, ""))
        return (inst.name_vi, inst.name_en) if inst else None

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
        rows(select(Institution.id, Institution.code, Institution.name_vi, Institution.name_en,
                    Institution.website)
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
        rows(select(Repository.code, Repository.oai_url, Repository.institution_id)
             .order_by(Repository.code)),
    )


def _build_registry(rows: tuple[Any, ...], kb: KbSnapshot) -> Registry:
    inst_rows, settings_rows, range_rows, platform_rows, grant_rows, repo_rows = rows
    settings = {r[0]: r for r in settings_rows}
    insts: dict[str, InstitutionInfo] = {}
    ids: dict[int, str] = {}
    websites: dict[str, str] = {}
    for iid, code, name_vi, name_en, website in inst_rows:
        s = settings.get(iid)
        ids[iid] = code
        if host := url_host(website):
            websites[code] = host
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
    repo_hosts = {code: host for code, oai_url, _i in repo_rows if (host := url_host(oai_url))}
    repo_insts = {code: ids[iid] for code, _u, iid in repo_rows if iid in ids}
    listed = frozenset(host for _c, _n, template in platform_rows
                       if (host := url_host(template)))
    return Registry(insts, tuple(ranges), tuple(platform_rows), grants, dict(kb.packages),
                    kb=kb, rows=rows, repository_hosts=repo_hosts, listed_hosts=listed,
                    repository_institutions=repo_insts, website_hosts=websites)


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
    #: notes for library staff beyond the OpenURL's own, (Vietnamese, English): why a
    #: member repository's record page was not offered
    notes: tuple[tuple[str, str], ...] = ()

    def redirect_target(self) -> Target | None:
        """The target ``redirect=1`` sends the user to, or None (show the menu)."""
        return best_redirect([t for t in self.targets if t.url in self.redirectable
                              and t.url not in self.search_urls])

    def package_code(self, target: Target) -> str | None:
        if target.package is None:
            return None
        return self.package_codes.get(target.package, target.package)


def _record_url(record: Record) -> str | None:
    for url in (*record.fulltext_links, *record.urls):
        if is_http_url(url):
            return url
    return None


#: Second-level labels under which a country's registry sells names (``edu.vn``, ``ac.uk``,
#: ``co.jp``): ``www.edu.vn`` as a member's website must not make every university's host
#: the member's. A short list, not the Public Suffix List (not installed): what it misses
#: only narrows :func:`member_domain`'s answer to a host the registry recorded anyway.
_SECOND_LEVEL = frozenset({
    "ac", "co", "com", "edu", "gov", "gv", "go", "health", "info", "int", "mil", "name",
    "ne", "net", "or", "org", "pro", "sch", "biz", "nic",
})


def member_domain(website_host: str) -> str | None:
    """The domain a member holds, from its website's host: the host without a leading
    ``www.``, when that is a name a member can register (two labels under a generic TLD such
    as ``example.org``; three under a country's second level such as ``tvu.edu.vn``) — never
    a bare suffix (``edu.vn``), an IP address or a single label."""
    host = website_host.strip().lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return None
    if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL and len(labels) < 3:
        return None
    return host


def may_redirect_to(url: str, *, owner_host: str | None = None,
                    owner_hosts: Collection[str] = (), owner_domains: Collection[str] = (),
                    listed_hosts: Collection[str]) -> bool:
    """Whether ``redirect=1`` may send a reader to ``url``, a copy named by harvested metadata.

    Only to a host of the repository the record came from (``owner_host``, or any of
    ``owner_hosts``: :meth:`Registry.hosts_of`; or a host under the domain its institution
    holds, ``owner_domains``: :meth:`Registry.domains_of`) or to a host the consortium lists:
    a record can name any URL, and a redirect the reader did not choose must not take them
    wherever a repository's metadata says. Hosts are compared whole (``repo.example.evil.
    example`` is not ``repo.example``; a host is under a domain only after a dot) and only
    when the URL's host is beyond doubt (see :func:`resolver.kb.linktemplates.url_host`), so
    only http(s) URLs pass.

    A restricted record's page in its repository must pass this with no listed hosts: the
    page of a record is where its own repository says, not on some other platform.
    """
    host = url_host(url)
    if host is None:
        return False
    return (host == owner_host or host in owner_hosts or host in listed_hosts
            or any(host == d or host.endswith("." + d) for d in owner_domains))


def open_copies_from_index(ix: SearchIndex | None, citation: Citation) -> list[OpenCopy]:
    """Open records of our own index that are this work: same DOI/ISBN/handle, or the same
    title (exactly, after folding) and year
    (:func:`resolver.linking.member_records.matching_records`)."""
    return [copy for copy, _repository in _index_copies(matching_records(ix, citation))]


def _index_copies(records: Sequence[Record]) -> list[tuple[OpenCopy, str]]:
    """The open copies of the matching ``records``, each with its record's repository code."""
    copies: list[tuple[OpenCopy, str]] = []
    for rec in records:
        if rec.access != "open":
            continue
        url = _record_url(rec)
        if url and all(c.url != url for c, _r in copies):
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

    records = matching_records(index, citation)
    # a copy in our index is named by its institution, not by a repository code
    index_copies = [(_named(copy, registry), repo) for copy, repo in _index_copies(records)]
    # Everything the KB built may be a direct redirect; harvested copies only on the
    # owning repository's host or a listed one.
    redirectable = {u for h in holdings for u in (h.article_url, h.title_url) if u}
    redirectable.update(o.url for o in kb_open)
    redirectable.update(
        copy.url for copy, repo in index_copies
        if may_redirect_to(copy.url, owner_hosts=registry.hosts_of(repo),
                           owner_domains=registry.domains_of(repo),
                           listed_hosts=registry.listed_hosts))
    member = member_targets(
        records, citation_doi=citation.doi, names=registry.repository_names,
        owns=lambda url, repo: may_redirect_to(url, owner_hosts=registry.hosts_of(repo),
                                               owner_domains=registry.domains_of(repo),
                                               listed_hosts=()))
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
    targets = rank_targets(citation, code, holdings, opens, catalogue, delivery, today=today,
                           record_pages=member.pages, doi_links=member.dois)
    # A DOI link the menu already offers (the KB's doi.org article template, behind the
    # institution's proxy or not) is not offered twice; one the reader cannot follow there
    # (not entitled) is offered as the publisher's page.
    if member.dois:
        offered = {t.url for t in targets if t.available and t.kind != "publisher"}
        targets = [t for t in targets if t.kind != "publisher" or not (
            t.url in offered or apply_proxy(t.url, proxy) in offered)]
    # The ranking does not know which open copies came from a KB package; the API says so.
    kb_urls = {o.url: o.name for o in kb_open}
    targets = [
        dataclasses.replace(t, package=kb_urls[t.url])
        if t.kind == "open" and t.package is None and t.url in kb_urls else t
        for t in targets
    ]
    return Resolution(citation, institution, targets, names, frozenset(searches),
                      frozenset(redirectable), tuple(w.note() for w in member.withheld))
