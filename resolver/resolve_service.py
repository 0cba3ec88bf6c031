"""Resolution: citation + institution -> ranked targets (full text, open, catalogue, delivery).

The web layer parses the request and decides who is asking; this module reads the
knowledge base, the registry and the index and hands everything to the pure ranking in
:mod:`resolver.ranking`. Every URL a target carries is built here from KB, registry or
index data (templates filled with percent-encoded citation values), never copied from the
request, which is what keeps ``redirect=1`` and ``/go`` from being open redirects.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.coverage import Coverage, covers_citation
from resolver.institution import IPNetwork, detect_institution, institution_for_ip
from resolver.kb import fold_title, holdings_rows, kbart_row
from resolver.linktemplates import build_links, citation_values, fill_template, is_http_url
from resolver.models import (
    OPEN_ACCESS,
    Entitlement,
    Institution,
    IpRange,
    OpenPlatform,
    Package,
    ResolverSettings,
)
from resolver.openurl import Citation
from resolver.ranking import (
    CatalogueLink,
    DeliveryOption,
    Holding,
    OpenCopy,
    Target,
    best_redirect,
    rank_targets,
)
from resolver.ranking import Entitlement as Grant

__all__ = [
    "InstitutionInfo",
    "Registry",
    "Resolution",
    "identify",
    "load_registry",
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


@dataclass(frozen=True)
class Registry:
    """A snapshot of the registry and the open platforms, cheap to keep for a few seconds."""

    institutions: dict[str, InstitutionInfo]
    ranges: tuple[tuple[str, IPNetwork], ...]
    platforms: tuple[tuple[str, str, str], ...]  # (code, name, url_template)
    #: package id -> entitlements (a few thousand rows for the whole consortium)
    grants: dict[int, list[Grant]] = field(default_factory=dict)
    packages: dict[int, Package] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def codes(self) -> Collection[str]:
        return self.institutions.keys()


def load_registry(session: Session) -> Registry:
    """Institutions (with resolver settings), campus ranges and enabled open platforms."""
    settings = {s.institution_id: s for s in session.scalars(select(ResolverSettings))}
    insts: dict[str, InstitutionInfo] = {}
    ids: dict[int, str] = {}
    for inst in session.scalars(select(Institution).order_by(Institution.code)):
        s = settings.get(inst.id)
        ids[inst.id] = inst.code
        insts[inst.code] = InstitutionInfo(
            inst.code, inst.name_vi, inst.name_en or inst.name_vi,
            proxy_prefix=s.proxy_prefix if s else "",
            catalogue_template=s.catalogue_template if s else "",
            catalogue_name=s.catalogue_name if s else "",
            redirect_default=bool(s.redirect_default) if s else False,
        )
    ranges = []
    for r in session.scalars(select(IpRange)):
        try:  # parsed once per snapshot: parsing 200 CIDRs per request was the top cost
            ranges.append((ids[r.institution_id], ipaddress.ip_network(r.cidr, strict=False)))
        except (KeyError, ValueError):
            log.warning("ignoring IP range %r", r.cidr)
    platforms = tuple(
        (p.code, p.name, p.url_template) for p in session.scalars(
            select(OpenPlatform).where(OpenPlatform.enabled.is_(True))
            .order_by(OpenPlatform.position, OpenPlatform.code))
    )
    packages = {p.id: p for p in session.scalars(select(Package))}
    return Registry(insts, tuple(ranges), platforms, _grants(session), packages)


def identify(
    registry: Registry, *, inst_param: str | None, ip: str | None, cookie: str | None
) -> tuple[str | None, str | None]:
    """(institution code, how it was found: "inst" | "ip" | "cookie" | None).

    The order is the issue's: the catalogue's explicit ``inst``, then the campus network,
    then the user's earlier choice.
    """
    codes = registry.codes
    found = detect_institution(inst_param, None, None, codes, ())
    if found:
        return found, "inst"
    found = institution_for_ip(ip, registry.ranges)
    if found:
        return found, "ip"
    found = detect_institution(None, None, cookie, codes, ())
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

    def redirect_target(self) -> Target | None:
        """The target ``redirect=1`` sends the user to, or None (show the menu)."""
        return best_redirect([t for t in self.targets if t.url not in self.search_urls])

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


def _record_url(record) -> str | None:  # type: ignore[no-untyped-def]
    for url in (*record.fulltext_links, *record.urls):
        if is_http_url(url):
            return url
    return None


def open_copies_from_index(ix, citation: Citation) -> list[OpenCopy]:  # type: ignore[no-untyped-def]
    """Open records of our own index that are this work: same DOI/ISBN/handle, or the same
    title (exactly, after folding) and year.

    A title-only search returns namesakes; offering a namesake as "the open copy" is the
    OA false positive users complain about most, hence the exact-title check.
    """
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
    copies: list[OpenCopy] = []
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
        if url and (same_id or same_title) and all(c.url != url for c in copies):
            copies.append(OpenCopy(url, rec.repository or rec.institution, source="index"))
        if len(copies) >= MAX_INDEX_COPIES:
            break
    return copies


def _grants(session: Session) -> dict[int, list[Grant]]:
    out: dict[int, list[Grant]] = {}
    rows = session.execute(
        select(Entitlement.package_id, Institution.code, Entitlement.start, Entitlement.end)
        .join(Institution, Entitlement.institution_id == Institution.id)
    ).all()
    for pid, code, start, end in rows:
        out.setdefault(pid, []).append(Grant(code, start, end))
    return out


def _coverages(rows: Sequence) -> list[tuple[object, Coverage]]:  # type: ignore[type-arg]
    out = []
    for r in rows:
        try:
            out.append((r, kbart_row(r).coverage()))
        except ValueError:  # validated on import; a hand-edited row must not break a link
            log.warning("kb_title %s has unusable coverage", r.id)
    return out


def _display(pkg: Package) -> str:
    return pkg.name or pkg.code


def resolve(
    session: Session,
    citation: Citation,
    institution: InstitutionInfo | None,
    registry: Registry,
    *,
    today: date,
    index=None,  # type: ignore[no-untyped-def]
    delivery_url: str | None = None,
) -> Resolution:
    """Rank every target for ``citation`` as seen by ``institution`` (None: unknown)."""
    code = institution.code if institution else None
    proxy = institution.proxy_prefix if institution else None
    found = holdings_rows(
        session,
        issns=[i for i in (citation.issn, citation.eissn) if i],
        isbns=[citation.isbn] if citation.isbn else [],
        title=citation.title or citation.jtitle or citation.btitle or citation.stitle,
        packages=registry.packages,
    )
    grants = registry.grants
    holdings: list[Holding] = []
    kb_open: list[OpenCopy] = []
    names: dict[str, str] = {}
    for pkg, rows in found:
        covs = _coverages(rows)
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
        holdings.append(Holding(display, grants.get(pkg.id, []), decision,
                                article_url=links.article, title_url=links.title))

    opens = open_copies_from_index(index, citation) + kb_open
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
    return Resolution(citation, institution, targets, names, frozenset(searches))
