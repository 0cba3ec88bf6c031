"""The consortium registry as a TOML file: parse and validate (pure), apply and export.

Administrators keep the registry under version control; ``lienhop registry import FILE``
applies it. A file with any error changes nothing, and every error names its line::

    registry.toml:14: institution 'hue': ip_ranges: '203.0.113.7/24' has host bits set

Campus ranges decide who is detected as which institution, so they are judged beyond their
syntax: no overlap between any two (checked by one sort, so 100k institutions take seconds),
at most :data:`MAX_RANGES_PER_INSTITUTION` per institution, nothing wider than
:data:`CONSORTIUM_RULE` allows and nothing in :data:`SPECIAL_BLOCKS`. Institution
administrators are held to the narrower :data:`INSTITUTION_ADMIN_RULE` by the admin pages.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from harvesters import netguard
from resolver.registry.models import STATUSES, Institution, IpRange, PendingIpRange, Repository

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
SETSPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'():]+$")
NAMED_SCHEDULES = ("manual", "hourly", "daily", "weekly", "monthly")
INTERVAL_RE = re.compile(r"^every\s+(\d+)\s*(m|h|d)$")
CRON_FIELD_RE = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")

INSTITUTION_KEYS = {
    "code", "name_vi", "name_en", "status", "since", "ip_ranges", "contact", "website",
    "repository",
}
CONTACT_KEYS = {"name", "email", "phone"}
REPOSITORY_KEYS = {
    "code", "name", "platform", "oai_url", "metadata_prefix", "sets", "schedule", "enabled",
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Enough for a university with many campuses and both IP versions; a cap keeps one
#: institution from filling the registry (and every validation of it) with ranges.
MAX_RANGES_PER_INSTITUTION = 64


@dataclass(frozen=True)
class RangeRule:
    """The widest campus range (the smallest prefix length) one kind of editor may enter."""

    min_prefix_v4: int
    min_prefix_v6: int

    def floor(self, version: int) -> int:
        return self.min_prefix_v4 if version == 4 else self.min_prefix_v6


#: Institution administrators: a /16 (65,536 addresses) is a very large campus, a /32 is what
#: a regional registry gives a whole provider. Wider ranges are the consortium's decision.
INSTITUTION_ADMIN_RULE = RangeRule(16, 32)
#: The registry file and consortium administrators: a /8 was given to single universities in
#: the early Internet; anything wider (0.0.0.0/1 in one attack) claims other people's
#: addresses whoever enters it.
CONSORTIUM_RULE = RangeRule(8, 24)

#: No campus range may touch these. Nobody's client comes from them, and the loopback
#: block is worse than useless: behind a reverse proxy missing from LIENHOP_TRUSTED_PROXIES
#: every request arrives from 127.0.0.1, so claiming it claims every user.
#: Deliberately absent:
#: - private ranges (10/8, 172.16/12, 192.168/16, 100.64/10 CGNAT, fc00::/7): behind a
#:   trusted proxy or on the consortium's own network, a campus's private addresses are what
#:   lienhop sees, and nobody on the Internet can appear with one (a TCP handshake needs the
#:   answer routed back). Two institutions still cannot claim the same one (overlap check),
#:   and the admin pages refuse a range holding one of our own trusted proxies;
#: - documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32): the
#:   demo registry and the tests use them, and as they are never routed no real client can
#:   be claimed through them.
SPECIAL_BLOCKS: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(block), kind) for block, kind in (
        ("0.0.0.0/8", "'this network'"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # with the 255.255.255.255 broadcast address
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),  # clients are matched as IPv4 (parse_ip)
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
    )
)


class RegistryError(ValueError):
    """The file is not a valid registry; ``problems`` lists each error with its line."""

    def __init__(self, source: str, problems: list[tuple[int | None, str]]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.source}:{line}: {msg}" if line else f"{self.source}: {msg}"
            for line, msg in self.problems
        ]


@dataclass
class RepositorySpec:
    code: str
    oai_url: str
    metadata_prefix: str = "oai_dc"
    sets: list[str] = field(default_factory=list)
    schedule: str = "daily"
    enabled: bool = True
    name: str = ""
    platform: str = ""


@dataclass
class InstitutionSpec:
    code: str
    name_vi: str
    name_en: str = ""
    status: str = "observer"
    since: dt.date | None = None
    ip_ranges: list[str] = field(default_factory=list)
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    website: str = ""
    repositories: list[RepositorySpec] = field(default_factory=list)


class _LineLocator:
    """Find the line of a key inside the n-th ``[[institution]]`` (or its m-th repository).

    tomllib reports lines only for syntax errors; for errors in values we find the line by
    walking the table headers, which is exact for the plain layout the export writes and
    falls back to the table's header line otherwise.
    """

    HEADER = re.compile(r"^\s*\[\[\s*institution(\s*\.\s*repository)?\s*\]\]")
    KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
    TABLE = re.compile(r"^\s*\[")

    def __init__(self, text: str):
        self.keys: dict[tuple[int, int | None, str], int] = {}
        self.headers: dict[tuple[int, int | None], int] = {}
        inst, repo = -1, None
        in_other_table = False
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = self.HEADER.match(line)
            if m:
                in_other_table = False
                if m.group(1):
                    repo = (repo + 1) if repo is not None else 0
                else:
                    inst, repo = inst + 1, None
                self.headers[(inst, repo)] = lineno
                continue
            if self.TABLE.match(line):
                in_other_table = True  # e.g. [institution.contact]: keys belong elsewhere
                continue
            k = self.KEY.match(line)
            if k and inst >= 0 and not in_other_table:
                self.keys.setdefault((inst, repo, k.group(1)), lineno)

    def line(self, inst: int, repo: int | None = None, key: str | None = None) -> int | None:
        if key is not None and (inst, repo, key) in self.keys:
            return self.keys[(inst, repo, key)]
        return self.headers.get((inst, repo))


def validate_schedule(value: str) -> str | None:
    """Return an error message for a bad schedule, or None.

    A schedule is one of manual/hourly/daily/weekly/monthly, an interval such as
    ``every 6h`` / ``every 30m`` / ``every 2d``, or a five-field cron expression.
    """
    value = value.strip().lower()
    if value in NAMED_SCHEDULES:
        return None
    m = INTERVAL_RE.match(value)
    if m:
        return None if int(m.group(1)) > 0 else "interval must be positive"
    fields = value.split()
    if len(fields) == 5 and all(CRON_FIELD_RE.match(f) for f in fields):
        return None
    return (
        f"schedule {value!r} is not one of {', '.join(NAMED_SCHEDULES)}, "
        "an interval like 'every 6h', or a cron expression like '30 2 * * *'"
    )


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _network(text: str) -> tuple[Network | None, str | None]:
    try:
        return ipaddress.ip_network(text, strict=True), None
    except ValueError as exc:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None, f"{text!r} is not an IPv4/IPv6 address or CIDR range ({exc})"
        return None, f"{text!r} has host bits set; did you mean the network address?"


def _span(net: Network) -> tuple[int, int]:
    """First and last address as integers (broadcast_address is a slow cached property)."""
    start = int(net.network_address)
    return start, start + (1 << (net.max_prefixlen - net.prefixlen)) - 1


# as integers: Network.overlaps costs ~20 µs a call, too much for 10 blocks x 200k ranges
_SPECIAL_SPANS = tuple((block.version, int(block.network_address), int(block.broadcast_address),
                        block, kind) for block, kind in SPECIAL_BLOCKS)


def special_block(net: Network) -> tuple[Network, str] | None:
    """The block of :data:`SPECIAL_BLOCKS` that ``net`` overlaps, with its kind, or None.

    >>> special_block(ipaddress.ip_network("0.0.0.0/1"))
    (IPv4Network('0.0.0.0/8'), "'this network'")
    >>> special_block(ipaddress.ip_network("10.20.0.0/16")) is None
    True
    """
    start, end = _span(net)
    for version, block_start, block_end, block, kind in _SPECIAL_SPANS:
        if version == net.version and block_start <= end and start <= block_end:
            return block, kind
    return None


def range_problem(net: Network, rule: RangeRule = CONSORTIUM_RULE) -> str | None:
    """What forbids ``net`` as a campus range under ``rule``, or None.

    >>> range_problem(ipaddress.ip_network("10.0.0.0/7"))
    '10.0.0.0/7 is wider than /8, the widest campus range allowed'
    >>> range_problem(ipaddress.ip_network("10.20.0.0/15"), INSTITUTION_ADMIN_RULE)
    '10.20.0.0/15 is wider than /16, the widest campus range allowed'
    """
    hit = special_block(net)
    if hit is not None:
        return f"{net} overlaps {hit[0]} ({hit[1]} addresses), which no campus may claim"
    floor = rule.floor(net.version)
    if net.prefixlen < floor:
        return f"{net} is wider than /{floor}, the widest campus range allowed"
    return None


def overlapping_pairs(nets: Sequence[Network]) -> list[tuple[int, int]]:
    """Index pairs ``(later, earlier)`` of the networks in ``nets`` that overlap.

    Two CIDR ranges overlap only when one holds the other, so after sorting by start
    address (then prefix length) a single sweep with a stack of the ranges still open
    finds every pair: O(n log n) plus one step per pair, where comparing every range
    with every other took 45 s for 10k institutions. The open ranges are strictly nested,
    so at most 33 (IPv4) or 129 (IPv6) deep, and the pairs stay linear in n. Of equal
    ranges only the first listed stays open: a range equal to or inside k copies of one
    network is paired with the first copy only (the pairwise check paired it with all k).

    >>> nets = [ipaddress.ip_network(n) for n in ("10.0.1.0/24", "10.0.0.0/16", "10.1.0.0/16")]
    >>> overlapping_pairs(nets)
    [(1, 0)]
    """
    pairs: list[tuple[int, int]] = []
    for version in (4, 6):
        items = []
        for idx, net in enumerate(nets):
            if net.version == version:
                start, end = _span(net)
                items.append((start, net.prefixlen, idx, end))
        items.sort()
        # (start, prefix length, index, end) of the ranges holding the current one,
        # outermost first: each holds the next, since CIDR ranges never partly overlap
        open_ranges: list[tuple[int, int, int, int]] = []
        for item in items:
            start, plen, idx, _end = item
            while open_ranges and open_ranges[-1][3] < start:
                open_ranges.pop()
            for _s, _p, other, _e in open_ranges:
                pairs.append((max(idx, other), min(idx, other)))
            if not (open_ranges and open_ranges[-1][:2] == (start, plen)):
                open_ranges.append(item)
    pairs.sort()
    return pairs


def oai_url_problem(url: str, allowed_networks: Sequence[Network] = ()) -> str | None:
    """What is wrong with ``url`` as a repository's ``oai_url``, or ``None``.

    A cheap check at entry, without DNS: an http(s) URL with a host, and when the host is an
    IP literal or ``localhost``, not a loopback, private, link-local... address outside
    ``allowed_networks`` (``LIENHOP_HARVEST_ALLOWED_NETWORKS``).  Names that resolve to such
    addresses are refused by the harvester itself when it connects.

    >>> oai_url_problem("https://dlib.hueuni.edu.vn/oai/request") is None
    True
    >>> oai_url_problem("http://127.0.0.1:5000/admin")
    'address 127.0.0.1 (loopback) is refused; allow it with LIENHOP_HARVEST_ALLOWED_NETWORKS'
    """
    return netguard.url_refusal(url, allowed_networks)


def parse_registry(
    text: str, source: str = "registry.toml", *,
    allowed_networks: Sequence[Network] | None = None,
    ranges_in_force: Collection[str] = (),
) -> list[InstitutionSpec]:
    """Parse and validate registry TOML; raise :class:`RegistryError` listing every problem.

    :param allowed_networks: when given (the ``LIENHOP_HARVEST_ALLOWED_NETWORKS`` setting),
        an ``oai_url`` naming a loopback/private/link-local address outside them is an error
        too (:func:`oai_url_problem`); ``None`` checks the scheme and host only.
    :param ranges_in_force: CIDRs already stored, which :data:`CONSORTIUM_RULE`,
        :data:`SPECIAL_BLOCKS` and the per-institution cap do not judge again. The admin
        pages validate the whole registry for every edit; a range stored before these
        rules existed must not block every other institution's edits (the TOML import
        still judges everything in its file).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise RegistryError(source, [(int(m.group(1)) if m else None, str(exc))]) from exc

    loc = _LineLocator(text)
    problems: list[tuple[int | None, str]] = []
    unknown_top = set(data) - {"institution"}
    for key in sorted(unknown_top):
        problems.append((None, f"unknown top-level key {key!r} (expected [[institution]])"))
    raw_insts = data.get("institution", [])
    if not isinstance(raw_insts, list):
        raise RegistryError(source, [(None, "'institution' must be an array of tables")])

    specs: list[InstitutionSpec] = []
    inst_codes: dict[str, int] = {}
    repo_codes: dict[str, str] = {}
    # every valid range in file order, with what its overlap message needs: the label and
    # code of its institution, the line, and where its messages go among the others
    networks: list[Network] = []
    in_force = set(ranges_in_force)
    owners: list[tuple[str, str, int | None, int]] = []

    for i, raw in enumerate(raw_insts):
        def err(msg: str, key: str | None = None, repo: int | None = None, _i: int = i) -> None:
            problems.append((loc.line(_i, repo, key), msg))

        code = raw.get("code")
        label = f"institution {code!r}" if isinstance(code, str) else f"institution #{i + 1}"
        for key in sorted(set(raw) - INSTITUTION_KEYS):
            err(f"{label}: unknown key {key!r}", key)
        if not isinstance(code, str) or not CODE_RE.match(code):
            err(f"{label}: 'code' must be lower-case letters, digits, '.', '_' or '-'", "code")
            code = f"#{i + 1}"
        elif code in inst_codes:
            err(f"{label}: duplicate code (first used at institution #{inst_codes[code] + 1})",
                "code")
        else:
            inst_codes[code] = i

        name_vi = raw.get("name_vi")
        if not isinstance(name_vi, str) or not name_vi.strip():
            err(f"{label}: 'name_vi' (the Vietnamese name) is required", "name_vi")
            name_vi = ""
        name_en = raw.get("name_en", "")
        if not isinstance(name_en, str):
            err(f"{label}: 'name_en' must be a string", "name_en")
            name_en = ""
        status = raw.get("status", "observer")
        if status not in STATUSES:
            err(f"{label}: status must be 'member' or 'observer', not {status!r}", "status")
        since = None
        if "since" in raw:
            since = _as_date(raw["since"])
            if since is None:
                err(f"{label}: 'since' must be a date like 2004-10-01", "since")
        website = raw.get("website", "")
        if website and (not isinstance(website, str)
                        or urlsplit(website).scheme not in ("http", "https")):
            err(f"{label}: 'website' must be an http(s) URL", "website")
        contact = raw.get("contact", {})
        if isinstance(contact, str):
            contact = {"name": contact}
        if not isinstance(contact, dict):
            err(f"{label}: 'contact' must be a table with name/email/phone", "contact")
            contact = {}
        for key in sorted(set(contact) - CONTACT_KEYS):
            err(f"{label}: unknown contact key {key!r}", "contact")
        email = contact.get("email", "")
        if email and (not isinstance(email, str) or "@" not in email):
            err(f"{label}: contact email {email!r} is not an e-mail address", "contact")

        ranges = raw.get("ip_ranges", [])
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            err(f"{label}: 'ip_ranges' must be a list of CIDR strings", "ip_ranges")
            ranges = []
        if len(ranges) > MAX_RANGES_PER_INSTITUTION and not set(ranges) <= in_force:
            err(f"{label}: ip_ranges: {len(ranges)} ranges, but an institution may have at "
                f"most {MAX_RANGES_PER_INSTITUTION}", "ip_ranges")
            ranges = []
        clean_ranges: list[str] = []
        for text_range in ranges:
            net, why = _network(text_range.strip())
            if net is None:
                err(f"{label}: ip_ranges: {why}", "ip_ranges")
                continue
            if str(net) not in in_force:
                why = range_problem(net)
                if why:
                    err(f"{label}: ip_ranges: {why}", "ip_ranges")
                    continue
            networks.append(net)
            owners.append((label, code, loc.line(i, None, "ip_ranges"), len(problems)))
            clean_ranges.append(str(net))

        repos: list[RepositorySpec] = []
        raw_repos = raw.get("repository", [])
        if not isinstance(raw_repos, list):
            err(f"{label}: 'repository' must be an array of tables ([[institution.repository]])")
            raw_repos = []
        for j, rr in enumerate(raw_repos):
            rcode = rr.get("code")
            rlabel = f"repository {rcode!r}" if isinstance(rcode, str) else f"repository #{j + 1}"
            rlabel = f"{label}: {rlabel}"
            for key in sorted(set(rr) - REPOSITORY_KEYS):
                err(f"{rlabel}: unknown key {key!r}", key, j)
            if not isinstance(rcode, str) or not CODE_RE.match(rcode):
                err(f"{rlabel}: 'code' must be lower-case letters, digits, '.', '_' or '-'",
                    "code", j)
                rcode = f"#{i + 1}.{j + 1}"
            elif rcode in repo_codes:
                err(f"{rlabel}: duplicate repository code (also in {repo_codes[rcode]!r})",
                    "code", j)
            else:
                repo_codes[rcode] = code
            url = rr.get("oai_url")
            if not isinstance(url, str) or netguard.scheme_refusal(url) is not None:
                err(f"{rlabel}: 'oai_url' must be an http(s) URL", "oai_url", j)
                url = ""
            elif allowed_networks is not None:
                why = oai_url_problem(url, allowed_networks)
                if why:
                    err(f"{rlabel}: 'oai_url': {why}", "oai_url", j)
            prefix = rr.get("metadata_prefix", "oai_dc")
            if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
                err(f"{rlabel}: 'metadata_prefix' {prefix!r} is not a valid OAI metadataPrefix",
                    "metadata_prefix", j)
            sets = rr.get("sets", [])
            if not isinstance(sets, list) or not all(
                isinstance(s, str) and SETSPEC_RE.match(s) for s in sets
            ):
                err(f"{rlabel}: 'sets' must be a list of OAI setSpecs", "sets", j)
                sets = []
            schedule = rr.get("schedule", "daily")
            why = validate_schedule(schedule) if isinstance(schedule, str) else "not a string"
            if why:
                err(f"{rlabel}: {why}", "schedule", j)
            enabled = rr.get("enabled", True)
            if not isinstance(enabled, bool):
                err(f"{rlabel}: 'enabled' must be true or false", "enabled", j)
            repos.append(RepositorySpec(
                code=rcode, oai_url=url, metadata_prefix=str(prefix), sets=list(sets),
                schedule=str(schedule).strip().lower(), enabled=bool(enabled),
                name=str(rr.get("name", "")), platform=str(rr.get("platform", "")),
            ))

        specs.append(InstitutionSpec(
            code=code, name_vi=name_vi.strip(), name_en=name_en.strip(), status=str(status),
            since=since, ip_ranges=clean_ranges,
            contact_name=str(contact.get("name", "")), contact_email=str(email or ""),
            contact_phone=str(contact.get("phone", "")), website=str(website or ""),
            repositories=repos,
        ))

    pairs = overlapping_pairs(networks)
    if problems or pairs:
        raise RegistryError(source, _with_overlaps(problems, pairs, networks, owners))
    return specs


def _with_overlaps(problems: list[tuple[int | None, str]], pairs: list[tuple[int, int]],
                   networks: list[Network], owners: list[tuple[str, str, int | None, int]]
                   ) -> list[tuple[int | None, str]]:
    """All problems by line; each overlap named at the later range of its pair, right after
    the problems found before that range, as when every range was compared on arrival."""
    keyed = [((line is None, line or 0), (pos, 1, 0, 0), (line, msg))
             for pos, (line, msg) in enumerate(problems)]
    for later, earlier in pairs:
        label, code, line, slot = owners[later]
        other_code = owners[earlier][1]
        who = "itself" if other_code == code else f"institution {other_code!r}"
        msg = f"{label}: ip_ranges: {networks[later]} overlaps {networks[earlier]} of {who}"
        keyed.append(((line is None, line or 0), (slot, 0, later, earlier), (line, msg)))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [problem for _line, _order, problem in keyed]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # in the database, not in the file
    repositories: int = 0


def apply_registry(session: Session, specs: Iterable[InstitutionSpec], *,
                   prune: bool = False) -> ImportReport:
    """Make the database hold ``specs``. The caller owns the transaction.

    Institutions absent from the file are kept and reported unless ``prune`` is set: a
    registry file that forgot an institution must not silently drop its harvest history.
    """
    report = ImportReport()
    existing = {
        inst.code: inst
        for inst in session.scalars(
            select(Institution).options(
                selectinload(Institution.ip_ranges), selectinload(Institution.repositories)
            )
        )
    }
    all_repos = {r.code: r for r in session.scalars(select(Repository))}
    seen: set[str] = set()
    approved: set[tuple[str, str]] = set()
    for spec in specs:
        seen.add(spec.code)
        inst = existing.get(spec.code)
        created = inst is None
        if inst is None:
            inst = Institution(code=spec.code)
            session.add(inst)
        before = _snapshot(inst) if not created else None
        inst.name_vi, inst.name_en = spec.name_vi, spec.name_en
        inst.status, inst.since = spec.status, spec.since
        inst.contact_name, inst.contact_email = spec.contact_name, spec.contact_email
        inst.contact_phone, inst.website = spec.contact_phone, spec.website

        current = {r.cidr: r for r in inst.ip_ranges}
        inst.ip_ranges = [current.get(c) or IpRange(cidr=c) for c in spec.ip_ranges]
        approved.update((spec.code, c) for c in spec.ip_ranges)

        repos = []
        for rs in spec.repositories:
            repo = all_repos.get(rs.code) or Repository(code=rs.code)
            repo.institution = inst
            repo.oai_url, repo.metadata_prefix = rs.oai_url, rs.metadata_prefix
            repo.sets, repo.schedule, repo.enabled = list(rs.sets), rs.schedule, rs.enabled
            repo.name, repo.platform = rs.name, rs.platform
            repos.append(repo)
            report.repositories += 1
        inst.repositories = repos
        session.flush()
        if created:
            report.created.append(spec.code)
        elif _snapshot(inst) != before:
            report.updated.append(spec.code)
        else:
            report.unchanged.append(spec.code)
    for code, inst in existing.items():
        if code not in seen:
            if prune:
                session.delete(inst)
                report.removed.append(code)
            else:
                report.absent.append(code)
    session.flush()
    # a request the file (or a consortium administrator) granted is no longer waiting
    for pending in session.scalars(select(PendingIpRange).options(
            selectinload(PendingIpRange.institution))):
        if (pending.institution.code, pending.cidr) in approved:
            session.delete(pending)
    session.flush()
    return report


def _snapshot(inst: Institution) -> tuple:
    return (
        inst.name_vi, inst.name_en, inst.status, inst.since, inst.contact_name,
        inst.contact_email, inst.contact_phone, inst.website,
        tuple(sorted(r.cidr for r in inst.ip_ranges)),
        tuple(
            (r.code, r.oai_url, r.metadata_prefix, tuple(r.sets), r.schedule, r.enabled,
             r.name, r.platform)
            for r in inst.repositories
        ),
    )


def export_registry(session: Session) -> str:
    """The registry as TOML, institutions and repositories sorted by code (diff-friendly)."""
    out: list[dict[str, Any]] = []
    for inst in session.scalars(
        select(Institution)
        .options(selectinload(Institution.ip_ranges), selectinload(Institution.repositories))
        .order_by(Institution.code)
    ):
        item: dict[str, Any] = {"code": inst.code, "name_vi": inst.name_vi}
        if inst.name_en:
            item["name_en"] = inst.name_en
        item["status"] = inst.status
        if inst.since:
            item["since"] = inst.since
        if inst.website:
            item["website"] = inst.website
        item["ip_ranges"] = [r.cidr for r in inst.ip_ranges]
        contact = {k: v for k, v in (("name", inst.contact_name), ("email", inst.contact_email),
                                     ("phone", inst.contact_phone)) if v}
        if contact:
            item["contact"] = contact
        repos = []
        for repo in sorted(inst.repositories, key=lambda r: r.code):
            r: dict[str, Any] = {"code": repo.code}
            if repo.name:
                r["name"] = repo.name
            if repo.platform:
                r["platform"] = repo.platform
            r.update(oai_url=repo.oai_url, metadata_prefix=repo.metadata_prefix,
                     sets=list(repo.sets or []), schedule=repo.schedule, enabled=repo.enabled)
            repos.append(r)
        if repos:
            item["repository"] = repos
        out.append(item)
    header = (
        "# lienhop consortium registry: institutions, their campus IP ranges and repositories.\n"
        "# Apply with `lienhop registry import FILE`; write with `lienhop registry export FILE`.\n"
        "# Ranges waiting for a consortium administrator's approval are not in this file.\n"
    )
    return header + tomli_w.dumps({"institution": out}, multiline_strings=False)
