"""The home page: one search box, the consortium's members with their holdings, new records."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from resolver.registry.models import Institution
from resolver.web import services
from resolver.web.ordering import institutions_by_name
from resolver.web.services import get_index

bp = Blueprint("home", __name__)

RECENT = 6


@bp.get("/")
def index() -> ResponseReturnValue:
    rows = services.session().scalars(
        select(Institution).options(selectinload(Institution.repositories))).all()
    # members first, then observers; each in Vietnamese order of the name shown
    institutions = sorted(institutions_by_name(rows), key=lambda i: i.status != "member")
    ix = get_index()
    counts: dict[str, int] = {}
    recent = []
    total = 0
    if ix is not None:
        # One browse query gives the newest works and the per-institution counts at once.
        browse = ix.search("", sort="newest", size=RECENT)
        counts = {f.value: f.count for f in browse.facets.get("institution", [])}
        recent = browse.hits
        total = ix.count()
    return render_template("home.html", institutions=institutions, today=dt.date.today(),
                           counts=counts, recent=recent, total=total)
