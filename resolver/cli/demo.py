"""``lienhop demo load|serve|run``: the demo consortium, its repositories' OAI-PMH endpoints,
and the whole trial instance ``make run`` starts."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shlex
import sys
import time
from pathlib import Path

import click

from resolver.cli.context import Context, pass_ctx
from resolver.cli.harvest import run_harvest, summarise
from resolver.cli.registry import import_registry_file
from resolver.cli.supervise import lienhop, supervise

#: the demo repositories are served on this machine's loopback, which the harvester refuses
#: to every other repository (harvesters/netguard.py)
DEMO_NETWORK = ipaddress.ip_network("127.0.0.0/8")

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
        harvest_allowed_networks=(*ctx.settings.harvest_allowed_networks, DEMO_NETWORK))
    import_registry_file(ctx, REGISTRY, prune=False, dry_run=False, settings=settings)
    _load_cost_sharing(ctx)
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


def _load_cost_sharing(ctx: Context) -> None:
    """The demo's shared subscription, its usage, sizes, costs and 2024 policy (issue #16)."""
    from resolver import db
    from resolver.demo.sharing import load_demo_sharing

    with db.transaction(ctx.sessions()) as session:
        package = load_demo_sharing(session)
    click.echo(f"demo cost sharing: package {package} with its members, usage and costs")


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


def _demo_env(ctx: Context) -> dict[str, str]:
    """This environment, with the demo's loopback network allowed to harvests (as
    ``demo load`` allows it), for the worker and the web server."""
    env = dict(os.environ)
    allowed = ctx.settings.harvest_allowed_networks
    if not any(DEMO_NETWORK.subnet_of(net) for net in allowed  # type: ignore[arg-type]
               if net.version == DEMO_NETWORK.version):
        env["LIENHOP_HARVEST_ALLOWED_NETWORKS"] = " ".join(
            [str(net) for net in allowed] + [str(DEMO_NETWORK)])
    return env


def _admin_hint(ctx: Context) -> str | None:
    """How to reach /admin when nobody can log in yet (None when somebody can)."""
    from sqlalchemy import select

    from resolver.accounts.models import AdminUser

    with ctx.sessions()() as session:
        if session.scalar(select(AdminUser.id).limit(1)) is not None:
            return None
    if ctx.settings.admin_user and ctx.settings.admin_password:
        return (f"lienhop: log in to /admin as {ctx.settings.admin_user} "
                "(LIENHOP_ADMIN_USER; made at the first login)")
    command = os.path.relpath(Path(sys.executable).with_name("lienhop"))
    where = " ".join(f"{key}={shlex.quote(os.environ[key])}"
                     for key in ("LIENHOP_ENV", "LIENHOP_HOME", "LIENHOP_DATABASE_URL")
                     if key in os.environ)
    return ("lienhop: no administrator yet; to use /admin, create one from another shell "
            f"in this folder: {where} {command} admin create NAME").replace("  ", " ")


@demo_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address the web server listens on.")
@click.option("--port", default=5000, show_default=True, help="The web server's port.")
@click.option("--workers", default=2, show_default=True,
              help="Harvest jobs the worker runs at once.")
@pass_ctx
def demo_run(ctx: Context, host: str, port: int, workers: int) -> None:
    """Run the trial instance: the demo repositories' OAI-PMH endpoints, a harvest worker and
    the web server (`lienhop run`), until Ctrl-C stops them all.

    What `make run` starts after `lienhop demo load`: "harvest now" in /admin is run by the
    worker, from the demo endpoints, as in production (where gunicorn and `lienhop worker`
    run as services instead).
    """
    from resolver.demo import serve_demo_repositories

    ctx.database  # noqa: B018 - the settings checked and the schema migrated before the children
    env = _demo_env(ctx)
    children = [lienhop("harvest worker", "worker", "--workers", str(max(1, workers))),
                lienhop("web server", "run", "--host", host, "--port", str(port))]
    try:
        with serve_demo_repositories() as servers:
            for server in servers:
                click.echo(f"serving {server.repository_name} at {server.url}", err=True)
            click.echo(f"lienhop: web server on http://{host}:{port}/, a harvest worker "
                       "beside it; Ctrl-C stops them all", err=True)
            hint = _admin_hint(ctx)
            if hint:
                click.echo(hint, err=True)
            status = supervise(children, env=env, say=lambda m: click.echo(m, err=True))
    except RuntimeError as exc:  # a demo port is taken
        raise click.ClickException(str(exc)) from exc
    sys.exit(status)
