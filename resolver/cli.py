"""The ``lienhop`` command line: one group, one sub-group per area.

``lienhop run`` serves the app (Flask's own server, for trials; use gunicorn in production),
``lienhop db upgrade`` migrates the schema, ``lienhop registry import|export`` keeps the
consortium registry in a TOML file, ``lienhop demo load`` loads the demo consortium.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import sys
import threading
import time
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


def _import_registry(ctx: Context, path: Path, *, prune: bool, dry_run: bool,
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


# --- harvest and index -----------------------------------------------------------------

class _Progress:
    """One status line per repository on a terminal; nothing otherwise (the log says it)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, report) -> None:  # type: ignore[no-untyped-def]
        if not self.enabled:
            return
        now = time.monotonic()
        start = self.started.setdefault(report.repository, now)
        done = report.added + report.updated + report.deleted + report.failed
        rate = done / (now - start) if now > start else 0.0
        state = report.status if report.finished else "running"
        with self.lock:
            click.echo(
                f"\r{report.repository:<18} {state:<8} pages {report.pages:>5}  "
                f"records {done:>8}  ({report.added} new, {report.updated} updated, "
                f"{report.deleted} deleted, {report.failed} failed)  {rate:7.1f} rec/s",
                nl=bool(report.finished), err=True,
            )


def _run_harvest(ctx: Context, repos: tuple[str, ...], *, full: bool, from_: str | None,
                 workers: int, delay: float | None = None, allow_mass_delete: bool = False,
                 settings: Settings | None = None) -> list:  # type: ignore[type-arg]
    from resolver.harvest_jobs import JobContext, harvest

    tty = sys.stderr.isatty()
    if tty:  # the progress line replaces the per-page log lines
        logging.getLogger("lienhop.harvest").setLevel(logging.WARNING)
    job = JobContext(settings or ctx.settings, ctx.sessions())
    try:
        return harvest(job, repos, full=full, from_=from_, workers=workers, delay=delay,
                       progress=_Progress(tty), allow_mass_delete=allow_mass_delete)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc


def _summarise(reports: list) -> None:  # type: ignore[type-arg]
    for r in reports:
        click.echo(f"{r.repository}: {r.status}: {r.pages} pages, {r.added} added, "
                   f"{r.updated} updated, {r.deleted} deleted, {r.withdrawn} withdrawn, "
                   f"{r.failed} failed")
        for err in r.errors[:5]:
            click.echo(f"    {err}")
        if len(r.errors) > 5:
            click.echo(f"    ... {len(r.errors) - 5} more (see the log)")


@main.command("harvest")
@click.argument("repos", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Harvest every enabled repository.")
@click.option("--full", is_flag=True,
              help="List everything again and remove records the repository no longer lists.")
@click.option("--from", "from_", metavar="DATE",
              help="Start from this datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) instead of "
                   "the last successful run's high-water mark.")
@click.option("--workers", default=4, show_default=True, help="Repositories harvested at once.")
@click.option("--allow-mass-delete", is_flag=True,
              help="With --full: remove records the repository no longer lists even when they "
                   "are more than LIENHOP_HARVEST_MAX_DELETE_SHARE of it.")
@pass_ctx
def harvest_cmd(ctx: Context, repos: tuple[str, ...], all_: bool, full: bool,
                from_: str | None, workers: int, allow_mass_delete: bool) -> None:
    """Harvest REPOS (repository codes), or --all, into the index.

    Incremental by default: from the last successful run's high-water mark, with an overlap.
    A run that was killed resumes from its last page checkpoint. Exits 1 unless every run
    ended ok: a failed run (stopped before the end of the list) or a partial one (records
    failed, retried next run; or a mass deletion refused) says so.
    """
    if not repos and not all_:
        raise click.UsageError("name one or more repositories, or give --all")
    if repos and all_:
        raise click.UsageError("give repository codes or --all, not both")
    if from_:
        import datetime as dt

        try:
            dt.datetime.fromisoformat(from_.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter(f"{from_!r} is not a date", param_hint="--from") from exc
    if allow_mass_delete and not full:
        raise click.UsageError("--allow-mass-delete only applies to --full runs")
    reports = _run_harvest(ctx, repos, full=full, from_=from_, workers=max(1, workers),
                           allow_mass_delete=allow_mass_delete)
    if not reports:
        click.echo("no enabled repositories to harvest")
        return
    _summarise(reports)
    if any(r.status != "ok" for r in reports):
        sys.exit(1)


@main.group("index")
def index_group() -> None:
    """Maintain the search index."""


@index_group.command("rebuild")
@pass_ctx
def index_rebuild(ctx: Context) -> None:
    """Rebuild the index from the raw archive (no network) and swap it in atomically.

    Use it after a crosswalk or analysis change; searches keep using the old index until the
    new one is complete.
    """
    from resolver.harvest_jobs import JobContext, rebuild_index

    count, errors = rebuild_index(JobContext(ctx.settings, ctx.sessions()))
    click.echo(f"rebuilt {ctx.settings.index_dir}: {count} records, {len(errors)} failed")
    for err in errors[:10]:
        click.echo(f"    {err}")
    if errors:
        click.echo(f"    ... {len(errors) - 10} more (see the log)" if len(errors) > 10 else "",
                   nl=len(errors) > 10)
        sys.exit(1)


# --- demo -------------------------------------------------------------------------------

@main.group("demo")
def demo_group() -> None:
    """The demo consortium that `make run` loads."""


@demo_group.command("load")
@click.option("--no-harvest", is_flag=True, help="Load the registry only.")
@pass_ctx
def demo_load(ctx: Context, no_harvest: bool) -> None:
    """Load the demo registry and harvest the demo repositories over OAI-PMH.

    The demo repositories' pages are served on 127.0.0.1 (the ports in the demo registry)
    for the length of the harvest, which goes through the real harvester.
    """
    from resolver.demo import REGISTRY, demo_repositories, serve_demo_repositories

    # The demo endpoints are our own, on this machine's loopback: allowed explicitly for the
    # demo (the address guard refuses loopback to every other repository).
    settings = dataclasses.replace(
        ctx.settings,
        harvest_allowed_networks=(*ctx.settings.harvest_allowed_networks,
                                  ipaddress.ip_network("127.0.0.0/8")))
    _import_registry(ctx, REGISTRY, prune=False, dry_run=False, settings=settings)
    if no_harvest:
        return
    codes = tuple(code for code, _ in demo_repositories())
    try:
        with serve_demo_repositories():
            # ... and need no politeness delay.
            reports = _run_harvest(ctx, codes, full=True, from_=None, workers=4, delay=0.0,
                                   settings=settings)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    _summarise(reports)
    if any(r.status == "failed" for r in reports):
        sys.exit(1)


@demo_group.command("serve")
def demo_serve() -> None:
    """Serve the demo repositories' OAI-PMH endpoints until interrupted."""
    from resolver.demo import serve_demo_repositories

    with serve_demo_repositories() as servers:
        for server in servers:
            click.echo(f"serving {server.repository_name} at {server.url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


from resolver.kb_cli import kb_group  # noqa: E402

main.add_command(kb_group)


from resolver.admin_cli import admin_group, worker_cmd  # noqa: E402

main.add_command(admin_group)
main.add_command(worker_cmd)


from resolver.usage_cli import usage_group  # noqa: E402

main.add_command(usage_group)


from resolver.oai_cli import oai_group  # noqa: E402

main.add_command(oai_group)
