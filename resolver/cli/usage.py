"""``lienhop usage``: COUNTER imports, SUSHI fetches, package costs and usage reports.

``usage import-counter FILE`` loads a COUNTER R5 report (JSON, TSV or CSV) for one
institution and package; ``usage sushi-set`` stores a package's SUSHI credentials and
``usage sushi-fetch`` fetches with them; ``usage cost set`` records what a package costs a
year; ``usage report NAME`` prints a report or writes it as CSV; ``usage rollup`` brings
the monthly roll-up up to date (``--rebuild`` after loading old log rows). Cost sharing
(``usage share``, ``usage rate``, ``usage size``) is in :mod:`resolver.cli.usage_share`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import select

from resolver import db
from resolver.cli import usage_share
from resolver.cli.context import Context, pass_ctx
from resolver.usage import rollup
from resolver.usage.amounts import AmountError, read_machine_amount
from resolver.usage.costs import set_cost
from resolver.usage.counter import FIRST_MONTH, CounterError, last_month, parse_counter
from resolver.usage.counter_import import import_counter
from resolver.usage.models import CURRENCIES, PackageCost, SushiCredential
from resolver.usage.reports import REPORTS, run_report
from resolver.usage.rollup import add_months, month_start
from resolver.usage.sushi import SushiConfig, SushiError, SushiNotReady, fetch_report
from resolver.usage.tables import csv_bytes

#: Where an API key may come from instead of the command line (which shells keep in history).
API_KEY_ENV = "LIENHOP_SUSHI_API_KEY"


def _month(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        month = month_start(dt.date.fromisoformat(value if len(value) > 7 else value + "-01"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)",
                                 param_hint=option) from exc
    if not FIRST_MONTH <= month <= last_month():
        raise click.BadParameter(f"{value!r}: a month from {FIRST_MONTH:%Y-%m} to "
                                 f"{last_month():%Y-%m}", param_hint=option)
    return month


def _period(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """--from/--to as months; by default the last twelve months up to this one."""
    last = _month(end, "--to") or month_start(dt.date.today())
    first = _month(start, "--from") or add_months(last, -11)
    if first > last:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    return first, last


@click.group("usage")
def usage_group() -> None:
    """Usage and cost: COUNTER reports, SUSHI, package costs, reports and CSV."""


for _command in usage_share.COMMANDS:  # cost sharing: share, rate, size
    usage_group.add_command(_command)


@usage_group.command("import-counter")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--institution", required=True, help="Institution code, e.g. hue.")
@click.option("--package", required=True, help="Package code, e.g. sd.")
@pass_ctx
def import_counter_cmd(ctx: Context, file: Path, institution: str, package: str) -> None:
    """Import a COUNTER R5 report (TR_J1, TR, TR_B1, DR; JSON, TSV or CSV)."""
    try:
        report = parse_counter(file.read_bytes())
    except CounterError as exc:
        for p in exc.problems[:20]:
            click.echo(f"{file.name}: {p}", err=True)
        raise click.ClickException(f"{file.name}: not imported "
                                   f"({len(exc.problems)} problem(s))") from exc
    try:
        with db.transaction(ctx.sessions()) as s:
            res = import_counter(s, report, institution=institution, package=package,
                                 source=file.name)
    except ValueError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    months = f"{res.months[0]:%Y-%m}..{res.months[-1]:%Y-%m}" if res.months else "no months"
    click.echo(f"{file.name}: {res.report_id} for {institution}/{package}, {months}: "
               f"{res.rows} figures imported, {res.replaced} replaced")
    for e in res.exceptions:
        click.echo(f"  COUNTER exception {e}")


@usage_group.command("sushi-set")
@click.argument("package")
@click.option("--institution", required=True)
@click.option("--url", "base_url", required=True, help="SUSHI base URL (…/counter/r5).")
@click.option("--customer-id", required=True)
@click.option("--requestor-id", default="")
@click.option("--platform", default="")
@click.option("--api-key", default=None,
              help=f"API key; better in ${API_KEY_ENV} than on the command line.")
@pass_ctx
def sushi_set(ctx: Context, package: str, institution: str, base_url: str, customer_id: str,
              requestor_id: str, platform: str, api_key: str | None) -> None:
    """Store (or replace) the SUSHI credentials of a package for an institution."""
    if not base_url.startswith(("https://", "http://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--url")
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
    with db.transaction(ctx.sessions()) as s:
        row = s.execute(select(SushiCredential).where(
            SushiCredential.package == package,
            SushiCredential.institution == institution)).scalar_one_or_none()
        if row is None:
            row = SushiCredential(package=package, institution=institution)
            s.add(row)
        row.base_url, row.customer_id, row.requestor_id = base_url, customer_id, requestor_id
        row.platform, row.api_key = platform, key
    click.echo(f"SUSHI credentials for {institution}/{package} saved"
               f" ({'with' if key else 'without'} an API key)")


@usage_group.command("sushi-fetch")
@click.argument("package")
@click.option("--institution", required=True)
@click.option("--from", "start", required=True, help="First month, YYYY-MM.")
@click.option("--to", "end", required=True, help="Last month, YYYY-MM.")
@click.option("--report", default="tr_j1", show_default=True,
              type=click.Choice(["tr_j1", "tr_b1", "tr", "dr"], case_sensitive=False))
@click.option("--retries", default=4, show_default=True)
@pass_ctx
def sushi_fetch(ctx: Context, package: str, institution: str, start: str, end: str,
                report: str, retries: int) -> None:
    """Fetch a report over SUSHI with the stored credentials and import it."""
    first, last = _period(start, end)
    with ctx.sessions()() as s:
        cred = s.execute(select(SushiCredential).where(
            SushiCredential.package == package,
            SushiCredential.institution == institution)).scalar_one_or_none()
    if cred is None:
        raise click.ClickException(f"no SUSHI credentials for {institution}/{package} "
                                   "(lienhop usage sushi-set)")
    cfg = SushiConfig(cred.base_url, cred.customer_id, cred.requestor_id,
                      cred.api_key or os.environ.get(API_KEY_ENV, ""), cred.platform)
    try:
        rep = fetch_report(cfg, first, last, report=report, retries=retries)
    except SushiNotReady as exc:
        click.echo(f"not ready, try later: {exc}", err=True)
        sys.exit(75)  # EX_TEMPFAIL: schedulers know to come back
    except SushiError as exc:
        raise click.ClickException(str(exc)) from exc
    with db.transaction(ctx.sessions()) as s:
        res = import_counter(s, rep, institution=institution, package=package,
                             source=f"sushi:{cred.base_url}")
    click.echo(f"{report.upper()} {first:%Y-%m}..{last:%Y-%m} for {institution}/{package}: "
               f"{res.rows} figures imported, {res.replaced} replaced")
    for e in res.exceptions:
        click.echo(f"  COUNTER exception {e}")


@usage_group.group("cost")
def cost_group() -> None:
    """What packages cost, per year (consortium-wide or per institution)."""


#: why the command line refused an AMOUNT (see resolver.usage.amounts)
_MACHINE_AMOUNT = {
    "decimals": "{amount!r} has more than two decimals (write 12000 for twelve thousand, "
                "12.50 for twelve and a half)",
    "negative": "{amount!r}: a cost cannot be negative",
    "large": "{amount!r} is too large",
    "format": "{amount!r} is not an amount in the machine form: a decimal point and at most "
              "two decimals, commas between thousands allowed (77027.40, 77,027.40)",
}


@cost_group.command("set")
@click.argument("package")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.argument("amount")
@click.option("--institution", default=None, help="Omit for the consortium-wide cost.")
@click.option("--currency", default="USD", show_default=True,
              type=click.Choice(CURRENCIES, case_sensitive=False))
@pass_ctx
def cost_set(ctx: Context, package: str, year: int, amount: str, institution: str | None,
             currency: str) -> None:
    """Set a package's cost for a year, e.g. ``cost set sd 2024 77027.40``.

    AMOUNT is in the machine form: a decimal point and at most two decimals, commas or
    underscores between thousands allowed (77027.40, 77,027.40); "12,5" and "12.000" are
    refused rather than guessed."""
    try:
        value = read_machine_amount(amount)
    except AmountError as exc:
        raise click.BadParameter(_MACHINE_AMOUNT.get(exc.reason, "is not an amount").format(
            amount=amount), param_hint="AMOUNT") from exc
    try:
        with db.transaction(ctx.sessions()) as s:
            set_cost(s, package, year, value, institution=institution,
                     currency=currency.upper())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    who = institution or "consortium"
    click.echo(f"cost of {package} in {year} for {who}: {value:,.2f} {currency.upper()}")


@cost_group.command("list")
@pass_ctx
def cost_list(ctx: Context) -> None:
    """List every recorded cost."""
    with ctx.sessions()() as s:
        rows = s.scalars(select(PackageCost).order_by(
            PackageCost.package, PackageCost.year, PackageCost.institution)).all()
    for r in rows:
        click.echo(f"{r.package}\t{r.year}\t{r.institution or 'consortium'}\t"
                   f"{Decimal(r.amount):,.2f} {r.currency}")


@usage_group.command("reports")
def reports_cmd() -> None:
    """List the report names."""
    for spec in REPORTS.values():
        click.echo(f"{spec.name}\t{spec.label_en}\t{spec.label_vi}")


@usage_group.command("report")
@click.argument("name", type=click.Choice(list(REPORTS)))
@click.option("--from", "start", help="First month, YYYY-MM (default: 11 months ago).")
@click.option("--to", "end", help="Last month, YYYY-MM (default: this month).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write CSV (UTF-8 with BOM) here; '-' for stdout.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="en", show_default=True)
@pass_ctx
def report_cmd(ctx: Context, name: str, start: str | None, end: str | None,
               csv_file: Path | None, lang: str) -> None:
    """Run a report; print it as a table or write it as CSV."""
    first, last = _period(start, end)
    with ctx.sessions()() as s:
        table = run_report(s, name, first, last)
    if csv_file is not None:
        data = csv_bytes(table, lang=lang)
        if str(csv_file) == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            csv_file.write_bytes(data)
            click.echo(f"{name}: {len(table.rows)} rows written to {csv_file}")
        return
    click.echo(table.label_en if lang == "en" else table.label_vi)
    click.echo("\t".join(table.labels(lang)))
    for row in table.rows:
        click.echo("\t".join(_text(v) for v in row))


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return f"{value:%Y-%m}" if value.day == 1 else value.isoformat()
    return "" if value is None else str(value)


@usage_group.command("rollup")
@click.option("--rebuild", is_flag=True, help="Count every closed month again from the logs.")
@pass_ctx
def rollup_cmd(ctx: Context, rebuild: bool) -> None:
    """Bring the monthly roll-up of the click and resolve logs up to date."""
    with ctx.sessions()() as s:
        done = rollup.rebuild(s) if rebuild else rollup.refresh(s)
    for source, months in done.items():
        click.echo(f"{source}: {months} month(s) rolled up")
