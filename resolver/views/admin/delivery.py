"""``/admin/delivery``: the document-delivery queue the administrators work through.

Requests arrive from the resolver's delivery form (:mod:`resolver.views.resolve`) as
``new``; an administrator moves them to ``in progress``, then ``delivered`` or ``refused``,
each move audit-logged. Each request page offers the e-mail to the requester ready to copy,
in Vietnamese and in English whatever the page's language (the requester chose neither),
prefilled from the citation, the requester and the request's status. Institution
administrators see the requests made from their own institution only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from resolver.linking.models import DELIVERY_STATUSES, DeliveryRequest
from resolver.registry.models import Institution
from resolver.views.admin.auth import audit, login_required
from resolver.views.admin.common import scope_code
from resolver.web import services

bp = Blueprint("admin_delivery", __name__, url_prefix="/admin/delivery")

OPEN_STATUSES = ("new", "in progress")
#: Authors named in a citation line before "et al."
MAX_AUTHORS = 3


# --- pure helpers -----------------------------------------------------------------------------

def status_label(status: str) -> str:
    labels = {"new": _("new"), "in progress": _("in progress"), "delivered": _("delivered"),
              "refused": _("refused")}
    return str(labels.get(status, status))


def cite(c: Mapping[str, Any]) -> str:
    """One line naming the document: authors. Article. Journal vol(issue): pages, year. Ids."""
    parts: list[str] = []
    authors = list(c.get("authors") or [])
    if not authors and c.get("aulast"):
        authors = [", ".join(x for x in (c.get("aulast"), c.get("aufirst")) if x)]
    if authors:
        more = " et al." if len(authors) > MAX_AUTHORS else ""
        parts.append("; ".join(authors[:MAX_AUTHORS]) + more)
    if c.get("atitle"):
        parts.append(str(c["atitle"]))
    container = c.get("jtitle") or c.get("btitle") or c.get("title")
    if container and container != c.get("atitle"):
        where = str(container)
        if c.get("volume"):
            where += f" {c['volume']}"
        if c.get("issue"):
            where += f"({c['issue']})"
        pages = c.get("pages") or "-".join(str(c[k]) for k in ("spage", "epage") if c.get(k))
        if pages:
            where += f": {pages}"
        parts.append(where)
    if c.get("year") or c.get("date"):
        parts.append(str(c.get("year") or c.get("date")))
    ids = [f"{label} {c[key]}" for key, label in (("doi", "DOI"), ("issn", "ISSN"),
                                                    ("eissn", "eISSN"), ("isbn", "ISBN"))
           if c.get(key)]
    line = ". ".join(p.rstrip(".") for p in parts)
    return f"{line}. {', '.join(ids)}" if ids else line


def email_text(req: DeliveryRequest, language: str, library: str) -> tuple[str, str]:
    """(subject, body) of the e-mail to the requester, in ``language`` (``vi`` or ``en``)."""
    with force_locale(language):
        subject = _("Your document delivery request no. %(number)s", number=req.id)
        if req.status == "delivered":
            news = _("The document you asked for is attached to this message. It is for your "
                     "personal study and research only.")
        elif req.status == "refused":
            news = _("We are sorry: we could not obtain the document below. Ask your library "
                     "about other ways to reach it.")
        else:
            news = _("We have received your request for the document below and are looking "
                     "for a copy. We will write to you again as soon as we have it.")
        lines = [_("Dear %(name)s,", name=req.requester_name), "", news, "",
                 _("Document: %(citation)s", citation=cite(req.citation or {}))]
        if req.note:
            lines.append(_("Your note: %(note)s", note=req.note))
        lines += ["", _("Best regards,"), library or _("Your library")]
    return subject, "\n".join(lines)


# --- pages ------------------------------------------------------------------------------------

def _scoped(query: Any, only: str | None) -> Any:
    return query if only is None else query.where(DeliveryRequest.institution == only)


@bp.get("")
@login_required
def queue() -> ResponseReturnValue:
    only = scope_code()
    status = request.args.get("status", "open")
    if status not in (*DELIVERY_STATUSES, "open", "all"):
        abort(400)
    query = _scoped(select(DeliveryRequest), only)
    if status == "open":
        query = query.where(DeliveryRequest.status.in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(DeliveryRequest.status == status)
    session = services.session()
    rows = session.scalars(query.order_by(DeliveryRequest.created_at, DeliveryRequest.id)
                           .limit(500)).all()
    counts = dict(session.execute(_scoped(
        select(DeliveryRequest.status, func.count()).group_by(DeliveryRequest.status), only)
    ).all())
    return render_template("admin/delivery_queue.html", rows=rows, status=status,
                           counts=counts, statuses=DELIVERY_STATUSES, cite=cite,
                           status_label=status_label)


def _request_or_404(req_id: int) -> DeliveryRequest:
    req = services.session().get(DeliveryRequest, req_id)
    only = scope_code()
    # 404 rather than 403 for another institution's request: its existence is private too
    if req is None or (only is not None and req.institution != only):
        abort(404)
    return req


@bp.get("/<int:req_id>")
@login_required
def detail(req_id: int) -> ResponseReturnValue:
    req = _request_or_404(req_id)
    inst = services.session().scalar(select(Institution).where(
        Institution.code == (req.institution or "")))
    emails = {
        "vi": email_text(req, "vi", inst.name_vi if inst else ""),
        "en": email_text(req, "en", (inst.name_en or inst.name_vi) if inst else ""),
    }
    return render_template("admin/delivery_detail.html", req=req, inst=inst, emails=emails,
                           citation=cite(req.citation or {}), statuses=DELIVERY_STATUSES,
                           status_label=status_label)


@bp.post("/<int:req_id>/status")
@login_required
def set_status(req_id: int) -> ResponseReturnValue:
    req = _request_or_404(req_id)
    new = request.form.get("status", "")
    if new not in DELIVERY_STATUSES:
        abort(400)
    before = req.status
    if new != before:
        session = services.session()
        req.status = new
        inst_id = session.scalar(select(Institution.id).where(
            Institution.code == (req.institution or "")))
        audit("delivery.status", f"delivery:{req.id}", {"before": before, "after": new},
              institution_id=inst_id)
        session.commit()
        flash(_("Request %(number)s is now %(status)s.", number=req.id,
                status=status_label(new)))
    return redirect(url_for("admin_delivery.detail", req_id=req.id))
