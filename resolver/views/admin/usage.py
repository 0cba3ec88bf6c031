"""``/admin/usage``: usage and cost reports (chart, table, CSV), COUNTER uploads, costs.

Reports are :data:`resolver.usage.reports.REPORTS`, run over a period of months. A consortium
administrator sees every institution; an institution administrator sees every report not
marked consortium-only there (:func:`resolver.usage.reports.reports_for`), restricted to their
own institution (the filter is applied in the query, not by hiding rows afterwards). Charts
are inline SVG from :mod:`resolver.usage.charts`; every report has a CSV download of exactly
the rows the page shows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from resolver.kb.models import Package
from resolver.registry.codes import CODE_RE
from resolver.registry.models import Institution
from resolver.usage.amounts import AmountError, example, format_amount, read_amount
from resolver.usage.charts import bar_chart, line_chart
from resolver.usage.costs import CostMonth, set_cost
from resolver.usage.counter import FIRST_MONTH, CounterError, last_month, parse_counter
from resolver.usage.counter_import import CounterImportError, import_counter
from resolver.usage.models import CURRENCIES, CounterImport, PackageCost
from resolver.usage.reports import REPORTS, reports_for, to_table
from resolver.usage.rollup import add_months, month_start, months_between
from resolver.usage.tables import KIND_LABELS, OUTCOME_LABELS, Table, csv_bytes, pivot
from resolver.views.admin.auth import audit, login_required
from resolver.views.admin.common import file_name, institution_choices, scope_code
from resolver.views.admin.common import ui_lang as lang
from resolver.web import services

bp = Blueprint("admin_usage", __name__, url_prefix="/admin/usage")

#: Longest period a page draws: a decade of months is already a wide chart.
MAX_MONTHS = 120
MAX_UPLOAD = 20 * 1024 * 1024
#: Problems of a refused COUNTER file the page lists (the command line lists 20).
PROBLEM_LINES = 50


# --- pure helpers -----------------------------------------------------------------------------

def parse_month(value: str | None, today: dt.date | None = None) -> dt.date | None:
    """``YYYY-MM`` (or a full date) -> the first of that month; None when not a month, or
    not one usage can have (before 2000, after next year: 9999-12 has no month after it)."""
    if not value:
        return None
    try:
        month = month_start(dt.date.fromisoformat(value if len(value) > 7 else value + "-01"))
    except ValueError:
        return None
    return month if FIRST_MONTH <= month <= last_month(today) else None


def period(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """The report's months: by default the twelve up to this one. The flag says whether
    what was asked for was usable (else the default is used)."""
    last_default = month_start(today)
    first_default = add_months(last_default, -11)
    first, last = parse_month(start, today), parse_month(end, today)
    good = (not start or first is not None) and (not end or last is not None)
    first, last = first or first_default, last or last_default
    if first > last or len(months_between(first, last)) > MAX_MONTHS:
        return first_default, last_default, False
    return first, last, good


def visible_reports(inst: str | None) -> list[str]:
    """Names of the reports the administrator of ``inst`` (None: the consortium) sees."""
    return [spec.name for spec in reports_for(inst)]


def report_rows(session: Session, name: str, start: dt.date, end: dt.date,
                inst: str | None) -> list[Any]:
    """Rows of a report for everyone (``inst`` None) or for one institution only."""
    return REPORTS[name].run(session, start, end, None if inst is None else [inst])


def kind_label(value: str | None, language: str) -> str:
    pair = KIND_LABELS.get(value or "") or OUTCOME_LABELS.get(value or "")
    if pair is None:
        return value or "—"
    return pair[1] if language == "en" else pair[0]


#: columns that hold a year: written as is, never grouped like a count ("2.024")
YEAR_KEYS = frozenset({"year"})


def display(key: str, value: Any, language: str) -> str:
    """A table cell as text in the page's language: months as YYYY-MM, years as written,
    kinds by name, changes as percentages, counts and amounts in the language's
    convention (grouped thousands, decimal comma in Vietnamese)."""
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()
    if key in YEAR_KEYS:
        return str(value)
    if key == "kind":
        return kind_label(value, language)
    if key == "change" and isinstance(value, Decimal):
        return str(format_decimal(value * 100, format="+#,##0.0;-#,##0.0",
                                  locale=language)) + " %"
    if isinstance(value, Decimal):  # costs (two decimals), costs per download (up to four)
        return format_amount(value, language, places=4)
    if isinstance(value, int):
        return str(format_decimal(value, locale=language))
    return str(value)


def cost_series(rows: list[CostMonth], months: list[dt.date]
                ) -> dict[str, list[float | None]]:
    """Running cost per download, one line per package (and member) and currency."""
    index = {m: i for i, m in enumerate(months)}
    out: dict[str, list[float | None]] = {}
    for r in rows:
        key = " / ".join(x for x in (r.package, r.institution, r.currency) if x)
        values = out.setdefault(key, [None] * len(months))
        if r.month in index and r.cost_per_download_to_date is not None:
            values[index[r.month]] = float(r.cost_per_download_to_date)
    return dict(sorted(out.items()))


def chart_for(name: str, rows: list[Any], start: dt.date, end: dt.date, title: str,
              language: str) -> tuple[str, dict[str, list[Any]], list[dt.date]]:
    """(SVG or '', the month series behind it, its months) for a report's rows."""
    spec = REPORTS[name]
    months = months_between(start, end)
    if spec.chart == "line":
        series = cost_series(rows, months)
        return (line_chart(months, series, title=title, lang=language) if series else ""), \
            {}, months
    if spec.series == "" or not rows:
        return "", {}, months
    months, counts = pivot(rows, spec.series, start, end)
    if spec.series == "kind":
        counts = {kind_label(k, language): v for k, v in counts.items()}
    return bar_chart(months, counts, title=title, lang=language), counts, months


def csv_name(name: str, start: dt.date, end: dt.date, inst: str | None) -> str:
    who = f"-{inst}" if inst else ""
    return f"lienhop-{name}{who}-{start:%Y-%m}-{end:%Y-%m}.csv"


# --- report pages -----------------------------------------------------------------------------

def _report_args() -> tuple[dt.date, dt.date]:
    start, end, good = period(request.args.get("from"), request.args.get("to"), dt.date.today())
    if not good:
        flash(_("That period cannot be read (use YYYY-MM, at most ten years); showing the "
                "last twelve months."), "error")
    return start, end


def _scoped_report(name: str) -> tuple[str | None, Table, list[Any], dt.date, dt.date]:
    inst = scope_code()
    if name not in visible_reports(inst):
        abort(404 if name not in REPORTS else 403)
    start, end = _report_args()
    rows = report_rows(services.session(), name, start, end, inst)
    return inst, to_table(name, rows), rows, start, end


@bp.get("")
@login_required
def index() -> str:
    inst = scope_code()
    start, end = _report_args()
    language = lang()
    reports = [(n, REPORTS[n].label_en if language == "en" else REPORTS[n].label_vi)
               for n in visible_reports(inst)]
    return render_template("admin/usage_index.html", reports=reports, start=start, end=end,
                           inst=inst)


@bp.get("/reports/<name>")
@login_required
def report(name: str) -> str:
    inst, table, rows, start, end = _scoped_report(name)
    language = lang()
    title = table.label_en if language == "en" else table.label_vi
    svg, series, months = chart_for(name, rows, start, end, title, language)
    cells = [[display(c.key, v, language) for c, v in zip(table.columns, row, strict=True)]
             for row in table.rows]
    return render_template(
        "admin/usage_report.html", name=name, title=title, inst=inst, start=start, end=end,
        # charts.py escapes every text it draws: the one place a string is marked safe
        chart=Markup(svg) if svg else "",  # noqa: S704
        series=series, months=months, headers=table.labels(language), cells=cells,
        numeric={i for i, c in enumerate(table.columns) if c.key not in (
            "month", "institution", "package", "kind", "currency")})


@bp.get("/reports/<name>/csv")
@login_required
def report_csv(name: str) -> Response:
    inst, table, _rows, start, end = _scoped_report(name)
    return Response(csv_bytes(table, lang=lang()), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{csv_name(name, start, end, inst)}"'})


# --- COUNTER uploads ------------------------------------------------------------------------

def _package_codes() -> list[str]:
    return list(services.session().scalars(select(Package.code).order_by(Package.code)))


def _institution_id(code: str) -> int | None:
    return services.session().scalar(select(Institution.id).where(Institution.code == code))


def _imports(inst: str | None) -> list[CounterImport]:
    query = select(CounterImport).order_by(CounterImport.id.desc()).limit(50)
    if inst is not None:
        query = query.where(CounterImport.institution == inst)
    return list(services.session().scalars(query))


def _allowed_institution(code: str, inst: str | None) -> bool:
    choices = {c for c, _name in institution_choices()}
    return code in choices and (inst is None or code == inst)


@bp.route("/counter", methods=["GET", "POST"])
@login_required
def counter() -> ResponseReturnValue:
    inst = scope_code()
    problems: list[str] = []
    result = None
    form: Any = request.form if request.method == "POST" else {"institution": inst or ""}
    if request.method == "POST":
        code = request.form.get("institution", "").strip()
        package = request.form.get("package", "").strip().lower()
        upload = request.files.get("file")
        if not _allowed_institution(code, inst):
            problems.append(_("Choose one of your institutions."))
        if not CODE_RE.match(package):
            problems.append(_("Package code: lower-case letters, digits, '.', '_' or '-'."))
        data = upload.read(MAX_UPLOAD + 1) if upload else b""
        if not data:
            problems.append(_("Choose a COUNTER report file to upload."))
        elif len(data) > MAX_UPLOAD:
            problems.append(_("The file is larger than 20 MB."))
        report_data = None
        if not problems:
            try:
                report_data = parse_counter(data)
            except CounterError as exc:
                problems.extend(p.text(lang()) for p in exc.problems[:PROBLEM_LINES])
                if len(exc.problems) > PROBLEM_LINES:
                    problems.append(_("… and %(n)s more problems.",
                                      n=len(exc.problems) - PROBLEM_LINES))
        if report_data is not None:
            session = services.session()
            name = file_name(upload, "upload")
            try:
                result = import_counter(session, report_data, institution=code,
                                              package=package, source=name)
            except CounterImportError as exc:
                session.rollback()
                problems.append(exc.message_vi if lang() == "vi" else str(exc))
            else:
                audit("usage.counter_import", f"counter:{result.import_id}",
                      {"institution": code, "package": package, "file": name,
                       "report": result.report_id, "rows": result.rows,
                       "replaced": result.replaced,
                       "months": [m.isoformat() for m in result.months]},
                      institution_id=_institution_id(code))
                session.commit()
    return render_template("admin/usage_counter.html", problems=problems, result=result,
                           form=form, institutions=institution_choices(inst),
                           packages=_package_codes(), imports=_imports(inst)), \
        (422 if problems else 200)


# --- package costs ----------------------------------------------------------------------------

def _costs(inst: str | None) -> list[PackageCost]:
    query = select(PackageCost).order_by(PackageCost.year.desc(), PackageCost.package,
                                         PackageCost.institution)
    if inst is not None:
        query = query.where(PackageCost.institution == inst)
    return list(services.session().scalars(query))


def amount_problem(exc: AmountError) -> str:
    """Why an amount was refused, with the rule of :mod:`resolver.usage.amounts` in the
    page's language (its separators and an example written its way)."""
    language = lang()
    rule = _("Write amounts with “%(group)s” between thousands and “%(decimal)s” before at "
             "most two decimals, e.g. %(example)s.", group=get_group_symbol(language),
             decimal=get_decimal_symbol(language), example=example(language))
    if exc.reason == "ambiguous":
        why = _("The amount “%(amount)s” can be read two ways (thousands or three "
                "decimals), so it was not saved.", amount=exc.text)
    elif exc.reason == "decimals":
        why = _("The amount “%(amount)s” has more than two decimals.", amount=exc.text)
    elif exc.reason == "negative":
        return str(_("A cost cannot be negative."))
    elif exc.reason == "large":
        return str(_("The amount “%(amount)s” is too large.", amount=exc.text))
    elif exc.reason == "empty":
        why = _("Enter the amount.")
    else:
        why = _("The amount “%(amount)s” is not a number.", amount=exc.text)
    return f"{why} {rule}"


def cost_problems(form: Any, inst: str | None, institutions: set[str]
                  ) -> tuple[dict[str, Any], list[str]]:
    """Validate the cost form; returns the values for :func:`set_cost` and problems."""
    problems = []
    package = form.get("package", "").strip().lower()
    if not CODE_RE.match(package):
        problems.append(_("Package code: lower-case letters, digits, '.', '_' or '-'."))
    member = form.get("institution", "").strip() or None
    if inst is not None and member != inst:
        problems.append(_("You may enter costs for your own institution only."))
    elif member is not None and member not in institutions:
        problems.append(_("Choose one of your institutions."))
    year_text = form.get("year", "").strip()
    year = int(year_text) if year_text.isdigit() else 0
    if not 1990 <= year <= 2100:
        problems.append(_("The year must be between 1990 and 2100."))
    try:
        amount = read_amount(form.get("amount", ""), lang())
    except AmountError as exc:
        problems.append(amount_problem(exc))
        amount = Decimal(0)
    currency = form.get("currency", "USD").strip().upper()
    if currency not in CURRENCIES:
        problems.append(_("Unknown currency."))
    return ({"package": package, "year": year, "amount": amount, "institution": member,
             "currency": currency, "note": form.get("note", "").strip()[:2000]}, problems)


@bp.route("/costs", methods=["GET", "POST"])
@login_required
def costs() -> ResponseReturnValue:
    inst = scope_code()
    problems: list[str] = []
    form: Any = request.form if request.method == "POST" else {
        "institution": inst or "", "year": str(dt.date.today().year), "currency": "USD"}
    if request.method == "POST":
        choices = {c for c, _name in institution_choices(inst)}
        values, problems = cost_problems(request.form, inst, choices)
        if not problems:
            session = services.session()
            set_cost(session, values["package"], values["year"], values["amount"],
                           institution=values["institution"], currency=values["currency"],
                           note=values["note"])
            audit("usage.cost_set",
                  f"cost:{values['package']}/{values['year']}/{values['institution'] or '*'}",
                  {**values, "amount": str(values["amount"])},
                  institution_id=_institution_id(values["institution"] or ""))
            session.commit()
            # the amount as it was read, in the page's convention: a misread shows at once
            flash(_("Cost saved: %(amount)s %(currency)s for %(package)s in %(year)s.",
                    amount=format_amount(values["amount"], lang()),
                    currency=values["currency"], package=values["package"],
                    year=str(values["year"])))
            return redirect(url_for("admin_usage.costs"))
    language = lang()
    return render_template("admin/usage_costs.html", problems=problems, form=form,
                           costs=_costs(inst), institutions=institution_choices(inst),
                           packages=_package_codes(), currencies=CURRENCIES, inst=inst,
                           money=lambda v: format_amount(v, language),
                           amount_example=example(language)), \
        (422 if problems else 200)
