"""The registry between the database and its TOML file: apply parsed specs, export.

:mod:`resolver.registry.toml_file` turns a file into validated specs without touching the
database; this module makes the database hold them (``lienhop registry import``, the admin
registry page) and writes the database back as TOML (``lienhop registry export``).

A repository leaves the registry when the file no longer lists it (under an institution the
file lists, or, with ``prune``, with its institution). This module only says which
(:attr:`ImportReport.repositories_removed`): taking its records out of the index and the
OAI feed is the job of :mod:`resolver.harvesting.removal`, a layer above, which the command
calls first (``resolver/cli/registry.py``). With ``keep_repositories`` such a repository is
disabled instead, as the admin page's "keep the records" does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tomli_w
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from resolver.registry.models import Institution, IpRange, PendingIpRange, Repository
from resolver.registry.toml_file import InstitutionSpec


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # in the database, not in the file
    repositories: int = 0
    #: repositories the file no longer lists that the import deletes (codes)
    repositories_removed: list[str] = field(default_factory=list)
    #: ... or, with ``keep_repositories``, keeps disabled
    repositories_disabled: list[str] = field(default_factory=list)


def apply_registry(session: Session, specs: Iterable[InstitutionSpec], *,
                   prune: bool = False, keep_repositories: bool = False) -> ImportReport:
    """Make the database hold ``specs``. The caller owns the transaction.

    Institutions absent from the file are kept and reported unless ``prune`` is set: a
    registry file that forgot an institution must not silently drop its harvest history.
    A repository the file no longer lists is deleted (its institution's list is the file's),
    or with ``keep_repositories`` kept under its institution, disabled; an institution that
    keeps such a repository is kept too, even with ``prune``.
    """
    specs = list(specs)
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
    listed = {rs.code for spec in specs for rs in spec.repositories}
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
        for left in inst.repositories:
            if left.code not in listed:
                if keep_repositories:
                    left.enabled = False
                    repos.append(left)
                    report.repositories_disabled.append(left.code)
                else:
                    report.repositories_removed.append(left.code)
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
            leaving = [r for r in inst.repositories if r.code not in listed]
            if prune and not (keep_repositories and leaving):
                session.delete(inst)
                report.removed.append(code)
                report.repositories_removed.extend(r.code for r in leaving)
            else:
                report.absent.append(code)
                if prune:  # kept for the repositories whose records stay
                    for repo in leaving:
                        repo.enabled = False
                    report.repositories_disabled.extend(r.code for r in leaving)
    session.flush()
    # a request the file (or a consortium administrator) granted is no longer waiting
    for pending in session.scalars(select(PendingIpRange).options(
            selectinload(PendingIpRange.institution))):
        if (pending.institution.code, pending.cidr) in approved:
            session.delete(pending)
    session.flush()
    return report


def _snapshot(inst: Institution) -> tuple[Any, ...]:
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
