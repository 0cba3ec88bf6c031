"""The record page: every field, all holdings, citation, exports, related records."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale

from harvesters.client import parse_datestamp
from index import Record, SearchIndex
from resolver.discovery import citations as export
from resolver.discovery.works import cluster_of, is_record_id, related
from resolver.views.discovery import is_web_url
from resolver.web.services import get_index

bp = Blueprint("record", __name__)

EXPORTS = {
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "csl": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


def member_url(record: Record) -> str | None:
    """The record in the holding member's own repository or catalogue."""
    own = next((u for u in record.urls if is_web_url(u)), None)
    return own or export.handle_url(record)


def source_date(datestamp: str) -> str:
    """The source's OAI datestamp as a date in the reader's language ("1 tháng 2, 2024"):
    a seconds datestamp (UTC) is the date in Vietnam time, the site's time zone, where
    Flask-Babel puts every time it formats; a day datestamp is that day. What cannot be
    read is shown as the source wrote it."""
    try:
        when = parse_datestamp(datestamp)
    except ValueError:
        return datestamp
    if len(datestamp.strip()) == 10:  # day granularity: no time of day to move
        return str(format_date(when.date(), "long"))
    return str(format_date(when, "long"))


def _load(record_id: str) -> tuple[SearchIndex, Record]:
    ix = get_index()
    if ix is None or not is_record_id(record_id):
        abort(404)
    record = ix.get(record_id)
    if record is None:
        abort(404)
    return ix, record


@bp.get("/record/<record_id>")
def show(record_id: str) -> ResponseReturnValue:
    ix, record = _load(record_id)
    holdings = cluster_of(ix, record)
    permalink = url_for("record.show", record_id=record.id, _external=True)
    return render_template(
        "record.html", record=record, holdings=holdings, member_url=member_url,
        related=related(ix, record, {r.id for r in holdings}), permalink=permalink,
        apa=export.apa(record, "en" if str(get_locale()) == "en" else "vi"),
        source_date=source_date, highwire=export.highwire_meta(record),
        json_ld=export.json_ld(record, permalink), doi_url=export.doi_url(record),
        handle_url=export.handle_url(record), exports=EXPORTS,
    )


@bp.get("/record/<record_id>/export/<fmt>")
def download(record_id: str, fmt: str) -> ResponseReturnValue:
    if fmt not in EXPORTS:
        abort(404)
    _ix, record = _load(record_id)
    if fmt == "ris":
        body = export.to_ris(record)
    elif fmt == "bibtex":
        body = export.to_bibtex(record)
    else:
        body = json.dumps([export.to_csl(record)], ensure_ascii=False, indent=2)
    mimetype, ext = EXPORTS[fmt]
    resp = Response(body, content_type=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{record.id}.{ext}"'
    return resp
