"""``lienhop demo load|serve``: the demo consortium and its repositories' OAI-PMH endpoints."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
import time

import click

from resolver.cli.context import Context, pass_ctx
from resolver.cli.harvest import run_harvest, summarise
from resolver.cli.registry import import_registry_file

# --- demo -------------------------------------------------------------------------------

@click.group("demo")
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
    import_registry_file(ctx, REGISTRY, prune=False, dry_run=False, settings=settings)
    if no_harvest:
        return
    codes = tuple(code for code, _ in demo_repositories())
    try:
        with serve_demo_repositories():
            # ... and need no politeness delay.
            reports = run_harvest(ctx, codes, full=True, from_=None, workers=4, delay=0.0,
                                   settings=settings)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    summarise(reports)
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
