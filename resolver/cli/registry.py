"""``lienhop registry import|export|list``: the consortium registry as a TOML file.

An import that takes a repository out of the registry takes its records out of search and
the OAI feed first (``resolver/harvesting/removal.py``, as the admin page's removal does),
or with ``--keep-records`` only disables it; it says how many records went."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from index import IndexLocked
from resolver import db
from resolver.cli.context import Context, pass_ctx
from resolver.harvesting.models import HarvestJob
from resolver.harvesting.queue import active_job
from resolver.harvesting.removal import record_ids, remove_repository_records
from resolver.registry.models import Institution, Repository
from resolver.registry.sync import ImportReport, apply_registry, export_registry
from resolver.registry.toml_file import RegistryError, parse_registry
from resolver.settings import Settings

# --- registry ---------------------------------------------------------------------------

@click.group("registry")
def registry_group() -> None:
    """Keep the consortium registry (institutions, IP ranges, repositories) in a TOML file."""


def import_registry_file(ctx: Context, path: Path, *, prune: bool, dry_run: bool,
                         keep_records: bool = False, settings: Settings | None = None) -> None:
    """Apply the registry file at ``path``; a repository that leaves it leaves search and the
    OAI feed too (resolver/harvesting/removal.py), as on the admin page, unless
    ``keep_records`` (then it is disabled, as the admin page's "keep the records" does)."""
    settings = settings or ctx.settings
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    try:
        # a repository may not point into private networks unless the settings allow them
        specs = parse_registry(text, source=str(path),
                               allowed_networks=settings.harvest_allowed_networks)
    except RegistryError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} error(s); nothing was changed.", err=True)
        sys.exit(2)
    # First what would change: the records of repositories that leave go before the
    # registry changes (as on the admin page: a busy index then changes nothing).
    with db.transaction(ctx.sessions()) as session:
        plan = apply_registry(session, specs, prune=prune, keep_repositories=keep_records)
        session.rollback()
    with db.transaction(ctx.sessions()) as session:
        # its worker would write the records back (as on the admin page)
        busy = {code: job.id for code in plan.repositories_removed
                if (job := _active_job(session, code)) is not None}
    if busy:
        for code, job_id in busy.items():
            click.echo(f"a harvest of {code} is queued or running (job {job_id}): cancel it "
                       "or let it end, then import again; nothing was changed.", err=True)
        sys.exit(1)
    records = {code: _records(settings, ctx, code, count_only=dry_run)
               for code in plan.repositories_removed}
    if dry_run:
        report = plan
    else:
        with db.transaction(ctx.sessions()) as session:
            report = apply_registry(session, specs, prune=prune,
                                    keep_repositories=keep_records)
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{len(specs)} institutions, {report.repositories} repositories in {path}: "
        f"{len(report.created)} {verb} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )
    for line in leaving_lines(report, records, dry_run=dry_run):
        click.echo(line)
    if report.absent and not prune:
        click.echo(
            "In the database but not in the file (kept; use --prune to remove): "
            + ", ".join(report.absent)
        )
    elif report.absent:
        click.echo("In the database but not in the file, kept for the repositories whose "
                   "records are kept: " + ", ".join(report.absent))


def leaving_lines(report: ImportReport, records: dict[str, int], *,
                  dry_run: bool) -> list[str]:
    """What the import says about the repositories that left the file."""
    verb = "would be" if dry_run else "were"
    lines = []
    if report.repositories_removed:
        total = sum(records.values())
        lines.append(
            f"Repositories no longer in the file {verb} removed: "
            + ", ".join(f"{code} ({records.get(code, 0)} records)"
                        for code in report.repositories_removed)
            + f"; {total} records {verb} removed from search, and lienhop's OAI-PMH provider "
            f"announces them as deleted. To keep the records instead: --keep-records.")
    if report.repositories_disabled:
        lines.append(
            f"Keep the records: only stop harvesting {', '.join(report.repositories_disabled)}"
            f" ({verb} disabled: no longer harvested, and the records stay in search and in "
            "the OAI-PMH provider as they are).")
    return lines


def _active_job(session: Session, code: str) -> HarvestJob | None:
    repo_id = session.scalar(select(Repository.id).where(Repository.code == code))
    return None if repo_id is None else active_job(session, repo_id)


def _records(settings: Settings, ctx: Context, code: str, *, count_only: bool) -> int:
    """Remove ``code``'s records from search and the OAI feed (or only count them)."""
    if count_only:
        return len(set(record_ids(settings, code)))
    try:
        return remove_repository_records(settings, ctx.sessions(), code)
    except IndexLocked as exc:
        raise click.ClickException(
            f"the search index is busy (a harvest is writing to it); the records of {code} "
            "and the registry were not changed (those of repositories before it in this "
            "message's list are already removed). Import again in a minute.") from exc


@registry_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove institutions that the file does not list.")
@click.option("--keep-records", is_flag=True,
              help="Keep the records: only stop harvesting a repository that the file no "
                   "longer lists (it is disabled; its records stay in search and in the "
                   "OAI-PMH provider as they are). Without it, its records are removed from "
                   "search and announced as deleted, as on the admin page.")
@click.option("--dry-run", is_flag=True, help="Validate and report, change nothing.")
@pass_ctx
def registry_import(ctx: Context, file: Path, prune: bool, keep_records: bool,
                    dry_run: bool) -> None:
    """Apply the registry FILE (TOML). A file with any error changes nothing.

    A repository that the file no longer lists leaves the registry, and its records leave
    search and lienhop's OAI-PMH provider (announced as deleted), unless --keep-records."""
    import_registry_file(ctx, file, prune=prune, dry_run=dry_run, keep_records=keep_records)


@registry_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@pass_ctx
def registry_export(ctx: Context, file: Path) -> None:
    """Write the registry to FILE as TOML ('-' for standard output)."""
    with db.transaction(ctx.sessions()) as session:
        text = export_registry(session)
    if str(file) == "-":
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {file}")


@registry_group.command("list")
@pass_ctx
def registry_list(ctx: Context) -> None:
    """List institutions with their status and repositories."""
    with db.transaction(ctx.sessions()) as session:
        insts = session.scalars(
            select(Institution)
            .options(selectinload(Institution.repositories), selectinload(Institution.ip_ranges))
            .order_by(Institution.code)
        ).all()
        for inst in insts:
            flag = " (eligible for membership)" if inst.eligible_for_membership() else ""
            since = inst.since.isoformat() if inst.since else "?"
            click.echo(f"{inst.code:<16} {inst.status:<8} since {since}{flag}  {inst.name_vi}")
            for repo in inst.repositories:
                state = "" if repo.enabled else " [disabled]"
                click.echo(f"  - {repo.code} {repo.metadata_prefix} {repo.oai_url}{state}")
