"""``/admin/institutions``: the registry (institutions, IP ranges, repositories) by form.

Every change goes through the same validator as ``lienhop registry import``: the whole
registry is exported, the form's change applied to it, and the result parsed again, so a
range overlapping another institution's is refused here exactly as in a TOML file.
Consortium administrators do everything; an institution administrator keeps the ranges and
repositories of their own institution only.

Campus ranges decide whose entitlements and proxy a user gets, so an institution
administrator's new range waits (``pending_ip_range``) until a consortium administrator
approves it, and may be no wider than :data:`resolver.registry.ranges.INSTITUTION_ADMIN_RULE`.
Removing a range takes effect at once: giving addresses up claims nobody's.
"""

from __future__ import annotations

import copy
import ipaddress
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
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from index import IndexLocked
from resolver.accounts.auth import institution_scope, is_consortium
from resolver.harvesting.queue import active_job
from resolver.harvesting.removal import remove_repository_records
from resolver.registry.models import STATUSES, Institution, PendingIpRange, Repository
from resolver.registry.ranges import (
    CONSORTIUM_RULE,
    INSTITUTION_ADMIN_RULE,
    Network,
    RangeRule,
    overlapping_pairs,
    special_block,
)
from resolver.registry.schedule import ScheduleError, parse_schedule
from resolver.registry.toml_file import oai_url_problem
from resolver.views.admin.auth import (
    audit,
    consortium_required,
    current_user,
    login_required,
    require_institution,
)
from resolver.views.admin.common import (
    apply_doc,
    check_doc,
    find_item,
    jsonable,
    registry_doc,
    safe_next,
)
from resolver.views.admin.confirm import Alternative, ask, confirmed
from resolver.web import services
from resolver.web.labels import schedule_error_text
from resolver.web.ordering import by_name

bp = Blueprint("admin_registry", __name__, url_prefix="/admin")


def _institution_or_404(code: str) -> Institution:
    inst = services.session().scalar(
        select(Institution).options(selectinload(Institution.ip_ranges),
                                    selectinload(Institution.repositories))
        .where(Institution.code == code))
    if inst is None:
        abort(404)
    return inst


def _save(doc: list[dict[str, Any]], action: str, obj: str, code: str,
          before: dict[str, Any] | None, extra: dict[str, Any] | None = None) -> list[str]:
    """Validate and apply ``doc``; audit and commit on success, roll back on problems."""
    session = services.session()
    problems = apply_doc(session, doc)
    if problems:
        session.rollback()
        return problems
    inst_id = session.scalar(select(Institution.id).where(Institution.code == code))
    audit(action, obj, {**(extra or {}), "before": jsonable(before),
                        "after": jsonable(find_item(doc, code))},
          institution_id=inst_id)
    session.commit()
    return []


def _pending(institution_id: int | None = None) -> list[PendingIpRange]:
    query = (select(PendingIpRange).options(selectinload(PendingIpRange.institution))
             .order_by(PendingIpRange.requested_at, PendingIpRange.id))
    if institution_id is not None:
        query = query.where(PendingIpRange.institution_id == institution_id)
    return list(services.session().scalars(query))


# --- institutions --------------------------------------------------------------------------

@bp.get("/institutions")
@login_required
def institutions() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = select(Institution).options(selectinload(Institution.ip_ranges),
                                        selectinload(Institution.repositories))
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(Institution.id == scope)
    counts = select(PendingIpRange.institution_id, func.count()).group_by(
        PendingIpRange.institution_id)
    if scope is not None:
        counts = counts.where(PendingIpRange.institution_id == scope)
    pending = dict(services.session().execute(counts).all())
    return render_template("admin/institutions.html",
                           # in Vietnamese order of the name the table leads with
                           institutions=by_name(services.session().scalars(query),
                                                lambda i: i.name_vi),
                           pending=pending, pending_total=sum(pending.values()))


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
def institution_new() -> ResponseReturnValue:
    problems: list[str] = []
    if request.method == "POST":
        code = request.form.get("code", "").strip()
        doc = registry_doc(services.session())
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
                        section: str = "") -> ResponseReturnValue:
    status = 422 if problems else 200
    consortium = is_consortium(current_user())
    return render_template("admin/institution.html", inst=inst, problems=problems or [],
                           section=section, form=_form_values(inst), statuses=STATUSES,
                           can_edit_details=consortium, can_approve=consortium,
                           pending=_pending(inst.id),
                           rule=CONSORTIUM_RULE if consortium else INSTITUTION_ADMIN_RULE), status


@bp.get("/institutions/<code>")
@login_required
def institution(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    require_institution(inst.id)
    return _render_institution(inst)


def _editable(code: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The whole registry document, this institution's entry in it, and a copy for the audit.

    Edits go through the registry document so that the TOML import's validation (overlapping
    ranges, schedules...) judges them too.
    """
    doc = registry_doc(services.session())
    item = find_item(doc, code)
    assert item is not None  # the caller checked the institution exists
    return doc, item, copy.deepcopy(item)


@bp.post("/institutions/<code>")
@consortium_required
def institution_save(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    doc, item, before = _editable(code)
    _apply_institution_form(item, request.form)
    problems = _save(doc, "institution.update", f"institution:{code}", code, before)
    if problems:
        return _render_institution(_institution_or_404(code), problems, "details")
    flash(_("Institution %(code)s saved.", code=code))
    return redirect(url_for("admin_registry.institution", code=inst.code))


def _rule_problems(texts: list[str], rule: RangeRule) -> list[str]:
    """What the entering administrator may not claim among ``texts``, in their language.

    Syntax is left to the registry validator, which names it the same way everywhere.
    """
    problems = []
    proxies = current_app.config["LIENHOP"].trusted_proxies
    for text in texts:
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError:
            continue
        hit = special_block(net)
        floor = rule.floor(net.version)
        proxy = next((p for p in proxies if p.version == net.version and p.overlaps(net)), None)
        if hit is not None:
            problems.append(_("%(cidr)s overlaps %(block)s: loopback, link-local, multicast and "
                              "reserved addresses cannot be a campus range.",
                              cidr=str(net), block=str(hit[0])))
        elif net.prefixlen < floor and rule is INSTITUTION_ADMIN_RULE:
            problems.append(_("%(cidr)s is too wide: institution administrators may enter IPv4 "
                              "ranges up to /%(v4)s and IPv6 ranges up to /%(v6)s. Ask the "
                              "consortium for a wider range.", cidr=str(net),
                              v4=rule.min_prefix_v4, v6=rule.min_prefix_v6))
        elif net.prefixlen < floor:
            problems.append(_("%(cidr)s is too wide: no campus range may be wider than "
                              "/%(floor)s.", cidr=str(net), floor=floor))
        elif proxy is not None:
            # Requests relayed without X-Forwarded-For carry the proxy's own address: a
            # range holding it would claim them all.
            problems.append(_("%(cidr)s holds %(proxy)s, a reverse proxy of this site "
                              "(LIENHOP_TRUSTED_PROXIES), not a campus.",
                              cidr=str(net), proxy=str(proxy)))
    return problems


def _request_ranges(inst: Institution, doc: list[dict[str, Any]], item: dict[str, Any],
                    new: list[str]) -> list[str]:
    """Store ``new`` as waiting for approval, after the checks an approval will make.

    Checked now, with this institution's waiting ranges counted, so that a request the
    consortium cannot approve is refused while its author is still on the page.
    """
    session = services.session()
    waiting = _pending()
    mine = [p.cidr for p in waiting if p.institution_id == inst.id]
    in_force = list(item.get("ip_ranges", []))
    item["ip_ranges"] = in_force + mine + new
    problems = check_doc(session, doc)
    if problems:
        return problems
    nets: list[Network] = [ipaddress.ip_network(p.cidr) for p in waiting]
    nets += [ipaddress.ip_network(c) for c in new]
    for later, earlier in overlapping_pairs(nets):
        if later >= len(waiting) > earlier and waiting[earlier].institution_id != inst.id:
            problems.append(_("%(cidr)s overlaps %(other)s, which institution %(code)s is "
                              "waiting to have approved.", cidr=str(nets[later]),
                              other=waiting[earlier].cidr, code=waiting[earlier].institution.code))
    if problems:
        return problems
    user = current_user()
    cidrs = [str(ipaddress.ip_network(c)) for c in new]
    for cidr in cidrs:
        session.add(PendingIpRange(institution_id=inst.id, cidr=cidr,
                                   requested_by=user.username if user else ""))
    audit("ip_range.add", f"institution:{inst.code}",
          {"waiting_for_approval": cidrs, "in_force": in_force},
          institution_id=inst.id)
    try:
        session.commit()
    except IntegrityError:  # the same range asked for at the same moment by someone else
        session.rollback()
        return [_("One of these ranges was just entered by someone else; reload the page.")]
    return []


@bp.post("/institutions/<code>/ranges")
@login_required
def range_add(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    require_institution(inst.id)
    consortium = is_consortium(current_user())
    new = [r for r in re.split(r"[\s,]+", request.form.get("cidr", "")) if r]
    if not new:
        return _render_institution(inst, [_("Type an IP range, such as 203.0.113.0/24.")],
                                   "ranges")
    problems = _rule_problems(new, CONSORTIUM_RULE if consortium else INSTITUTION_ADMIN_RULE)
    if problems:
        return _render_institution(inst, problems, "ranges")
    doc, item, before = _editable(code)
    if consortium:  # in force at once: the consortium is who approves
        item["ip_ranges"] = list(item.get("ip_ranges", [])) + new
        problems = _save(doc, "ip_range.add", f"institution:{code}", code, before)
    else:
        problems = _request_ranges(inst, doc, item, new)
    if problems:
        services.session().rollback()
        return _render_institution(_institution_or_404(code), problems, "ranges")
    flash(_("IP range added.") if consortium else
          _("IP range saved. It takes effect once a consortium administrator approves it."))
    return redirect(url_for("admin_registry.institution", code=code) + "#ranges")


def _pending_or_404(inst: Institution, cidr: str) -> PendingIpRange:
    pending = services.session().scalar(select(PendingIpRange).where(
        PendingIpRange.institution_id == inst.id, PendingIpRange.cidr == cidr))
    if pending is None:
        abort(404)
    return pending


def _request_details(pending: PendingIpRange) -> dict[str, Any]:
    return {"cidr": pending.cidr, "requested_by": pending.requested_by,
            "requested_at": pending.requested_at.isoformat(timespec="seconds")}


def _back_url(code: str) -> str:
    default = url_for("admin_registry.institution", code=code) + "#ranges"
    return safe_next(request.form.get("next"), default)


def _back_to(code: str) -> ResponseReturnValue:
    return redirect(_back_url(code))


@bp.get("/ranges/pending")
@consortium_required
def pending_ranges() -> ResponseReturnValue:
    return render_template("admin/pending_ranges.html", pending=_pending())


@bp.post("/institutions/<code>/ranges/approve")
@consortium_required
def range_approve(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    pending = _pending_or_404(inst, request.form.get("cidr", ""))
    details = _request_details(pending)
    doc, item, before = _editable(code)
    item["ip_ranges"] = list(item.get("ip_ranges", [])) + [pending.cidr]
    # applying the registry removes the request (apply_registry: granted, no longer waiting)
    problems = _save(doc, "range.approve", f"institution:{code}", code, before, details)
    if problems:
        return _render_institution(_institution_or_404(code), problems, "ranges")
    flash(_("IP range %(cidr)s approved: it is in force now.", cidr=details["cidr"]))
    return _back_to(code)


@bp.post("/institutions/<code>/ranges/reject")
@consortium_required
def range_reject(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    pending = _pending_or_404(inst, request.form.get("cidr", ""))
    details = _request_details(pending)
    if not confirmed():
        return ask(
            title=_("Reject the IP range %(cidr)s?", cidr=pending.cidr),
            consequences=[
                _("The request of %(name)s for %(cidr)s is deleted: the range does not "
                  "identify %(code)s.", name=pending.requested_by, cidr=pending.cidr,
                  code=code),
                _("The rejection is recorded in the audit log; the institution's "
                  "administrator can enter the range again."),
            ],
            confirm_label=_("Reject %(cidr)s", cidr=pending.cidr),
            cancel_url=_back_url(code))
    services.session().delete(pending)
    audit("range.reject", f"institution:{code}", details, institution_id=inst.id)
    services.session().commit()
    flash(_("IP range %(cidr)s rejected.", cidr=details["cidr"]))
    return _back_to(code)


@bp.post("/institutions/<code>/ranges/delete")
@login_required
def range_delete(code: str) -> ResponseReturnValue:
    inst = _institution_or_404(code)
    require_institution(inst.id)
    doc, item, before = _editable(code)
    cidr = request.form.get("cidr", "")
    in_force = cidr in item.get("ip_ranges", [])
    pending = None if in_force else _pending_or_404(inst, cidr)
    if not confirmed():
        if in_force:
            return ask(
                title=_("Remove the IP range %(cidr)s?", cidr=cidr),
                consequences=[
                    _("Addresses in %(cidr)s no longer identify %(code)s, at once: people "
                      "there no longer get its entitlements and its proxy links.",
                      cidr=cidr, code=code),
                    _("The removal is recorded in the audit log; adding the range back "
                      "may need a consortium administrator's approval."),
                ],
                confirm_label=_("Remove %(cidr)s", cidr=cidr),
                cancel_url=_back_url(code))
        return ask(
            title=_("Withdraw the request for %(cidr)s?", cidr=cidr),
            consequences=[_("The range is no longer waiting for approval; nothing else "
                            "changes.")],
            confirm_label=_("Withdraw %(cidr)s", cidr=cidr),
            cancel_url=_back_url(code))
    if pending is not None:
        audit("ip_range.withdraw", f"institution:{code}", _request_details(pending),
              institution_id=inst.id)
        services.session().delete(pending)
        services.session().commit()
        flash(_("IP range withdrawn."))
        return redirect(url_for("admin_registry.institution", code=code) + "#ranges")
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
    try:
        parse_schedule(schedule)
    except ScheduleError as exc:
        problems.append(_("Schedule: %(why)s", why=schedule_error_text(exc)))
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
def repository_new(code: str) -> ResponseReturnValue:
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
    repo = services.session().scalar(select(Repository).options(
        selectinload(Repository.institution)).where(Repository.code == rcode))
    if repo is None:
        abort(404)
    require_institution(repo.institution_id)
    doc = registry_doc(services.session())
    item = find_item(doc, repo.institution.code)
    assert item is not None
    return repo, doc, item


@bp.route("/repositories/<rcode>/edit", methods=["GET", "POST"])
@login_required
def repository_edit(rcode: str) -> ResponseReturnValue:
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


def _ask_repository_delete(repo: Repository) -> ResponseReturnValue:
    from resolver.views.admin.jobs import records_held

    held = records_held(repo.code)
    records = _("Its records (%(num)s) are removed from search (and from the counts on the "
                "home page), and lienhop's OAI-PMH provider announces them as deleted to "
                "those who harvest lienhop.", num="?" if held is None else held)
    disable = Alternative(
        explanation=_("To keep its records searchable instead, disable the repository: it "
                      "is no longer harvested, and its records stay in search and in the "
                      "OAI-PMH provider as they are."),
        label=_("Keep the records: only stop harvesting %(code)s", code=repo.code),
        action=url_for("admin_registry.repository_disable", rcode=repo.code))
    return ask(
        title=_("Remove the repository %(code)s?", code=repo.code),
        consequences=[
            _("%(code)s leaves the registry: it is no longer harvested, and its harvest "
              "history and jobs are deleted.", code=repo.code),
            records,
            _("The removal is recorded in the audit log. Adding the repository back and "
              "harvesting it brings its records back."),
        ],
        confirm_label=_("Remove %(code)s and its records", code=repo.code),
        cancel_url=url_for("admin_registry.repository_edit", rcode=repo.code),
        alternatives=[disable] if repo.enabled else [])


@bp.post("/repositories/<rcode>/delete")
@login_required
def repository_delete(rcode: str) -> ResponseReturnValue:
    repo, doc, item = _repo_and_item(rcode)
    inst_code = repo.institution.code
    running = active_job(services.session(), repo.id)
    if running is not None:  # its worker would write the records back, into a gone row
        flash(_("A harvest of %(code)s is queued or running: cancel it or let it end, then "
                "remove the repository.", code=rcode), "error")
        return redirect(url_for("admin_jobs.job", job_id=running.id))
    if not confirmed():
        return _ask_repository_delete(repo)
    before = copy.deepcopy(item)
    item["repository"] = [r for r in item.get("repository", []) if r["code"] != rcode]
    if not item["repository"]:
        del item["repository"]
    session = services.session()
    problems = check_doc(session, doc)
    if problems:
        return _render_institution(_institution_or_404(inst_code), problems, "repositories")
    # The records go first: if the index stays busy, nothing else has changed yet.
    settings = current_app.config["LIENHOP"]
    try:
        removed = remove_repository_records(settings, services.sessions(), rcode)
    except IndexLocked:
        flash(_("The search index is busy (a harvest is writing to it); nothing was removed. "
                "Try again in a minute."), "error")
        return redirect(url_for("admin_registry.repository_edit", rcode=rcode))
    problems = _save(doc, "repository.delete", f"repository:{rcode}", inst_code, before,
                     {"records_removed": removed})
    if problems:
        return _render_institution(_institution_or_404(inst_code), problems, "repositories")
    flash(_("Repository %(code)s removed; records removed from search: %(num)s.",
            code=rcode, num=removed))
    return redirect(url_for("admin_registry.institution", code=inst_code) + "#repositories")


@bp.post("/repositories/<rcode>/disable")
@login_required
def repository_disable(rcode: str) -> ResponseReturnValue:
    """Stop harvesting a repository and keep its records (the way out of removing it)."""
    repo, doc, item = _repo_and_item(rcode)
    before = copy.deepcopy(item)
    for entry in item.get("repository", []):
        if entry["code"] == rcode:
            entry["enabled"] = False
    problems = _save(doc, "repository.update", f"repository:{rcode}", repo.institution.code,
                     before)
    if problems:
        return _render_institution(_institution_or_404(repo.institution.code), problems,
                                   "repositories")
    flash(_("Repository %(code)s disabled: it is no longer harvested; its records stay.",
            code=rcode))
    return redirect(url_for("admin_registry.repository_edit", rcode=rcode))
