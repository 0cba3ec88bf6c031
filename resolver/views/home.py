"""The home page: the consortium at a glance."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from resolver import store
from resolver.models import Institution

bp = Blueprint("home", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    institutions = store.session().scalars(
        select(Institution)
        .options(selectinload(Institution.repositories))
        .order_by(Institution.status, Institution.name_vi)
    ).all()
    return render_template("home.html", institutions=institutions, today=dt.date.today())
