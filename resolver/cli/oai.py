"""``lienhop oai``: maintenance of the OAI-PMH provider's ``oai_item`` table.

``oai sync`` (re)builds it from the raw archive (every live record, crosswalked again) for
instances harvested before the provider existed, or after a crash between an index commit
and the ``oai_item`` commit. It folds clusters (one item per work, see
:mod:`resolver.oai.feed`), so run it once after upgrading to cluster folding. Idempotent:
unchanged items keep their datestamps; records no longer in the archive, and records that
are no cluster's representative, become deleted items.
"""

from __future__ import annotations

import click

from resolver.cli.context import Context, pass_ctx


@click.group("oai")
def oai_group() -> None:
    """The OAI-PMH data provider at /oai."""


@oai_group.command("sync")
@pass_ctx
def oai_sync(ctx: Context) -> None:
    """Bring oai_item in step with the archive (upsert live records, tombstone the rest)."""
    from resolver.harvesting.run import JobContext, archived_records
    from resolver.oai.feed import sync

    job = JobContext(ctx.settings, ctx.sessions())
    errors: list[str] = []
    # sync reads the archive twice (clusters, then items): both passes report the same errors
    stats = sync(job.sessions, lambda: archived_records(job, errors=errors))
    errors = list(dict.fromkeys(errors))
    click.echo(" ".join(f"{k}={v}" for k, v in stats.items()) + f" errors={len(errors)}")
    for msg in errors[:20]:
        click.echo(f"  {msg}", err=True)
