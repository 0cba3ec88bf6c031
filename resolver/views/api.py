"""The JSON search API: a stable contract for other software (see docs/api.md).

``/api/search`` takes exactly the results page's parameters. Field names and shapes here
only ever grow; renaming or removing one breaks member libraries' scripts.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from index import Hit, Record
from resolver.discovery import citations as export
from resolver.discovery.works import cluster_of, is_record_id
from resolver.views.discovery import FACETS, BadParameter, parse_params, run_search
from resolver.web.services import get_index

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.after_request
def _public(resp: Response) -> Response:
    # Public, read-only data: any web page (a member's OPAC widget) may call the API.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def identifiers(record: Record) -> dict[str, Any]:
    return {"doi": record.doi, "isbn": list(record.isbn), "issn": list(record.issn),
            "handle": record.handle, "url": export.best_url(record)}


def hit_json(hit: Hit) -> dict[str, Any]:
    r = hit.record
    return {
        "id": r.id,
        "title": r.title,
        "creators": list(r.creators),
        "year": r.year,
        "type": r.type,
        "language": r.language,
        "access": r.access,
        "institutions": list(hit.institutions),
        "identifiers": identifiers(r),
        "url": url_for("record.show", record_id=r.id, _external=True),
    }


@bp.get("/search")
def search() -> ResponseReturnValue:
    try:
        p = parse_params(request.args)
    except BadParameter as exc:
        return jsonify({"error": exc.message, "parameter": exc.name}), 400
    result = run_search(p)
    body: dict[str, Any] = {"query": p.q, "total": 0, "page": p.page, "size": p.size,
                            "sort": p.sort, "filters": p.filters, "results": [],
                            "facets": {name: [] for name in FACETS}, "suggestions": []}
    if result is not None:
        body.update(
            total=result.total,
            sort=result.sort,
            results=[hit_json(h) for h in result.hits],
            facets={name: [{"value": f.value, "count": f.count}
                           for f in result.facets.get(name, [])] for name in FACETS},
            suggestions=list(result.suggestions),
        )
    return jsonify(body)


@bp.get("/records/<record_id>")
def record(record_id: str) -> ResponseReturnValue:
    ix = get_index()
    if ix is None or not is_record_id(record_id):
        abort(404)
    rec = ix.get(record_id)
    if rec is None:
        abort(404)
    body = rec.to_dict()
    body["url"] = url_for("record.show", record_id=rec.id, _external=True)
    body["identifiers"] = identifiers(rec)
    body["holdings"] = [{"id": r.id, "institution": r.institution, "repository": r.repository,
                         "access": r.access} for r in cluster_of(ix, rec)]
    body["openurl"] = export.to_kev(rec)
    return jsonify(body)


@bp.errorhandler(404)
def _not_found(_exc: HTTPException) -> ResponseReturnValue:
    return jsonify({"error": "not found"}), 404
