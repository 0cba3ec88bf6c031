"""``lienhop harvest`` and ``lienhop index rebuild``: harvesting from the command line."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import IO, TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

from harvesters.runner import RunReport
from resolver.cli.context import Context, pass_ctx
from resolver.settings import Settings


class _Progress:
    """One status line per repository on a terminal; nothing otherwise (the log says it)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, report: RunReport) -> None:
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


def run_harvest(ctx: Context, repos: tuple[str, ...], *, full: bool, from_: str | None,
                 workers: int, delay: float | None = None, allow_mass_delete: bool = False,
                 settings: Settings | None = None) -> list[RunReport]:
    from resolver.harvesting.run import JobContext, harvest

    tty = sys.stderr.isatty()
    if tty:  # the progress line replaces the per-page log lines
        logging.getLogger("lienhop.harvest").setLevel(logging.WARNING)
    job = JobContext(settings or ctx.settings, ctx.sessions())
    try:
        return harvest(job, repos, full=full, from_=from_, workers=workers, delay=delay,
                       progress=_Progress(tty), allow_mass_delete=allow_mass_delete)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc


def summarise(reports: list[RunReport]) -> None:
    for r in reports:
        click.echo(f"{r.repository}: {r.status}: {r.pages} pages, {r.added} added, "
                   f"{r.updated} updated, {r.deleted} deleted, {r.withdrawn} withdrawn, "
                   f"{r.failed} failed")
        for err in r.errors[:5]:
            click.echo(f"    {err}")
        if len(r.errors) > 5:
            click.echo(f"    ... {len(r.errors) - 5} more (see the log)")


@click.command("harvest")
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
    reports = run_harvest(ctx, repos, full=full, from_=from_, workers=max(1, workers),
                           allow_mass_delete=allow_mass_delete)
    if not reports:
        click.echo("no enabled repositories to harvest")
        return
    summarise(reports)
    if any(r.status != "ok" for r in reports):
        sys.exit(1)


@click.group("index")
def index_group() -> None:
    """Maintain the search index."""


class _RebuildProgress:
    """Records indexed by ``lienhop index rebuild``: a bar on a terminal (done / total, rate,
    time left); otherwise a plain line every tenth of the way (a log file, a cron mail)."""

    def __init__(self, total: int):
        self.total = total
        self.file: IO[str] = sys.stderr
        self.started = time.monotonic()
        self.shown = 0  # records the bar shows, or the last line reported
        self.bar: ProgressBar[str] | None = None
        if self.file.isatty():
            self.bar = click.progressbar(
                length=total or None, label="rebuilding", file=self.file, show_pos=True,
                show_eta=True, item_show_func=lambda rate: rate)
            self.bar.__enter__()

    def rate(self, done: int) -> float:
        elapsed = time.monotonic() - self.started
        return done / elapsed if elapsed > 0 else 0.0

    def __call__(self, done: int) -> None:
        rate = self.rate(done)
        if self.bar is not None:
            self.bar.update(done - self.shown, f"{rate:,.0f} rec/s")
            self.shown = done
            return
        step = max(1, self.total // 10) if self.total else 100_000
        last, self.shown = self.shown, done
        finished = bool(self.total) and done >= self.total > last
        if done // step == last // step and not finished:
            return
        line = f"rebuilding: {done:,}"
        if self.total:
            line += f" / {self.total:,} records ({min(100, 100 * done // self.total)} %)"
            if rate and done < self.total:
                line += f", about {_duration((self.total - done) / rate)} left"
        else:
            line += " records"
        click.echo(f"{line}, {rate:,.0f} rec/s", file=self.file)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@index_group.command("rebuild")
@click.option("--engine", type=click.Choice(["whoosh", "tantivy"]), default=None,
              help="Build the new index with this engine (default: the current index's).")
@pass_ctx
def index_rebuild(ctx: Context, engine: str | None) -> None:
    """Rebuild the index from the raw archive (no network) and swap it in atomically.

    Use it after a crosswalk or analysis change, or with --engine to convert the index to
    another search engine; searches keep using the old index until the new one is complete.
    Shows its progress (a bar on a terminal, a line every tenth of the way otherwise).
    """
    from resolver.harvesting.run import JobContext, archived_count, rebuild_index

    job = JobContext(ctx.settings, ctx.sessions())
    progress = _RebuildProgress(archived_count(job))
    try:
        count, errors = rebuild_index(job, engine=engine, progress=progress)
    finally:
        progress.close()
    click.echo(f"rebuilt {ctx.settings.index_dir}: {count} records, {len(errors)} failed")
    for err in errors[:10]:
        click.echo(f"    {err}")
    if errors:
        click.echo(f"    ... {len(errors) - 10} more (see the log)" if len(errors) > 10 else "",
                   nl=len(errors) > 10)
        sys.exit(1)
