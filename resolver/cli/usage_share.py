"""``lienhop usage share|rate|size``: cost sharing from the command line (issue #16).

``usage share PACKAGE YEAR --policy equal|use|size|hybrid`` prints who pays how much of the
package's cost for the year (``--format table|csv|json``, ``--lang vi|en``; the use of a
member entitled part of the use period is annualised unless ``--no-annualise``) and, with
``--adopt``, adopts it (audited as "(command line)"); ``usage rate YEAR RATE`` records the
year's VND per USD; ``usage size INSTITUTION YEAR --students N --fte N`` an institution's size.
Amounts on the command line are in the machine form (:mod:`resolver.usage.amounts`);
fractions are written ``35%`` or ``0.35``. The table shows amounts and costs per download with
the decimals the pages show them with (:mod:`resolver.usage.sharing.money` decides how many,
per currency; :mod:`resolver.usage.sharing_tables` writes them), the CSV with the same
decimals in the machine form.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache

import click
from babel.support import NullTranslations, Translations

from resolver import db
from resolver.cli.context import Context, pass_ctx
from resolver.usage.amounts import AmountError, read_machine_amount
from resolver.usage.models import CURRENCIES
from resolver.usage.sharing import (
    MEASURE_CLICKS,
    MEASURE_TOTAL,
    MEASURE_UNIQUE,
    MIN_ANNUALISE_MONTHS,
    MISSING_RULES,
    PERIOD_PREVIOUS_YEAR,
    PERIOD_ROLLING_12,
    SIZE_MEASURES,
    Allocation,
    Inputs,
    PolicyError,
    SizeTier,
    adopt,
    allocate,
    describe,
    from_minor,
    gather,
    per_download,
    percent,
    preset,
    set_rate,
    set_size,
    to_minor,
)
from resolver.usage.sharing_tables import money, money_value, per_download_text
from resolver.web.i18n import TRANSLATIONS, compile_catalogues

#: who the audit log names for what the command line adopts (as ``lienhop admin`` does)
CLI_USER = "(command line)"
_MEASURES = {"unique": MEASURE_UNIQUE, "total": MEASURE_TOTAL, "clicks": MEASURE_CLICKS}
_PERIODS = {"previous-year": PERIOD_PREVIOUS_YEAR, "rolling-12": PERIOD_ROLLING_12}
#: the table's columns: key, Vietnamese, English
_COLUMNS = (
    ("code", "Mã", "Code"), ("name", "Thành viên", "Member"), ("months", "Số tháng", "Months"),
    ("use", "Lượt dùng", "Use"), ("size", "Quy mô", "Size"),
    ("raw", "Phần thô", "Raw share"), ("amount", "Số tiền", "Amount"),
    ("last", "Năm trước", "Last year"), ("change", "Thay đổi", "Change"),
    ("change_pct", "Thay đổi %", "Change %"), ("cpd", "Chi phí/lượt tải", "Cost/download"),
)


@cache
def _catalogue(lang: str) -> NullTranslations:
    if lang != "vi":
        return NullTranslations()
    with contextlib.suppress(OSError):  # a read-only install: whatever .mo is there
        compile_catalogues()
    return Translations.load(str(TRANSLATIONS), ["vi"])


def translator(lang: str) -> Callable[[str], str]:
    """The message catalogue of ``lang`` as a ``translate`` function (English: the ids)."""
    return _catalogue(lang).gettext


def _fraction(value: str | None, option: str) -> Decimal | None:
    """``35%`` or ``0.35`` -> Decimal("0.35")."""
    if value is None:
        return None
    text = value.strip()
    try:
        if text.endswith("%"):
            return Decimal(text[:-1].strip()) / 100
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal(-1)
    if not 0 <= number <= 1:
        raise click.BadParameter(f"{value!r}: a fraction, written 35% or 0.35",
                                 param_hint=option)
    return number


def _amount(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return read_machine_amount(value)
    except AmountError as exc:
        raise click.BadParameter(f"{value!r} is not an amount in the machine form "
                                 "(12000.50, 12,000.50)", param_hint=option) from exc


def _tiers(value: str | None) -> tuple[SizeTier, ...] | None:
    """``0:1,5000:2,15000:3`` -> tiers."""
    if not value:
        return None
    try:
        return tuple(SizeTier(int(lo), Decimal(pts)) for lo, pts in
                     (part.split(":") for part in value.split(",")))
    except (ValueError, InvalidOperation) as exc:
        raise click.BadParameter(f"{value!r}: tiers are LOWER:POINTS,… e.g. 0:1,5000:2",
                                 param_hint="--tiers") from exc


@click.command("share")
@click.argument("package")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.option("--policy", "kind", default="hybrid", show_default=True,
              type=click.Choice(["equal", "use", "size", "hybrid"]),
              help="The starting point; --equal/--use/--size set other weights.")
@click.option("--equal", "w_equal", help="Weight of equal shares (40% or 0.4).")
@click.option("--use", "w_use", help="Weight of use.")
@click.option("--size", "w_size", help="Weight of size.")
@click.option("--measure", type=click.Choice(list(_MEASURES)), default="total",
              show_default=True, help="COUNTER Unique/Total_Item_Requests or resolver clicks.")
@click.option("--period", type=click.Choice(list(_PERIODS)), default="previous-year",
              show_default=True)
@click.option("--period-end", help="Last month of a rolling-12 period, YYYY-MM.")
@click.option("--size-measure", type=click.Choice(SIZE_MEASURES), default="students",
              show_default=True)
@click.option("--tiers", help="Size tiers LOWER:POINTS,… (default 0:1,5000:2,15000:3,40000:4).")
@click.option("--sponsor", help="Paid centrally first: a share (50%) or an amount (20000.00).")
@click.option("--floor", help="Least a member pays for a full year (amount).")
@click.option("--cap", help="Most a member pays, share of the members' total (35%).")
@click.option("--smoothing", help="Most change from last year's amount (20%).")
@click.option("--missing", type=click.Choice(MISSING_RULES), default="median",
              show_default=True, help="For a member without use or size data.")
@click.option("--no-pro-rata", is_flag=True, help="Whole-year amounts whatever the months.")
@click.option("--annualise/--no-annualise", default=True, show_default=True,
              help="Scale the use of a member entitled part of the use period to twelve "
                   f"months (from {MIN_ANNUALISE_MONTHS} months; fewer: its use counts as "
                   "missing).")
@click.option("--currency", type=click.Choice(CURRENCIES, case_sensitive=False),
              help="Allocate in this currency (default: the cost's).")
@click.option("--total", help="Share this amount instead of the recorded cost.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="en", show_default=True)
@click.option("--adopt", "do_adopt", is_flag=True,
              help="Adopt this as the package's policy for the year (audited).")
@pass_ctx
def share_cmd(ctx: Context, package: str, year: int, kind: str, w_equal: str | None,
              w_use: str | None, w_size: str | None, measure: str, period: str,
              period_end: str | None, size_measure: str, tiers: str | None,
              sponsor: str | None, floor: str | None, cap: str | None,
              smoothing: str | None, missing: str, no_pro_rata: bool, annualise: bool,
              currency: str | None,
              total: str | None, fmt: str, lang: str, do_adopt: bool) -> None:
    """Who pays how much of PACKAGE's cost in YEAR, e.g. ``usage share sd 2025 --policy
    hybrid --sponsor 50%``."""
    changes: dict[str, object] = {
        "measure": _MEASURES[measure], "period": _PERIODS[period], "period_end": period_end,
        "size_measure": size_measure, "missing": missing, "pro_rata": not no_pro_rata,
        "annualise": annualise,
        "floor": _amount(floor, "--floor"), "cap": _fraction(cap, "--cap"),
        "smoothing": _fraction(smoothing, "--smoothing")}
    weights = {k: _fraction(v, f"--{k}") for k, v in
               (("equal", w_equal), ("use", w_use), ("size", w_size))}
    if any(v is not None for v in weights.values()):
        changes.update({k: v or Decimal(0) for k, v in weights.items()})
    if (t := _tiers(tiers)) is not None:
        changes["tiers"] = t
    if sponsor is not None:
        if sponsor.strip().endswith("%"):
            changes["sponsor_fraction"] = _fraction(sponsor, "--sponsor")
        else:
            changes["sponsor_amount"] = _amount(sponsor, "--sponsor")
    translate = translator(lang)
    try:
        policy = preset(kind, **changes)
        with db.transaction(ctx.sessions()) as s:
            cur = currency.upper() if currency else None
            given = _amount(total, "--total")
            inputs = gather(s, package, year, policy, currency=cur,
                            total=to_minor(given, cur or "USD") if given is not None else None)
            allocation = allocate(policy, inputs.members, inputs.total, inputs.currency)
            if do_adopt:
                adopt(s, package, year, policy, None, currency=inputs.currency,
                      total=inputs.total, username=CLI_USER)
    except PolicyError as exc:
        raise click.ClickException(exc.message(translate)) from exc
    if fmt == "json":
        click.echo(json.dumps({"package": package, "year": year, **allocation.to_dict()},
                              ensure_ascii=False, indent=2))
    elif fmt == "csv":
        sys.stdout.write(_csv(allocation, lang))
    else:
        _print_table(inputs, allocation, translate, lang)
    if do_adopt:
        click.echo(f"adopted for {package} {year}", err=fmt != "table")


def _rows(allocation: Allocation, lang: str, *, machine: bool) -> list[list[str]]:
    cur = allocation.currency

    def amount(minor: int | None) -> str:
        if minor is None:
            return ""
        return str(from_minor(minor, cur)) if machine else money(minor, cur, lang)

    rows = []
    for s in allocation.shares:
        use = "" if s.use is None else f"{s.use.normalize():f}"
        if s.use_imputed and not machine:
            use += "*"
        size = "" if s.size_actual is None else str(s.size_actual)
        pct = "" if s.change_pct is None else (
            str(s.change_pct) if machine else percent(s.change_pct, lang))
        cpd = "" if s.cost_per_download is None else (
            str(per_download(s.cost_per_download, cur)) if machine
            else per_download_text(s.cost_per_download, cur, lang))
        rows.append([s.code, s.name, str(s.months), use, size,
                     str(s.raw) if machine else money_value(s.raw, cur, lang),
                     amount(s.amount), amount(s.last_amount), amount(s.change), pct, cpd]
                    + ([s.use_imputed or ""] if machine else []))
    return rows


def _csv(allocation: Allocation, lang: str) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow([c[0] for c in _COLUMNS] + ["use_imputed"])
    out.writerows(_rows(allocation, lang, machine=True))
    return buf.getvalue()


def _print_table(inputs: Inputs, allocation: Allocation, translate: Callable[[str], str],
                 lang: str) -> None:
    cur = allocation.currency
    head = [vi if lang == "vi" else en for _k, vi, en in _COLUMNS]
    rows = _rows(allocation, lang, machine=False)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    click.echo(f"{inputs.package} {inputs.package_name} — {inputs.year} ({cur})")
    for line in describe(allocation.policy, translate, lang, currency=cur, year=inputs.year):
        click.echo(f"  {line}")
    click.echo("")
    for r in [head, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    labels = {"vi": ("Tổng", "Nhà tài trợ", "Các thành viên"),
              "en": ("Total", "Sponsor", "Members")}[lang]
    for label, minor in zip(labels, (allocation.total, allocation.sponsor,
                                     allocation.members_total), strict=True):
        click.echo(f"{label}: {money(minor, cur, lang)} {cur}")
    for note in allocation.notes:
        click.echo(f"* {note.text(translate, lang)}")
    if any(s.use_imputed for s in allocation.shares):
        click.echo("(*) " + ("số liệu thay thế, xem ghi chú" if lang == "vi"
                             else "stand-in figure, see the notes"))


@click.command("rate")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.argument("rate")
@pass_ctx
def rate_cmd(ctx: Context, year: int, rate: str) -> None:
    """Record YEAR's exchange rate in VND per USD, e.g. ``usage rate 2025 25400``."""
    try:
        with db.transaction(ctx.sessions()) as s:
            value = set_rate(s, year, rate, recorded_by=CLI_USER)
    except PolicyError as exc:
        raise click.ClickException(exc.message()) from exc
    click.echo(f"{year}: 1 USD = {value.normalize():f} VND")


@click.command("size")
@click.argument("institution")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.option("--students", type=click.IntRange(0), help="Students enrolled.")
@click.option("--fte", type=click.IntRange(0), help="Researchers (full-time equivalent).")
@pass_ctx
def size_cmd(ctx: Context, institution: str, year: int, students: int | None,
             fte: int | None) -> None:
    """Record INSTITUTION's size reported for YEAR (cost sharing's size tiers)."""
    if students is None and fte is None:
        raise click.UsageError("give --students and/or --fte")
    try:
        with db.transaction(ctx.sessions()) as s:
            set_size(s, institution, year, students=students, fte=fte, recorded_by=CLI_USER)
    except PolicyError as exc:
        raise click.ClickException(exc.message()) from exc
    figures = ", ".join(f"{k} {v}" for k, v in (("students", students), ("fte", fte))
                        if v is not None)
    click.echo(f"{institution} {year}: {figures}")


COMMANDS = (share_cmd, rate_cmd, size_cmd)
