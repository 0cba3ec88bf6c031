"""The consortium registry as a TOML file: parse and validate (pure), apply and export.

Administrators keep the registry under version control; ``lienhop registry import FILE``
applies it. A file with any error changes nothing, and every error names its line::

    registry.toml:14: institution 'hue': ip_ranges: '203.0.113.7/24' has host bits set
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from harvesters import netguard
from resolver.models import STATUSES, Institution, IpRange, Repository

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
) -> list[InstitutionSpec]:
    """Parse and validate registry TOML; raise :class:`RegistryError` listing every problem.

    :param allowed_networks: when given (the ``LIENHOP_HARVEST_ALLOWED_NETWORKS`` setting),
        an ``oai_url`` naming a loopback/private/link-local address outside them is an error
        too (:func:`oai_url_problem`); ``None`` checks the scheme and host only.
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
    networks: list[tuple[Network, str, int | None]] = []

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
        clean_ranges: list[str] = []
        for text_range in ranges:
            net, why = _network(text_range.strip())
            if net is None:
                err(f"{label}: ip_ranges: {why}", "ip_ranges")
                continue
            for other, other_code, _ in networks:
                if net.version == other.version and net.overlaps(other):
                    who = "itself" if other_code == code else f"institution {other_code!r}"
                    err(f"{label}: ip_ranges: {net} overlaps {other} of {who}", "ip_ranges")
            networks.append((net, code, loc.line(i, None, "ip_ranges")))
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

    if problems:
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        raise RegistryError(source, problems)
    return specs


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
    )
    return header + tomli_w.dumps({"institution": out}, multiline_strings=False)
