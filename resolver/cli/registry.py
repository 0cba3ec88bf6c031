"""``lienhop registry import|export|list``: the consortium registry as a TOML file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from resolver import db
from resolver.cli.context import Context, pass_ctx
from resolver.registry.models import Institution
from resolver.registry.sync import apply_registry, export_registry
from resolver.registry.toml_file import RegistryError, parse_registry
from resolver.settings import Settings

# --- registry ---------------------------------------------------------------------------

@click.group("registry")
def registry_group() -> None:
    """Keep the consortium registry (institutions, IP ranges, repositories) in a TOML file."""


def import_registry_file(ctx: Context, path: Path, *, prune: bool, dry_run: bool,
                     settings: Settings | None = None) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    try:
        # a repository may not point into private networks unless the settings allow them
        specs = parse_registry(text, source=str(path), allowed_networks=(
            settings or ctx.settings).harvest_allowed_networks)
    except RegistryError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} error(s); nothing was changed.", err=True)
        sys.exit(2)
    with db.transaction(ctx.sessions()) as session:
        report = apply_registry(session, specs, prune=prune)
        if dry_run:
            session.rollback()
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{len(specs)} institutions, {report.repositories} repositories in {path}: "
        f"{len(report.created)} {verb} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )
    if report.absent:
        click.echo(
            "In the database but not in the file (kept; use --prune to remove): "
            + ", ".join(report.absent)
        )


@registry_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove institutions that the file does not list.")
@click.option("--dry-run", is_flag=True, help="Validate and report, change nothing.")
@pass_ctx
def registry_import(ctx: Context, file: Path, prune: bool, dry_run: bool) -> None:
    """Apply the registry FILE (TOML). A file with any error changes nothing."""
    import_registry_file(ctx, file, prune=prune, dry_run=dry_run)


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
