"""``/admin/institutions``: the registry (institutions, IP ranges, repositories) by form.

Every change goes through the same validator as ``lienhop registry import``: the whole
registry is exported, the form's change applied to it, and the result parsed again, so a
range overlapping another institution's is refused here exactly as in a TOML file.
Consortium administrators do everything; an institution administrator keeps the ranges and
repositories of their own institution only.
"""

from __future__ import annotations

import copy
import re
from typing import Any

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
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from resolver import store
from resolver.auth import (
    audit,
    consortium_required,
    current_user,
    institution_scope,
    is_consortium,
    login_required,
    require_institution,
)
from resolver.models import STATUSES, Institution, Repository
from resolver.registry import oai_url_problem
from resolver.schedule import schedule_problem
from resolver.views.admin_common import apply_doc, find_item, jsonable, registry_doc

bp = Blueprint("admin_registry", __name__, url_prefix="/admin")


def _institution_or_404(code: str) -> Institution:
    inst = store.session().scalar(
        select(Institution).options(selectinload(Institution.ip_ranges),
                                    selectinload(Institution.repositories))
        .where(Institution.code == code))
    if inst is None:
        abort(404)
    return inst


def _save(doc: list[dict[str, Any]], action: str, obj: str, code: str,
          before: dict[str, Any] | None) -> list[str]:
    """Validate and apply ``doc``; audit and commit on success, roll back on problems."""
    session = store.session()
    problems = apply_doc(session, doc)
    if problems:
        session.rollback()
        return problems
    inst_id = session.scalar(select(Institution.id).where(Institution.code == code))
    audit(action, obj, {"before": jsonable(before), "after": jsonable(find_item(doc, code))},
          institution_id=inst_id)
    session.commit()
    return []


# --- institutions --------------------------------------------------------------------------

@bp.get("/institutions")
@login_required
def institutions():  # type: ignore[no-untyped-def]
    user = current_user()
    assert user is not None
    query = (select(Institution).options(selectinload(Institution.ip_ranges),
                                         selectinload(Institution.repositories))
             .order_by(Institution.code))
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(Institution.id == scope)
    return render_template("admin/institutions.html",
                           institutions=store.session().scalars(query).all())


def _apply_institution_form(item: dict[str, Any], form: Any) -> None:
    item["name_vi"] = form.get("name_vi", "").strip()
    item["status"] = form.get("status", "")
    for key in ("name_en", "since", "website"):
        value = form.get(key, "").strip()
        if value:
            item[key] = value
        else:
            item.pop(key, None)
    contact = {k: form.get(f"contact_{k}", "").strip() for k in ("name", "email", "phone")}
    contact = {k: v for k, v in contact.items() if v}
    if contact:
        item["contact"] = contact
    else:
        item.pop("contact", None)


def _form_values(inst: Institution | None) -> dict[str, Any]:
    if request.method == "POST":
        return request.form
    if inst is None:
        return {"status": "observer"}
    return {"code": inst.code, "name_vi": inst.name_vi, "name_en": inst.name_en,
            "status": inst.status, "since": inst.since.isoformat() if inst.since else "",
            "website": inst.website, "contact_name": inst.contact_name,
            "contact_email": inst.contact_email, "contact_phone": inst.contact_phone}


@bp.route("/institutions/new", methods=["GET", "POST"])
@consortium_required
def institution_new():  # type: ignore[no-untyped-def]
    problems: list[str] = []
    if request.method == "POST":
        code = request.form.get("code", "").strip()
        doc = registry_doc(store.session())
        if find_item(doc, code) is not None:
            problems = [_("There is already an institution with this code.")]
        else:
            item: dict[str, Any] = {"code": code, "ip_ranges": []}
            _apply_institution_form(item, request.form)
            doc.append(item)
            problems = _save(doc, "institution.create", f"institution:{code}", code, None)
        if not problems:
            flash(_("Institution %(code)s created.", code=code))
            return redirect(url_for("admin_registry.institution", code=code))
    return render_template("admin/institution_new.html", problems=problems,
                           form=_form_values(None), statuses=STATUSES), \
        (422 if problems else 200)


def _render_institution(inst: Institution, problems: list[str] | None = None,
                        section: str = "") -> Any:
    status = 422 if problems else 200
    return render_template("admin/institution.html", inst=inst, problems=problems or [],
                           section=section, form=_form_values(inst), statuses=STATUSES,
                           can_edit_details=is_consortium(current_user())), status


@bp.get("/institutions/<code>")
@login_required
def institution(code: str):  # type: ignore[no-untyped-def]
    inst = _institution_or_404(code)
    require_institution(inst.id)
    return _render_institution(inst)


def _editable(code: str) -> tuple[dict, dict, dict]:
    """The whole registry document, this institution's entry in it, and a copy for the audit.

    Edits go through the registry document so that the TOML import's validation (overlapping
    ranges, schedules...) judges them too.
    """
    doc = registry_doc(store.session())
    item = find_item(doc, code)
    assert item is not None  # the caller checked the institution exists
    return doc, item, copy.deepcopy(item)


@bp.post("/institutions/<code>")
@consortium_required
def institution_save(code: str):  # type: ignore[no-untyped-def]
    inst = _institution_or_404(code)
    doc, item, before = _editable(code)
    _apply_institution_form(item, request.form)
    problems = _save(doc, "institution.update", f"institution:{code}", code, before)
    if problems:
        return _render_institution(_institution_or_404(code), problems, "details")
    flash(_("Institution %(code)s saved.", code=code))
    return redirect(url_for("admin_registry.institution", code=inst.code))


@bp.post("/institutions/<code>/ranges")
@login_required
def range_add(code: str):  # type: ignore[no-untyped-def]
    inst = _institution_or_404(code)
    require_institution(inst.id)
    doc, item, before = _editable(code)
    new = [r for r in re.split(r"[\s,]+", request.form.get("cidr", "")) if r]
    if not new:
        return _render_institution(inst, [_("Type an IP range, such as 203.0.113.0/24.")],
                                   "ranges")
    item["ip_ranges"] = list(item.get("ip_ranges", [])) + new
    problems = _save(doc, "ip_range.add", f"institution:{code}", code, before)
    if problems:
        return _render_institution(_institution_or_404(code), problems, "ranges")
    flash(_("IP range added."))
    return redirect(url_for("admin_registry.institution", code=code) + "#ranges")


@bp.post("/institutions/<code>/ranges/delete")
@login_required
def range_delete(code: str):  # type: ignore[no-untyped-def]
    inst = _institution_or_404(code)
    require_institution(inst.id)
    doc, item, before = _editable(code)
    cidr = request.form.get("cidr", "")
    if cidr not in item.get("ip_ranges", []):
        abort(404)
    item["ip_ranges"] = [r for r in item["ip_ranges"] if r != cidr]
    problems = _save(doc, "ip_range.delete", f"institution:{code}", code, before)
    if problems:
        return _render_institution(_institution_or_404(code), problems, "ranges")
    flash(_("IP range removed."))
    return redirect(url_for("admin_registry.institution", code=code) + "#ranges")


# --- repositories -----------------------------------------------------------------------------

def _repository_item(form: Any, code: str) -> tuple[dict[str, Any], list[str]]:
    problems = []
    schedule = form.get("schedule", "daily").strip().lower() or "daily"
    why = schedule_problem(schedule)
    if why:
        problems.append(_("Schedule: %(why)s", why=why))
    oai_url = form.get("oai_url", "").strip()
    # A repository pointing at the app itself or the internal network would let an
    # institution administrator read it through the harvest's errors: refused at entry
    # unless the consortium allowed the network (the harvester checks again when it connects).
    why = oai_url_problem(oai_url, current_app.config["LIENHOP"].harvest_allowed_networks)
    if why:
        problems.append(f"{_('OAI-PMH base URL')}: {why}")
    item: dict[str, Any] = {"code": code}
    for key in ("name", "platform"):
        value = form.get(key, "").strip()
        if value:
            item[key] = value
    item.update(oai_url=oai_url,
                metadata_prefix=form.get("metadata_prefix", "").strip() or "oai_dc",
                sets=[s for s in re.split(r"[\s,]+", form.get("sets", "")) if s],
                schedule=schedule, enabled=form.get("enabled") == "on")
    return item, problems


def _repo_form_values(repo: Repository | None) -> dict[str, Any]:
    if request.method == "POST":
        return request.form
    if repo is None:
        return {"metadata_prefix": "oai_dc", "schedule": "daily", "enabled": "on"}
    return {"code": repo.code, "name": repo.name, "platform": repo.platform,
            "oai_url": repo.oai_url, "metadata_prefix": repo.metadata_prefix,
            "sets": " ".join(repo.sets or []), "schedule": repo.schedule,
            "enabled": "on" if repo.enabled else ""}


@bp.route("/institutions/<code>/repositories/new", methods=["GET", "POST"])
@login_required
def repository_new(code: str):  # type: ignore[no-untyped-def]
    inst = _institution_or_404(code)
    require_institution(inst.id)
    problems: list[str] = []
    if request.method == "POST":
        rcode = request.form.get("code", "").strip()
        doc, item, before = _editable(code)
        repo_item, problems = _repository_item(request.form, rcode)
        if not problems:
            item["repository"] = list(item.get("repository", [])) + [repo_item]
            problems = _save(doc, "repository.create", f"repository:{rcode}", code, before)
        if not problems:
            flash(_("Repository %(code)s created.", code=rcode))
            return redirect(url_for("admin_registry.institution", code=code) + "#repositories")
    return render_template("admin/repository_form.html", inst=inst, repo=None,
                           problems=problems, form=_repo_form_values(None)), \
        (422 if problems else 200)


def _repo_and_item(rcode: str) -> tuple[Repository, list[dict[str, Any]], dict[str, Any]]:
    repo = store.session().scalar(select(Repository).options(
        selectinload(Repository.institution)).where(Repository.code == rcode))
    if repo is None:
        abort(404)
    require_institution(repo.institution_id)
    doc = registry_doc(store.session())
    item = find_item(doc, repo.institution.code)
    assert item is not None
    return repo, doc, item


@bp.route("/repositories/<rcode>/edit", methods=["GET", "POST"])
@login_required
def repository_edit(rcode: str):  # type: ignore[no-untyped-def]
    repo, doc, item = _repo_and_item(rcode)
    inst = repo.institution
    problems: list[str] = []
    if request.method == "POST":
        before = copy.deepcopy(item)
        repo_item, problems = _repository_item(request.form, rcode)
        if not problems:
            item["repository"] = [repo_item if r["code"] == rcode else r
                                  for r in item.get("repository", [])]
            problems = _save(doc, "repository.update", f"repository:{rcode}", inst.code, before)
        if not problems:
            flash(_("Repository %(code)s saved.", code=rcode))
            return redirect(url_for("admin_registry.institution", code=inst.code)
                            + "#repositories")
    return render_template("admin/repository_form.html", inst=inst, repo=repo,
                           problems=problems, form=_repo_form_values(repo)), \
        (422 if problems else 200)


@bp.post("/repositories/<rcode>/delete")
@login_required
def repository_delete(rcode: str):  # type: ignore[no-untyped-def]
    repo, doc, item = _repo_and_item(rcode)
    inst_code = repo.institution.code
    before = copy.deepcopy(item)
    item["repository"] = [r for r in item.get("repository", []) if r["code"] != rcode]
    if not item["repository"]:
        del item["repository"]
    problems = _save(doc, "repository.delete", f"repository:{rcode}", inst_code, before)
    if problems:
        return _render_institution(_institution_or_404(inst_code), problems, "repositories")
    flash(_("Repository %(code)s removed.", code=rcode))
    return redirect(url_for("admin_registry.institution", code=inst_code) + "#repositories")
