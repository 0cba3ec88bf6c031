"""``lienhop db``: schema migrations (``upgrade``, ``current``)."""

from __future__ import annotations

import click

from resolver import db
from resolver.cli.context import Context, pass_ctx


@click.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Create the schema or upgrade it to the newest revision (safe to repeat).

    Safe while the app or a worker starts, too: one process upgrades, the others wait.
    """
    database = db.open_database(ctx.settings, migrate=False)
    before, after = db.upgrade(database.engine, revision)
    if before == after:
        click.echo(f"{database.url}: already at revision {after}")
    else:
        click.echo(f"{database.url}: upgraded {before or '(empty)'} -> {after}")


@db_group.command("current")
@pass_ctx
def db_current(ctx: Context) -> None:
    """Print the database's schema revision and the newest one available."""
    database = db.open_database(ctx.settings, migrate=False)
    click.echo(f"current: {db.current_revision(database.engine) or '(empty)'}")
    click.echo(f"head:    {db.head_revision()}")
