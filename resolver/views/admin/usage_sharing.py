"""``/admin/usage/cost-sharing``: who pays how much of a shared package, under which rule
(issue 16) — the what-if comparison, adopting a policy, each member's statement, the
accounts' CSV and XLSX, and the inputs the policies need (exchange rates, sizes).

The rules themselves are :mod:`resolver.usage.sharing`'s; this module reads forms, asks it,
and shows the answers. Who sees what:

* a **consortium administrator** compares, adopts (a POST with CSRF that asks first,
  :mod:`resolver.views.admin.confirm`, and is audited), exports, records the inputs and
  prints every member's statement;
* an **institution administrator** sees the comparison with their own line only (never
  another member's amount, nor the totals from which the others' could be worked out) and
  prints only their own statement.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from resolver.kb.models import Package
from resolver.registry.codes import CODE_RE
from resolver.registry.models import Institution
from resolver.usage.amounts import AmountError, format_amount, read_amount
from resolver.usage.exports import csv_export, xlsx_export
from resolver.usage.models import PackageCost
from resolver.usage.share_chart import member_bars
from resolver.usage.sharing import (
    MIN_ANNUALISE_MONTHS,
    SIZE_FTE,
    Adopted,
    Comparison,
    Policy,
    PolicyError,
    adopt,
    adopted,
    compare,
    describe,
    from_minor,
    measure_label,
    percent,
    rate,
    set_rate,
    set_size,
    shared_packages,
    sizes,
)
from resolver.usage.sharing_tables import (
    both_currencies,
    export_sheet,
    money,
    other_currency,
    per_download_text,
)
from resolver.views.admin.auth import audit as audit_here
from resolver.views.admin.auth import consortium_required, current_user, login_required, request_ip
from resolver.views.admin.common import institution_choices, safe_next, scope_code
from resolver.views.admin.common import ui_lang as lang
from resolver.views.admin.confirm import ask, confirmed
from resolver.views.admin.sharing_form import (
    KINDS,
    SLOTS,
    WhatIf,
    policy_title,
    read_what_if,
    read_year,
)
from resolver.web import services
from resolver.web.ordering import institution_name

bp = Blueprint("admin_usage_sharing", __name__, url_prefix="/admin/usage/cost-sharing")

#: a policy posted for adoption is the JSON of :meth:`Policy.to_dict`: a few hundred bytes
MAX_POLICY_JSON = 4000


# --- reading the database -------------------------------------------------------------------

def _costs(package: str, year: int) -> list[tuple[Decimal, str]]:
    """The package's consortium-wide cost rows for the year: (amount, currency)."""
    rows = services.session().execute(select(PackageCost.amount, PackageCost.currency).where(
        PackageCost.package == package, PackageCost.year == year,
        PackageCost.institution.is_(None)).order_by(PackageCost.currency))
    return [(Decimal(a), c) for a, c in rows]


def _package_name(code: str) -> str:
    return services.session().scalar(select(Package.name).where(Package.code == code)) or ""


def _names(codes: list[str]) -> dict[str, str]:
    """Institution code -> the name the page's language shows."""
    rows = services.session().scalars(select(Institution).where(Institution.code.in_(codes)))
    return {i.code: institution_name(i) for i in rows}


def _problem_page(problems: list[str], status: int, back: str) -> ResponseReturnValue:
    return render_template("admin/cost_sharing_refused.html", problems=problems,
                           back=back), status


# --- the what-if page -------------------------------------------------------------------------

def _what_if_url(form: WhatIf) -> str:
    args: dict[str, Any] = {k: v for k, v in form.values.items() if v}
    args.update(package=form.package, year=str(form.year))
    return url_for("admin_usage_sharing.what_if", **args)


def _missing_inputs(comparison: Comparison, scope: str | None) -> list[str]:
    """What the compared policies need and the database lacks, in plain words."""
    inputs = comparison.inputs
    members = [m for m in inputs.members if scope is None or m.code == scope]
    names = _names([m.code for m in members])
    out = []
    uses = any(p.use > 0 for p in comparison.policies)
    if uses:
        period = f"{inputs.use_start:%m/%Y}–{inputs.use_end:%m/%Y}"
        without = [names.get(m.code, m.code) for m in members if m.use is None]
        if members and len(without) == len(members) and scope is None:
            out.append(_("No use is recorded for any member over %(period)s: a policy by use "
                         "cannot tell them apart. Upload COUNTER reports or check the "
                         "resolver's clicks.", period=period))
        elif without:
            out.append(_("No use is recorded over %(period)s for: %(members)s. They are "
                         "counted by the rule for members without data.", period=period,
                         members=", ".join(without)))
    if any(p.size > 0 for p in comparison.policies):
        without = [names.get(m.code, m.code) for m in members if m.size is None]
        if without:
            out.append(_("No size (students or researchers) is recorded for: %(members)s. "
                         "Record it under Inputs below.", members=", ".join(without)))
    if inputs.last is None:
        out.append(_("No policy was adopted for %(year)s, so no change from last year is "
                     "shown.", year=inputs.year - 1))
    return out


def _columns(comparison: Comparison, slots: list[tuple[int, str, Policy]],
             rate_: Decimal | None, language: str) -> list[dict[str, Any]]:
    """One column per policy: its name, its rule in words, and each member's figures in
    both currencies (or the reason it could not be applied)."""
    cur = comparison.currency
    other = other_currency(cur)
    cols = []
    for (slot, kind, policy), allocation, error in zip(
            slots, comparison.allocations, comparison.errors, strict=True):
        col: dict[str, Any] = {"slot": slot, "kind": kind, "name": policy_title(policy),
                               "rule": describe(policy, _, language, currency=cur,
                                                year=comparison.year),
                               "error": error.message(_) if error else None,
                               "policy_json": json.dumps(policy.to_dict(), sort_keys=True),
                               "cells": {}, "notes": []}
        if allocation is not None:
            amounts = both_currencies(allocation, rate_)
            for share in allocation.shares:
                col["cells"][share.code] = {
                    cur: money(share.amount, cur, language),
                    other: money(amounts.of(share.code, other), other, language),
                    "value": float(share.value),
                    "change": None if share.change is None else
                    ("+" if share.change > 0 else "") + money(share.change, cur, language),
                    "change_pct": None if share.change_pct is None else
                    ("+" if share.change_pct > 0 else "") + percent(share.change_pct, language),
                    "per_download": None if share.cost_per_download is None else
                    per_download_text(share.cost_per_download, cur, language),
                }
            col["total"] = {c: money(amounts.total[c], c, language) for c in (cur, other)}
            col["sponsor"] = {c: money(amounts.sponsor[c], c, language) for c in (cur, other)}
            col["members_total"] = {c: money(_less(amounts.total[c], amounts.sponsor[c]), c,
                                             language) for c in (cur, other)}
            col["notes"] = [n.text(_, language) for n in allocation.notes]
        cols.append(col)
    return cols


def _less(total: int | None, sponsor: int | None) -> int | None:
    return None if total is None else total - (sponsor or 0)


@bp.get("")
@login_required
def what_if() -> ResponseReturnValue:
    language = lang()
    scope = scope_code()
    today = dt.date.today()
    form = read_what_if(request.args, language, today)
    session = services.session()
    packages = shared_packages(session, form.year)
    if not form.package and packages:
        form.package = packages[0][0]
    context: dict[str, Any] = {
        "form": form, "scope": scope, "packages": packages, "kinds": KINDS, "slots": SLOTS,
        "costs": _costs(form.package, form.year) if form.package else [],
        "rate": rate(session, form.year), "problems": list(form.problems),
        "comparison": None, "columns": [], "rows": [], "missing": [], "chart": "",
        "adopted": None, "blocking": None, "consortium": scope is None,
        "format_amount": lambda v: format_amount(v, language),
        "least_months": MIN_ANNUALISE_MONTHS,
    }
    status = 400 if form.problems else 200
    if form.package and not form.problems:
        try:
            comparison = compare(session, form.package, form.year,
                                 [p for _s, _k, p in form.policies], currency=form.currency,
                                 institution=scope)
        except PolicyError as exc:
            context["blocking"] = exc.message(_)
        else:
            context.update(_comparison_context(comparison, form, scope, language,
                                               context["rate"]))
    if form.package:
        found = adopted(session, form.package, form.year)
        if found is not None:
            context["adopted"] = _adopted_context(found, scope, language)
    return render_template("admin/cost_sharing.html", **context), status


def _comparison_context(comparison: Comparison, form: WhatIf, scope: str | None,
                        language: str, rate_: Decimal | None) -> dict[str, Any]:
    names = _names([r.code for r in comparison.rows])
    columns = _columns(comparison, form.policies, rate_, language)
    if scope is not None:  # their own line only: no totals, no notes about other members
        for col in columns:
            col.pop("total", None), col.pop("sponsor", None), col.pop("members_total", None)
            col["notes"] = []
    rows = [{"code": r.code, "name": names.get(r.code, r.name), "months": r.months}
            for r in comparison.rows]
    unit = comparison.currency
    series: dict[str, list[float | None]] = {
        str(col["name"]): [col["cells"].get(r["code"], {}).get("value") for r in rows]
        for col in columns}
    chart = member_bars([str(r["name"]) for r in rows], series,
                        title=_("Each member's share under each policy (%(currency)s)",
                                currency=unit), unit=unit, digits=2 if unit == "USD" else 0,
                        lang=language) if rows else ""
    return {"comparison": comparison, "columns": columns, "rows": rows,
            "missing": _missing_inputs(comparison, scope),
            "other": other_currency(comparison.currency),
            # member_bars escapes every text it draws: the one place a string is marked safe
            "chart": Markup(chart) if chart else "",  # noqa: S704
            "back": _what_if_url(form)}


def _adopted_context(found: Adopted, scope: str | None, language: str) -> dict[str, Any]:
    codes = [s.code for s in found.allocation.shares if scope is None or s.code == scope]
    names = _names(codes)
    return {"by": found.adopted_by, "at": found.adopted_at, "name": policy_title(found.policy),
            "rule": describe(found.policy, _, language, currency=found.currency,
                             year=found.year),
            "members": [(c, names.get(c, c)) for c in codes]}


# --- adopting a policy ------------------------------------------------------------------------

def _posted_policy() -> tuple[str, int, str | None, Policy | None, list[str]]:
    problems: list[str] = []
    package = request.form.get("package", "").strip().lower()[:100]
    if not CODE_RE.match(package):
        problems.append(_("Package code: lower-case letters, digits, '.', '_' or '-'."))
    year = read_year(request.form.get("year", "")[:10], 0)
    if not year:
        problems.append(_("The year must be between 1990 and 2100."))
    currency = request.form.get("currency", "").strip().upper()[:10] or None
    if currency not in (None, "USD", "VND"):
        problems.append(_("Unknown currency."))
    text = request.form.get("policy", "")
    policy = None
    try:
        if len(text) > MAX_POLICY_JSON:
            raise ValueError("too long")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        policy = Policy.from_dict(data)
    except PolicyError as exc:
        problems.append(exc.message(_))
    except (ValueError, TypeError, KeyError, AttributeError):
        problems.append(_("The policy to adopt could not be read; compare again and use "
                          "its button."))
    return package, year or 0, currency, policy, problems


@bp.post("/adopt")
@consortium_required
def adopt_policy() -> ResponseReturnValue:
    back = safe_next(request.form.get("back"), url_for("admin_usage_sharing.what_if"))
    package, year, currency, policy, problems = _posted_policy()
    if problems or policy is None:
        return _problem_page(problems, 400, back)
    session = services.session()
    language = lang()
    earlier = adopted(session, package, year)
    if not confirmed():
        consequences = [
            _("“%(name)s” becomes the adopted rule for sharing the cost of %(package)s in "
              "%(year)s; each member's statement shows the amount it gives.",
              name=policy_title(policy), package=package, year=year),
            *describe(policy, _, language, currency=currency or "USD", year=year),
            _("The adoption is recorded in the audit log."),
        ]
        if earlier is not None:
            consequences.insert(1, _("It replaces the policy adopted on %(date)s by "
                                     "%(user)s (“%(name)s”).",
                                     date=format_date(earlier.adopted_at, "long"),
                                     user=earlier.adopted_by,
                                     name=policy_title(earlier.policy)))
        return ask(title=_("Adopt this policy?"), consequences=consequences,
                   confirm_label=_("Adopt this policy"), cancel_url=back)
    try:
        done = adopt(session, package, year, policy, current_user(), currency=currency,
                     ip=request_ip() or "")
    except PolicyError as exc:
        session.rollback()
        return _problem_page([exc.message(_)], 409, back)
    session.commit()
    flash(_("Policy adopted for %(package)s in %(year)s: %(total)s %(currency)s shared among "
            "%(n)s members.", package=package, year=year,
            total=money(done.allocation.total, done.currency, language),
            currency=done.currency, n=len(done.allocation.shares)))
    return redirect(back + "#adopted")


# --- statements -------------------------------------------------------------------------------

def _checked_codes(package: str, institution: str) -> None:
    if not (CODE_RE.match(package) and CODE_RE.match(institution)):
        abort(404)


@bp.get("/<package>/<int(min=1990, max=2100):year>/statement/<institution>")
@login_required
def statement(package: str, year: int, institution: str) -> ResponseReturnValue:
    _checked_codes(package, institution)
    scope = scope_code()
    if scope is not None and scope != institution:
        abort(403)
    session = services.session()
    found = adopted(session, package, year)
    share = found.allocation.for_member(institution) if found is not None else None
    if found is None or share is None:
        return render_template("admin/cost_sharing_statement.html", found=None,
                               package=package, year=year), 404
    language = lang()
    rate_ = rate(session, year)
    amounts = both_currencies(found.allocation, rate_)
    cur = found.currency
    other = other_currency(cur)
    inst = session.scalar(select(Institution).where(Institution.code == institution))
    policy = found.policy
    start, end = policy.use_months(year)
    size_word = _("researchers (FTE)") if policy.size_measure == SIZE_FTE else _("students")
    return render_template(
        "admin/cost_sharing_statement.html", found=found, share=share, package=package,
        package_name=_package_name(package), year=year, cur=cur, other=other,
        member=institution_name(inst) if inst is not None else share.name,
        rule=describe(policy, _, language, currency=cur, year=year),
        policy_name=policy_title(policy),
        amount={c: money(amounts.of(institution, c), c, language) for c in (cur, other)},
        machine={c: "" if amounts.of(institution, c) is None else
                 str(from_minor(amounts.of(institution, c) or 0, c)) for c in (cur, other)},
        last={c: money(amounts.last[institution][c], c, language) for c in (cur, other)},
        total={c: money(amounts.total[c], c, language) for c in (cur, other)},
        sponsor={c: money(amounts.sponsor[c], c, language) for c in (cur, other)},
        rate=None if rate_ is None else format_amount(rate_, language),
        use_period=f"{start:%m/%Y}–{end:%m/%Y}", measure=measure_label(policy.measure, _),
        size_word=size_word,
        number=lambda v: "—" if v is None else str(format_decimal(v, format="#,##0.##",
                                                                  locale=language)),
        per_download=None if share.cost_per_download is None else
        per_download_text(share.cost_per_download, cur, language),
        change_pct=None if share.change_pct is None else percent(share.change_pct, language),
        notes=[n.text(_, language) for n in found.allocation.notes
               if n.member in (None, institution)],
        adopted_on=format_date(found.adopted_at, "long"),
        printed_on=format_date(dt.date.today(), "long"))


# --- the accounts' exports ------------------------------------------------------------------

def _export_headers() -> list[str]:
    return [_("Code"), _("Member"), _("Months entitled"), _("Use"), _("Size"),
            _("Last year (VND)"), _("Last year (USD)"), _("Amount (VND)"), _("Amount (USD)"),
            _("Change from last year")]


@bp.get("/<package>/<int(min=1990, max=2100):year>/shares.<fmt>")
@consortium_required
def export(package: str, year: int, fmt: str) -> ResponseReturnValue:
    if fmt not in ("csv", "xlsx") or not CODE_RE.match(package):
        abort(404)
    session = services.session()
    found = adopted(session, package, year)
    if found is None:
        abort(404)
    codes = [s.code for s in found.allocation.shares]
    sheet = export_sheet(found.allocation, rate(session, year),
                         title=_("Cost sharing %(package)s %(year)s", package=package,
                                 year=year),
                         headers=_export_headers(), names=_names(codes))
    name = f"lienhop-cost-sharing-{package}-{year}.{fmt}"
    if fmt == "csv":
        return Response(csv_export(sheet), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(xlsx_export(sheet), mimetype="application/vnd.openxmlformats-"
                    "officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- inputs: exchange rates and sizes ---------------------------------------------------------

def _whole(text: str, label: str, language: str, problems: list[str]) -> int | None:
    text = text.strip()[:40]
    if not text:
        return None
    try:
        value = read_amount(text, language)
    except AmountError:
        value = Decimal("-1")
    if value < 0 or value != value.to_integral_value():
        problems.append(_("%(field)s: “%(value)s” is not a whole number.", field=label,
                          value=text))
        return None
    return int(value)


def _save_rate(year: int, language: str) -> list[str]:
    text = request.form.get("rate", "").strip()[:40]
    try:
        value = read_amount(text, language)
    except AmountError:
        return [_("Exchange rate: “%(value)s” is not an amount of VND per USD (write it like "
                  "%(example)s).", value=text,
                  example=format_amount(Decimal(25400), language))]
    user = current_user()
    session = services.session()
    try:
        saved = set_rate(session, year, value, recorded_by=user.username if user else "")
    except PolicyError as exc:
        return [exc.message(_)]
    audit_here("usage.rate_set", f"rate:{year}", {"year": year, "vnd_per_usd": str(saved)})
    session.commit()
    flash(_("Exchange rate saved for %(year)s: 1 USD = %(rate)s VND.", year=year,
            rate=format_amount(saved, language)))
    return []


def _save_size(year: int, language: str) -> list[str]:
    problems: list[str] = []
    code = request.form.get("institution", "").strip()[:100]
    if code not in {c for c, _n in institution_choices()}:
        problems.append(_("Choose one of your institutions."))
    students = _whole(request.form.get("students", ""), _("Students"), language, problems)
    fte = _whole(request.form.get("fte", ""), _("Researchers (FTE)"), language, problems)
    if students is None and fte is None and not problems:
        problems.append(_("Enter the number of students, of researchers (FTE), or both."))
    if problems:
        return problems
    user = current_user()
    session = services.session()
    try:
        set_size(session, code, year, students=students, fte=fte,
                 recorded_by=user.username if user else "")
    except PolicyError as exc:
        return [exc.message(_)]
    inst_id = session.scalar(select(Institution.id).where(Institution.code == code))
    audit_here("usage.size_set", f"size:{code}/{year}",
               {"institution": code, "year": year, "students": students, "fte": fte},
               institution_id=inst_id)
    session.commit()
    flash(_("Size saved for %(institution)s in %(year)s.", institution=code, year=year))
    return []


@bp.route("/inputs", methods=["GET", "POST"])
@consortium_required
def inputs() -> ResponseReturnValue:
    language = lang()
    today = dt.date.today()
    source = request.form if request.method == "POST" else request.args
    year = read_year(source.get("year", "")[:10], today.year)
    problems: list[str] = []
    if year is None:
        problems.append(_("The year must be between 1990 and 2100."))
    elif request.method == "POST":
        what = request.form.get("what")
        if what == "rate":
            problems = _save_rate(year, language)
        elif what == "size":
            problems = _save_size(year, language)
        else:
            problems = [_("Nothing to save: use one of the forms.")]
        if not problems:
            return redirect(url_for("admin_usage_sharing.inputs", year=year))
    shown = year or today.year
    session = services.session()
    students, fte = sizes(session, shown, "students"), sizes(session, shown, "fte")
    choices = institution_choices()
    return render_template(
        "admin/cost_sharing_inputs.html", year=shown, problems=problems, form=request.form,
        rates=[(y, rate(session, y)) for y in (shown - 1, shown)],
        money=lambda v: format_amount(v, language), institutions=choices,
        whole=lambda v: str(format_decimal(v, locale=language)),
        sizes=[(c, n, students.get(c), fte.get(c)) for c, n in choices],
        rate_example=format_amount(Decimal(25400), language)), (400 if problems else 200)
