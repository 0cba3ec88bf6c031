"""The home page: one search box, the consortium's members with their holdings, the records
added last (by harvest time: the index's ``recent``)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from index import Record
from resolver.registry.models import Institution
from resolver.web import services
from resolver.web.ordering import institutions_by_name
from resolver.web.services import get_index

bp = Blueprint("home", __name__)

RECENT = 6


class Card(NamedTuple):
    """A record on the home page, shaped like a search hit for the card template."""

    record: Record
    institutions: list[str]


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
        # The per-institution counts of works come from one browse query; what was added
        # last is by harvest time, whatever the year of publication (a 1975 report harvested
        # today is news to the reader).
        browse = ix.search("", size=1)
        counts = {f.value: f.count for f in browse.facets.get("institution", [])}
        recent = [Card(r, [r.institution] if r.institution else [])
                  for r in ix.recent(RECENT)]
        total = ix.count()
    return render_template("home.html", institutions=institutions, today=dt.date.today(),
                           counts=counts, recent=recent, total=total)
