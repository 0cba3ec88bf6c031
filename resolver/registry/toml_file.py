"""The consortium registry as a TOML file: parse and validate (pure).

Administrators keep the registry under version control; ``lienhop registry import FILE``
applies it (:mod:`resolver.registry.sync` writes it to the database). A file with any error
changes nothing, and every error names its line::

    registry.toml:14: institution 'hue': ip_ranges: '203.0.113.7/24' has host bits set

Each value is judged by the one home of its rule: codes by :mod:`resolver.registry.codes`,
campus ranges by :mod:`resolver.registry.ranges` (overlaps, caps, special blocks), schedules
by :mod:`resolver.registry.schedule` (the scheduler's own grammar, so nothing is accepted
here that would never be harvested), repository URLs by :mod:`harvesters.netguard`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harvesters import netguard
from resolver.registry.codes import CODE_RE
from resolver.registry.models import STATUSES
from resolver.registry.ranges import (
    MAX_RANGES_PER_INSTITUTION,
    Network,
    overlapping_pairs,
    parse_network,
    range_problem,
)
from resolver.registry.schedule import schedule_problem

PREFIX_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
SETSPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'():]+$")

INSTITUTION_KEYS = {
    "code", "name_vi", "name_en", "status", "since", "ip_ranges", "contact", "website",
    "repository",
}
CONTACT_KEYS = {"name", "email", "phone"}
REPOSITORY_KEYS = {
    "code", "name", "platform", "oai_url", "metadata_prefix", "sets", "schedule", "enabled",
}


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
            net, why = parse_network(text_range.strip())
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
            why = (schedule_problem(schedule) if isinstance(schedule, str)
                   else "'schedule' must be a string")
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
