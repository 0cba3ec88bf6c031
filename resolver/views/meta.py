"""For crawlers and browsers: OpenSearch description, sitemap.xml, robots.txt, favicon.ico."""

from __future__ import annotations

import time
from xml.sax.saxutils import escape as xml_escape

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

from index import SearchIndex
from resolver.web import services
from resolver.web.services import get_index

bp = Blueprint("meta", __name__)

#: URLs per sitemap file (the protocol allows 50,000).
SITEMAP_CHUNK = 40_000
_CACHE_SECONDS = 3600


def all_record_ids(ix: SearchIndex) -> list[str]:
    """Every record id, streamed from the index (``SearchIndex.iter_ids``): no search
    pages, so a large union is not ranked and faceted just to be listed."""
    return list(ix.iter_ids())


def _cached_ids(ix: SearchIndex) -> list[str]:
    cache = services.sitemap_cache()
    count = ix.count()
    with cache.lock:
        if cache.entry and cache.entry[0] == count \
                and time.monotonic() - cache.entry[1] < _CACHE_SECONDS:
            return cache.entry[2]
        ids = all_record_ids(ix)
        cache.entry = (count, time.monotonic(), ids)
        return ids


def _xml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body,
                    content_type="application/xml; charset=utf-8")


def _urlset(ids: list[str], extra: tuple[str, ...] = ()) -> Response:
    # Record ids are URL-safe by construction; escape anyway, a sitemap is XML.
    urls = [*extra, *(url_for("record.show", record_id=i, _external=True) for i in ids)]
    lines = [f"<url><loc>{xml_escape(u)}</loc></url>" for u in urls]
    return _xml('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                + "\n".join(lines) + "\n</urlset>\n")


@bp.get("/sitemap.xml")
def sitemap() -> ResponseReturnValue:
    ix = get_index()
    ids = _cached_ids(ix) if ix is not None else []
    if len(ids) <= SITEMAP_CHUNK:
        return _urlset(ids, extra=(url_for("home.index", _external=True),))
    parts = -(-len(ids) // SITEMAP_CHUNK)
    locs = "\n".join(
        f"<sitemap><loc>{xml_escape(url_for('meta.sitemap_part', n=n, _external=True))}"
        "</loc></sitemap>" for n in range(1, parts + 1))
    return _xml('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                + locs + "\n</sitemapindex>\n")


@bp.get("/sitemap-<int:n>.xml")
def sitemap_part(n: int) -> ResponseReturnValue:
    ix = get_index()
    ids = _cached_ids(ix) if ix is not None else []
    chunk = ids[(n - 1) * SITEMAP_CHUNK: n * SITEMAP_CHUNK] if n >= 1 else []
    if not chunk:
        abort(404)
    return _urlset(chunk)


@bp.get("/opensearch.xml")
def opensearch() -> ResponseReturnValue:
    body = render_template("opensearch.xml")
    return Response(body, content_type="application/opensearchdescription+xml; charset=utf-8")


@bp.get("/robots.txt")
def robots() -> ResponseReturnValue:
    body = ("User-agent: *\nDisallow: /resolve\nDisallow: /api/\n"
            f"Sitemap: {url_for('meta.sitemap', _external=True)}\n")
    return Response(body, content_type="text/plain; charset=utf-8")


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever a page links (base.html links it and the SVG):
    the site's icon (resolver/static/lienhop.svg at 16, 32 and 48 px), not a 404. Its URL
    has no content hash, so it is cached for a day, not a year."""
    return send_from_directory(current_app.static_folder or "", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=24 * 3600)
