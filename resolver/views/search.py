"""The results page and advanced search.

This blueprint also installs what every discovery template uses (helpers, one-year caching
of the versioned static files), so the app factory needs no edit for the discovery site.
"""

from __future__ import annotations

import re

from flask import Blueprint, redirect, render_template, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from index import querylang
from index.record import TYPES
from resolver.views import discovery
from resolver.views.discovery import BadParameter, SearchParams, parse_params, run_search, without
from resolver.web.ordering import by_name
from resolver.web.services import get_index

bp = Blueprint("search", __name__)

YEAR = re.compile(r"^\d{4}$")


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = state.app
    # Static URLs carry a content hash (discovery.asset_url): safe to cache for a year.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    app.jinja_env.globals.update(discovery.TEMPLATE_HELPERS)
    app.jinja_env.tests["is_web_url"] = discovery.is_web_url


def year_value(start: str, end: str) -> str | None:
    """``year`` filter value from a from/to pair of form fields ("2010", "" → "2010-")."""
    start, end = start.strip(), end.strip()
    start = start if YEAR.match(start) else ""
    end = end if YEAR.match(end) else ""
    if start and end and start > end:
        start, end = end, start
    if not (start or end):
        return None
    return f"{start}-{end}"


def _bad_parameter(exc: BadParameter) -> ResponseReturnValue:
    """The search page saying what was wrong, with a link to the search without it."""
    p = parse_params(without(request.args, exc.name))
    html = render_template("search.html", p=p, result=None, error=exc.message,
                           facets=discovery.FACETS, sorts=discovery.SORTS)
    return html, 400


@bp.get("/search")
def results() -> ResponseReturnValue:
    if "year_from" in request.args or "year_to" in request.args:
        # The year range form: fold it into the one ``year`` parameter and redirect, so
        # the URL a reader bookmarks is the canonical one the API also takes. The form
        # replaces any ``year`` the URL had, however malformed.
        p = parse_params(without(request.args, "year"))
        value = year_value(request.args.get("year_from", ""), request.args.get("year_to", ""))
        if value:
            p.filters["year"] = [value]
        return redirect(p.url(page=None))
    try:
        p = parse_params(request.args)
    except BadParameter as exc:
        return _bad_parameter(exc)
    result = run_search(p)
    unfiltered_total = None
    if result is not None and result.total == 0 and p.filters:
        bare = SearchParams(p.q, 1, 1, p.sort)
        found = run_search(bare, facets=False)
        unfiltered_total = found.total if found else None
    # Browsing everything, the records behind the works are the index's count: the page
    # says how many, and why they are fewer works (templates/search.html).
    records = None
    if result is not None and not p.q and not p.filters:
        ix = get_index()
        records = ix.count() if ix is not None else None
    # A query that does not follow the query language is searched as its words (or, with
    # none, lists everything): the page says so rather than answer something else silently.
    reading = querylang.read(p.q) if result is not None and p.q else None
    return render_template("search.html", p=p, result=result,
                           unfiltered_total=unfiltered_total, facets=discovery.FACETS,
                           sorts=discovery.SORTS, records=records, reading=reading)


def _fielded(prefix: str, text: str) -> list[str]:
    words = re.sub(r'[()":]', " ", text).split()
    return [f"{prefix}:{w}" for w in words]


def advanced_query(form: dict[str, str]) -> str:
    """One query in the search language from the advanced form's fields."""
    parts = [" ".join(re.sub(r"[()]", " ", form.get("all", "")).split())]
    for name in ("title", "author", "subject"):
        parts += _fielded(name, form.get(name, ""))
    return " ".join(p for p in parts if p)


@bp.get("/advanced")
def advanced() -> ResponseReturnValue:
    args = request.args
    if args.get("submitted"):
        filters: dict[str, list[str]] = {}
        for name in ("institution", "type", "language", "access"):
            values = [v for v in args.getlist(name) if v]
            if values:
                filters[name] = values
        year = year_value(args.get("year_from", ""), args.get("year_to", ""))
        if year:
            filters["year"] = [year]
        sort = args.get("sort", "relevance")
        p = SearchParams(q=advanced_query(args.to_dict()), filters=filters,
                         sort=sort if sort in discovery.SORTS else "relevance")
        return redirect(p.url())
    names = by_name(discovery.institutions(), discovery.institution_name)
    return render_template("advanced.html", institution_codes=names, types=TYPES)
