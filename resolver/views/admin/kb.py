"""``/admin/kb``: the knowledge base by form: packages, titles and coverage, KBART upload,
entitlements, link templates, resolver settings (proxy prefixes), open platforms, link check.

Changes go through the same functions as ``lienhop kb`` (:mod:`resolver.kb.importer`), so a file or
template refused on the command line is refused here too. An upload that would remove or
change titles of an existing package asks first, saying what changes (``confirm.py``).
Consortium administrators change packages, entitlements and platforms; an institution
administrator sees their own institution's entitlements and keeps its resolver settings
(proxy, catalogue).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any, BinaryIO, cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from resolver.kb.entitlements import entitle
from resolver.kb.errors import KbError
from resolver.kb.importer import REPORT_SAMPLE, ImportReport, import_kbart
from resolver.kb.linkcheck import DEFAULT_SAMPLE, enqueue_link_check
from resolver.kb.linktemplates import validate_template
from resolver.kb.models import PACKAGE_KINDS, Entitlement, KbTitle, LinkCheck, Package
from resolver.registry.codes import CODE_RE
from resolver.registry.models import Institution, OpenPlatform, ResolverSettings
from resolver.views.admin import staged_uploads
from resolver.views.admin.auth import (
    audit,
    consortium_required,
    login_required,
    require_institution,
)
from resolver.views.admin.common import (
    file_name,
    institution_choices,
    scope_code,
    strip_controls,
    ui_lang,
)
from resolver.views.admin.confirm import ask, confirmed
from resolver.web import services
from resolver.web.services import job_queue

bp = Blueprint("admin_kb", __name__, url_prefix="/admin/kb")
log = logging.getLogger("lienhop.admin")

#: Titles shown per page of a package.
PAGE_SIZE = 100
#: Changed/added/removed titles and rejected rows the import report names before
#: summarising (``lienhop kb import`` lists every rejected row).
REPORT_LINES = REPORT_SAMPLE
#: removed titles the replacement's confirmation names
REMOVED_SHOWN = 10
#: the form field carrying the token of a KBART file kept aside for its confirmation
STAGED_FIELD = "staged"


def parse_date(value: str | None) -> tuple[dt.date | None, bool]:
    """A form's YYYY-MM-DD (empty: None); the flag is False when it cannot be read."""
    value = (value or "").strip()
    if not value:
        return None, True
    try:
        return dt.date.fromisoformat(value), True
    except ValueError:
        return None, False


def _institution_or_404(code: str) -> Institution:
    inst = services.session().scalar(select(Institution).where(Institution.code == code))
    if inst is None:
        abort(404)
    return inst


def _package_or_404(code: str) -> Package:
    pkg = services.session().scalar(select(Package).where(Package.code == code))
    if pkg is None:
        abort(404)
    return pkg


# --- packages ----------------------------------------------------------------------------------

@bp.get("/packages")
@consortium_required
def packages() -> ResponseReturnValue:
    session = services.session()
    counts = dict(session.execute(select(KbTitle.package_id, func.count())
                                  .group_by(KbTitle.package_id)).all())
    grants = dict(session.execute(select(Entitlement.package_id, func.count())
                                  .group_by(Entitlement.package_id)).all())
    dead = dict(session.execute(
        select(LinkCheck.package, func.count()).where(or_(
            LinkCheck.status.is_(None), LinkCheck.status >= 400)).group_by(LinkCheck.package)
    ).all())
    rows = session.scalars(select(Package).order_by(Package.code)).all()
    return render_template("admin/kb_packages.html", packages=rows, counts=counts,
                           grants=grants, dead=dead)


def _package_form(pkg: Package) -> dict[str, Any]:
    if request.method == "POST":
        return request.form
    return {"name": pkg.name, "platform": pkg.platform, "kind": pkg.kind,
            "article_template": pkg.article_template, "title_template": pkg.title_template}


def _render_package(pkg: Package, problems: list[str] | None = None) -> ResponseReturnValue:
    session = services.session()
    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = select(KbTitle).where(KbTitle.package_id == pkg.id)
    if q:
        query = query.where(or_(KbTitle.title.ilike(f"%{q}%"), KbTitle.print_id == q,
                                KbTitle.online_id == q))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    titles = session.scalars(query.order_by(KbTitle.row, KbTitle.id)
                             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    grants = session.scalars(select(Entitlement).options(selectinload(Entitlement.institution))
                             .where(Entitlement.package_id == pkg.id)
                             .order_by(Entitlement.start)).all()
    checks = session.scalars(select(LinkCheck).where(LinkCheck.package == pkg.code)
                             .order_by(LinkCheck.id)).all()
    return render_template("admin/kb_package.html", pkg=pkg, titles=titles, total=total,
                           page=page, pages=max(1, -(-total // PAGE_SIZE)), q=q,
                           grants=sorted(grants, key=lambda e: e.institution.code),
                           checks=checks, problems=problems or [], form=_package_form(pkg),
                           kinds=PACKAGE_KINDS, institutions=institution_choices()), \
        (422 if problems else 200)


@bp.get("/packages/<code>")
@consortium_required
def package(code: str) -> ResponseReturnValue:
    return _render_package(_package_or_404(code))


@bp.post("/packages/<code>")
@consortium_required
def package_save(code: str) -> ResponseReturnValue:
    pkg = _package_or_404(code)
    problems = []
    kind = request.form.get("kind", "")
    if kind not in PACKAGE_KINDS:
        problems.append(_("Choose subscription or open."))
    templates = {}
    for key, label in (("article_template", _("Article link template")),
                       ("title_template", _("Title link template"))):
        try:
            templates[key] = validate_template(request.form.get(key, ""), key.replace("_", " "))
        except KbError:
            problems.append(_("%(what)s must start with http(s)://host or {title_url}.",
                              what=label))
    if problems:
        return _render_package(pkg, problems)
    before = _package_form_values(pkg)
    pkg.name = request.form.get("name", "").strip()[:300] or pkg.code
    pkg.platform = request.form.get("platform", "").strip()[:100]
    pkg.kind = kind
    pkg.article_template = templates["article_template"]
    pkg.title_template = templates["title_template"]
    audit("kb.package.update", f"package:{pkg.code}",
          {"before": before, "after": _package_form_values(pkg)})
    services.session().commit()
    flash(_("Package %(code)s saved.", code=pkg.code))
    return redirect(url_for("admin_kb.package", code=pkg.code))


def _package_form_values(pkg: Package) -> dict[str, str]:
    return {"name": pkg.name, "platform": pkg.platform, "kind": pkg.kind,
            "article_template": pkg.article_template, "title_template": pkg.title_template}


# --- KBART upload -------------------------------------------------------------------------------

def upload_size(file: FileStorage | None) -> int:
    """Bytes of an uploaded file, measured without reading it into memory."""
    if file is None:
        return 0
    stream = file.stream
    start = stream.tell()
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    return size


def replaces_titles(report: ImportReport) -> bool:
    """Whether an import takes titles away from an existing package, or changes them: what
    the upload asks to confirm (a new package, or titles only added, destroy nothing)."""
    return not report.created and bool(report.n_removed or report.n_changed)


def _ask_to_replace(report: ImportReport, token: str, source: str) -> ResponseReturnValue:
    """The confirmation of an import that replaces titles: what changes, in numbers and the
    first titles removed."""
    code = report.package
    consequences = [
        _("Package %(code)s: %(added)s titles added, %(changed)s changed and %(removed)s "
          "removed; the resolver offers the new list at once.", code=code,
          added=format_decimal(report.n_added), changed=format_decimal(report.n_changed),
          removed=format_decimal(report.n_removed)),
    ]
    if report.removed:
        sample = "; ".join(t.publication_title for t in report.removed[:REMOVED_SHOWN])
        more = "…" if report.n_removed > REMOVED_SHOWN else ""
        consequences.append(_("Titles removed: %(titles)s%(more)s", titles=sample, more=more))
    if report.rejected:
        consequences.append(_("%(n)s rows of the file are rejected and not imported.",
                              n=format_decimal(len(report.rejected))))
    consequences.append(_("The import is recorded in the audit log; uploading the previous "
                          "file again restores the package."))
    return ask(title=_("Replace the titles of package %(code)s?", code=code),
               consequences=consequences, confirm_label=_("Replace the titles"),
               cancel_url=url_for("admin_kb.upload", package=code),
               fields={STAGED_FIELD: token, "source": source})


@bp.route("/upload", methods=["GET", "POST"])
@consortium_required
def upload() -> ResponseReturnValue:
    problems: list[str] = []
    report = None
    refused: KbError | None = None
    dry_run = False
    lang = ui_lang()
    form: Any = request.form if request.method == "POST" else {
        "code": request.args.get("package", ""), "kind": ""}
    if request.method == "POST":
        home = current_app.config["LIENHOP"].home
        code = request.form.get("code", "").strip().lower()
        kind = request.form.get("kind", "") or None
        dry_run = request.form.get("dry_run") == "on"
        file = request.files.get("file")
        size = upload_size(file)
        # the file kept aside by the confirmation page, when it is what was sent
        token = staged_uploads.valid_token(request.form.get(STAGED_FIELD))
        kept = staged_uploads.open_kept(home, token) if not size and confirmed() else None
        limit_mb = current_app.config["LIENHOP"].max_upload_mb
        if kept is None and token and not size and confirmed():
            problems.append(_("The file waiting for this confirmation is gone (it is kept for "
                              "a day). Upload it again."))
        elif not size and kept is None:
            problems.append(_("Choose a KBART file to upload."))
        elif size > limit_mb * 1024 * 1024:
            problems.append(_("The file is larger than %(size)s MB.", size=f"{limit_mb:g}"))
        if kind is not None and kind not in PACKAGE_KINDS:
            problems.append(_("Choose subscription or open."))
        session = services.session()
        name = ""
        if not problems:
            if kept is not None:
                name = strip_controls(request.form.get("source", "")).strip()[:300] or \
                    "upload.tsv"
                stream = kept
            else:
                assert file is not None
                name = file_name(file, "upload.tsv")
                # Read from the uploaded stream (spooled to disk by Werkzeug): a 200 MB
                # file is never held whole in memory.
                stream = cast(BinaryIO, file.stream)  # werkzeug types it IO[bytes]
            title = strip_controls(request.form.get("name", "")).strip()[:300]
            try:
                with stream:
                    report = import_kbart(session, code, stream, kind=kind, source=name,
                                          name=title or None,
                                          strict=request.form.get("strict") == "on")
                    if (not dry_run and not confirmed() and kept is None
                            and replaces_titles(report)):
                        session.rollback()  # nothing changes before the confirmation
                        return _ask_to_replace(report, staged_uploads.keep(home, stream),
                                               name)
            except KbError as exc:
                session.rollback()
                refused = exc
                problems.append(exc.message_vi if lang == "vi" else str(exc))
        if report is not None:
            if dry_run:
                session.rollback()
            else:
                audit("kb.import", f"package:{code}", {
                    "file": name, "created": report.created, "titles": report.titles,
                    "added": report.n_added, "changed": report.n_changed,
                    "removed": report.n_removed, "rejected": len(report.rejected)})
                session.commit()
                staged_uploads.discard(home, token)
    # A refused file still names its rejected rows (the first REPORT_LINES of them).
    return render_template("admin/kb_upload.html", problems=problems, report=report,
                           refused=refused, dry_run=dry_run, form=form, kinds=PACKAGE_KINDS,
                           lines=REPORT_LINES, lang=lang), (422 if problems else 200)


# --- entitlements -------------------------------------------------------------------------------

@bp.get("/entitlements")
@login_required
def entitlements() -> ResponseReturnValue:
    only = scope_code()
    chosen = request.args.get("institution", "").strip() or None
    if only is not None:
        chosen = only
    query = (select(Entitlement).join(Institution).join(Package)
             .options(selectinload(Entitlement.institution), selectinload(Entitlement.package))
             .order_by(Institution.code, Package.code, Entitlement.start))
    if chosen is not None:
        query = query.where(Institution.code == chosen)
    rows = services.session().scalars(query).all()
    today = dt.date.today()
    return render_template(
        "admin/kb_entitlements.html", rows=rows, today=today, chosen=chosen,
        consortium=only is None, institutions=institution_choices(only),
        packages=services.session().scalars(select(Package.code).order_by(Package.code)).all(),
        form=request.form if request.method == "POST" else {})


def entitlement_state(e: Entitlement, today: dt.date) -> str:
    """``current``, ``future`` or ``ended`` on ``today`` (dates are inclusive)."""
    if e.start is not None and today < e.start:
        return "future"
    if e.end is not None and today > e.end:
        return "ended"
    return "current"


@bp.app_template_filter("entitlement_state")
def _entitlement_state_filter(e: Entitlement, today: dt.date) -> str:
    return entitlement_state(e, today)


@bp.post("/entitlements")
@consortium_required
def entitlement_add() -> ResponseReturnValue:
    package_code = request.form.get("package", "")
    inst_code = request.form.get("institution", "")
    start, ok_start = parse_date(request.form.get("start"))
    end, ok_end = parse_date(request.form.get("end"))
    if not (ok_start and ok_end):
        flash(_("Dates are written YYYY-MM-DD; nothing was changed."), "error")
        return redirect(url_for("admin_kb.entitlements"))
    session = services.session()
    try:
        grant = entitle(session, package_code, inst_code, start, end)
    except KbError as exc:
        session.rollback()
        flash(_("Nothing was changed: %(why)s", why=str(exc)), "error")
        return redirect(url_for("admin_kb.entitlements"))
    assert grant is not None
    audit("kb.entitle", f"entitlement:{inst_code}/{package_code}",
          {"package": package_code, "institution": inst_code,
           "start": start.isoformat() if start else None,
           "end": end.isoformat() if end else None}, institution_id=grant.institution_id)
    session.commit()
    flash(_("%(inst)s has %(package)s.", inst=inst_code, package=package_code))
    return redirect(url_for("admin_kb.entitlements", institution=inst_code))


@bp.post("/entitlements/<int:grant_id>/delete")
@consortium_required
def entitlement_delete(grant_id: int) -> ResponseReturnValue:
    session = services.session()
    grant = session.get(Entitlement, grant_id)
    if grant is None:
        abort(404)
    details = {"package": grant.package.code, "institution": grant.institution.code,
               "start": grant.start.isoformat() if grant.start else None,
               "end": grant.end.isoformat() if grant.end else None}
    inst_id = grant.institution_id
    if not confirmed():
        period = " – ".join(d or "…" for d in (details["start"], details["end"]))
        return ask(
            title=_("Remove the entitlement of %(inst)s to %(package)s?",
                    inst=details["institution"], package=details["package"]),
            consequences=[
                _("%(inst)s's users are no longer offered the full text of %(package)s "
                  "(%(period)s) by the resolver; its other entitlements stay.",
                  inst=details["institution"], package=details["package"], period=period),
                _("The removal is recorded in the audit log; the entitlement can be added "
                  "again on this page."),
            ],
            confirm_label=_("Remove the entitlement"),
            cancel_url=url_for("admin_kb.entitlements", institution=details["institution"]))
    session.delete(grant)
    audit("kb.unentitle", f"entitlement:{details['institution']}/{details['package']}",
          details, institution_id=inst_id)
    session.commit()
    flash(_("Entitlement removed."))
    return redirect(url_for("admin_kb.entitlements", institution=details["institution"]))


# --- resolver settings (proxy prefix, catalogue, redirect default) -------------------------------

def _settings_rows(only: str | None) -> list[tuple[Institution, ResolverSettings | None]]:
    session = services.session()
    query = select(Institution).order_by(Institution.code)
    if only is not None:
        query = query.where(Institution.code == only)
    return [(i, session.get(ResolverSettings, i.id)) for i in session.scalars(query)]


def settings_problems(form: Any) -> list[str]:
    problems = []
    proxy = form.get("proxy_prefix", "").strip()
    try:
        if proxy:
            validate_template(proxy, "proxy prefix")
    except KbError:
        problems.append(_("The proxy prefix must start with http(s)://host."))
    for t in form.get("catalogue_template", "").split():
        try:
            validate_template(t, "catalogue template")
        except KbError:
            problems.append(_("Catalogue template %(t)s must start with http(s)://host.", t=t))
    return problems


@bp.get("/settings")
@login_required
def settings() -> ResponseReturnValue:
    return render_template("admin/kb_settings.html", rows=_settings_rows(scope_code()),
                           problems=[], failed="")


@bp.post("/settings/<code>")
@login_required
def settings_save(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    require_institution(inst.id)
    problems = settings_problems(request.form)
    if problems:
        return render_template("admin/kb_settings.html", rows=_settings_rows(scope_code()),
                               problems=problems, failed=code), 422
    session = services.session()
    row = session.get(ResolverSettings, inst.id)
    before = None
    if row is None:
        row = ResolverSettings(institution_id=inst.id)
        session.add(row)
    else:
        before = _settings_values(row)
    row.proxy_prefix = request.form.get("proxy_prefix", "").strip()[:500]
    row.catalogue_template = " ".join(request.form.get("catalogue_template", "").split())[:2000]
    row.catalogue_name = request.form.get("catalogue_name", "").strip()[:200]
    row.redirect_default = request.form.get("redirect_default") == "on"
    audit("kb.settings", f"institution:{code}",
          {"before": before, "after": _settings_values(row)}, institution_id=inst.id)
    session.commit()
    flash(_("Resolver settings of %(code)s saved.", code=code))
    return redirect(url_for("admin_kb.settings") + f"#inst-{code}")


def _settings_values(row: ResolverSettings) -> dict[str, Any]:
    return {"proxy_prefix": row.proxy_prefix, "catalogue_template": row.catalogue_template,
            "catalogue_name": row.catalogue_name, "redirect_default": row.redirect_default}


# --- open platforms -----------------------------------------------------------------------------

@bp.get("/platforms")
@consortium_required
def platforms() -> ResponseReturnValue:
    rows = services.session().scalars(select(OpenPlatform).order_by(OpenPlatform.position,
                                                                  OpenPlatform.code)).all()
    return render_template("admin/kb_platforms.html", rows=rows, problems=[], form={})


@bp.post("/platforms")
@consortium_required
def platform_save() -> ResponseReturnValue:
    session = services.session()
    form = request.form
    code = form.get("code", "").strip().lower()
    name = form.get("name", "").strip()[:200]
    problems = []
    if not CODE_RE.match(code):
        problems.append(_("Code: lower-case letters, digits, '.', '_' or '-'."))
    if not name:
        problems.append(_("Give the platform a name."))
    try:
        template = validate_template(form.get("url_template", ""), "platform template")
        if not template:
            raise KbError("empty")
    except KbError:
        template = ""
        problems.append(_("The URL template must start with http(s)://host."))
    position = form.get("position", "0").strip()
    if not position.lstrip("-").isdigit():
        problems.append(_("The position is a whole number."))
    if problems:
        rows = session.scalars(select(OpenPlatform).order_by(OpenPlatform.position,
                                                             OpenPlatform.code)).all()
        return render_template("admin/kb_platforms.html", rows=rows, problems=problems,
                               form=form), 422
    row = session.scalar(select(OpenPlatform).where(OpenPlatform.code == code))
    before = None
    if row is None:
        row = OpenPlatform(code=code)
        session.add(row)
    else:
        before = {"name": row.name, "url_template": row.url_template,
                  "position": row.position, "enabled": row.enabled}
    row.name, row.url_template, row.position = name, template, int(position)
    row.enabled = form.get("enabled") == "on"
    audit("kb.platform", f"platform:{code}", {"before": before, "after": {
        "name": name, "url_template": template, "position": int(position),
        "enabled": row.enabled}})
    session.commit()
    flash(_("Platform %(code)s saved.", code=code))
    return redirect(url_for("admin_kb.platforms"))


# --- link check ---------------------------------------------------------------------------------

@bp.get("/linkcheck")
@consortium_required
def linkcheck() -> ResponseReturnValue:
    rows = services.session().scalars(select(LinkCheck).order_by(LinkCheck.package,
                                                              LinkCheck.id)).all()
    return render_template("admin/kb_linkcheck.html", rows=rows,
                           dead=[r for r in rows if not r.ok], sample=DEFAULT_SAMPLE)


@bp.post("/linkcheck")
@consortium_required
def linkcheck_start() -> ResponseReturnValue:
    package_code = request.form.get("package", "").strip() or None
    per_package = request.form.get("per_package", DEFAULT_SAMPLE, type=int) or DEFAULT_SAMPLE
    per_package = max(1, min(per_package, 100))
    packages = [package_code] if package_code else None
    # End this request's read transaction first: with the queue in immediate mode (tests)
    # the check writes from another connection, which SQLite would refuse meanwhile.
    services.session().commit()
    try:
        task_id = enqueue_link_check(job_queue(), packages, per_package)
    except Exception:  # the queue is down (or has no huey): say so, change nothing
        log.exception("cannot enqueue the link check")
        flash(_("The job queue is not reachable; the link check was not started."), "error")
        return redirect(url_for("admin_kb.linkcheck"))
    audit("kb.linkcheck", f"package:{package_code or '*'}",
          {"per_package": per_package, "task": task_id})
    services.session().commit()
    flash(_("Link check queued; results appear here when the worker has run it."))
    return redirect(url_for("admin_kb.linkcheck"))
