"""The ``lienhop`` command line: one group, one sub-group per area.

``lienhop run`` serves the app (Flask's own server, for trials; use gunicorn in production),
``lienhop db upgrade`` migrates the schema, ``lienhop registry import|export`` keeps the
consortium registry in a TOML file, ``lienhop demo load`` loads the demo consortium.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup
from sqlalchemy import Engine, select
from sqlalchemy.orm import selectinload

from resolver import db
from resolver.config import ConfigError, Settings, load_settings
from resolver.logs import configure_logging
from resolver.models import Institution
from resolver.registry import RegistryError, apply_registry, export_registry, parse_registry

DEMO_DIR = Path(__file__).with_name("demo")


def _create_app():  # type: ignore[no-untyped-def]
    from resolver import create_app

    return create_app()


class Context:
    """What commands share: settings and a migrated engine, made on first use."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
            configure_logging(self._settings.log_level)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self.settings.database_url)
            db.upgrade(self._engine)
        return self._engine

    def sessions(self):  # type: ignore[no-untyped-def]
        return db.session_factory(self.engine)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="lienhop: discovery service and link resolver of the Vietnam Library Consortium.\n\n"
    "Settings come from LIENHOP_* environment variables (LIENHOP_HOME, LIENHOP_DATABASE_URL, "
    "LIENHOP_INDEX_DIR, LIENHOP_SECRET_KEY, LIENHOP_ENV, ...); see README.md.",
)
def main() -> None:
    pass


# --- db ---------------------------------------------------------------------------------

@main.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Create the schema or upgrade it to the newest revision (safe to repeat)."""
    engine = db.make_engine(ctx.settings.database_url)
    before = db.current_revision(engine)
    db.upgrade(engine, revision)
    after = db.current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: upgraded {before or '(empty)'} -> {after}")


@db_group.command("current")
@pass_ctx
def db_current(ctx: Context) -> None:
    """Print the database's schema revision and the newest one available."""
    engine = db.make_engine(ctx.settings.database_url)
    click.echo(f"current: {db.current_revision(engine) or '(empty)'}")
    click.echo(f"head:    {db.head_revision()}")


# --- registry ---------------------------------------------------------------------------

@main.group("registry")
def registry_group() -> None:
    """Keep the consortium registry (institutions, IP ranges, repositories) in a TOML file."""


def _import_registry(ctx: Context, path: Path, *, prune: bool, dry_run: bool) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    try:
        specs = parse_registry(text, source=str(path))
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
    _import_registry(ctx, file, prune=prune, dry_run=dry_run)


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


# --- demo -------------------------------------------------------------------------------

@main.group("demo")
def demo_group() -> None:
    """The demo consortium that `make run` loads."""


@demo_group.command("load")
@pass_ctx
def demo_load(ctx: Context) -> None:
    """Load the demo registry (real institutions, documentation-range IPs)."""
    _import_registry(ctx, DEMO_DIR / "registry.toml", prune=False, dry_run=False)
