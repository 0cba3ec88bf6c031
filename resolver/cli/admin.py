"""``lienhop admin …`` (accounts) and ``lienhop worker`` (the harvest-job consumer)."""

from __future__ import annotations

import signal

import click
from sqlalchemy import select

from resolver import db
from resolver.accounts.auth import audit_entry, create_user, forget_failures, set_password
from resolver.accounts.models import CONSORTIUM, INSTITUTION, AdminUser
from resolver.cli.context import Context, pass_ctx
from resolver.registry.models import Institution


def _password(given: str | None) -> str:
    if given:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group("admin")
def admin_group() -> None:
    """Administrator accounts of the web administration (/admin)."""


@admin_group.command("create")
@click.argument("username")
@click.option("--password", envvar="LIENHOP_NEW_ADMIN_PASSWORD",
              help="The password (prompted for when absent; avoid it on shared machines: "
                   "command lines are visible to other users).")
@click.option("--institution", metavar="CODE",
              help="Make an institution administrator of this institution (default: a "
                   "consortium administrator).")
@pass_ctx
def admin_create(ctx: Context, username: str, password: str | None,
                 institution: str | None) -> None:
    """Create an administrator account (the first one is how the web admin is reached)."""
    secret = _password(password)
    with db.transaction(ctx.sessions()) as session:
        inst_id = None
        if institution:
            inst_id = session.scalar(select(Institution.id).where(Institution.code == institution))
            if inst_id is None:
                raise click.ClickException(f"no institution {institution!r} in the registry")
        try:
            user = create_user(session, username, secret,
                               role=INSTITUTION if institution else CONSORTIUM,
                               institution_id=inst_id)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        audit_entry(session, None, "user.create", f"user:{user.username}",
                    {"role": user.role, "institution": institution}, username="(command line)",
                    institution_id=inst_id)
    kind = f"administrator of {institution}" if institution else "consortium administrator"
    click.echo(f"created {kind} {user.username!r}")


@admin_group.command("passwd")
@click.argument("username")
@click.option("--password", envvar="LIENHOP_NEW_ADMIN_PASSWORD", help="The new password.")
@pass_ctx
def admin_passwd(ctx: Context, username: str, password: str | None) -> None:
    """Set an account's password (also unlocks it and ends its sessions)."""
    secret = _password(password)
    with db.transaction(ctx.sessions()) as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == username.lower()))
        if user is None:
            raise click.ClickException(f"no account {username!r}")
        try:
            set_password(user, secret)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        forget_failures(session, user)  # "also unlocks it": from every address, too
        audit_entry(session, None, "user.password", f"user:{user.username}", {},
                    username="(command line)", institution_id=user.institution_id)
    click.echo(f"password of {username!r} changed")


@admin_group.command("list")
@pass_ctx
def admin_list(ctx: Context) -> None:
    """List administrator accounts."""
    with ctx.sessions()() as session:
        for user in session.scalars(select(AdminUser).order_by(AdminUser.username)):
            where = user.institution.code if user.institution else "-"
            state = "active" if user.active else "inactive"
            click.echo(f"{user.username:<24} {user.role:<12} {where:<12} {state}")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@click.command("worker")
@click.option("--workers", default=2, show_default=True,
              help="Harvest jobs run at once by this process (threads).")
@pass_ctx
def worker_cmd(ctx: Context, workers: int) -> None:
    """Run harvest jobs from the queue (LIENHOP_QUEUE_URL) and scheduled harvests.

    Start one per machine (several share a Redis queue). On start, jobs left running by a
    dead worker are queued again; then every minute, lost jobs are recovered and
    repositories whose schedule is due are queued. The worker reports itself every few
    seconds, so the admin pages warn when a harvest is queued and no worker runs.
    """
    from resolver.harvesting.queue import JobQueue, WorkerBeat
    from resolver.kb import linkcheck

    queue = JobQueue(ctx.settings, ctx.sessions())
    linkcheck.register(queue)  # the web process sends link checks to the same queue
    click.echo(f"lienhop worker: queue {ctx.settings.queue_url}, {workers} worker thread(s)",
               err=True)
    # Until huey's consumer takes SIGTERM over, it ends this command through the `finally`
    # below, so a worker stopped while starting does not leave its report behind.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # reported in harvest_worker, so the pages can say when a queued job has no worker
    beat = WorkerBeat(ctx.sessions(), queue.heartbeat_every)
    try:
        beat.start()
        queue.tick()
        queue.consumer(workers=max(1, workers)).run()
    finally:
        beat.stop()
