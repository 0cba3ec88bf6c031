"""``lienhop db``: schema migrations (``upgrade``, ``current``)."""

from __future__ import annotations

import click

from resolver import db
from resolver.cli.context import Context, pass_ctx

# --- db ---------------------------------------------------------------------------------

@click.group("db")
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
