"""Every HTTP error, answered in the form its reader reads: a page of the site in the reader's
language for people, JSON on the APIs (``/api``, ``/resolve/api``), an OAI-PMH envelope at
``/oai``. One handler takes every ``HTTPException`` — an ``abort()`` in a view, Werkzeug's
routing (404, 405), Flask-WTF's missing form token (400), the body limit (413), and every
unhandled exception, which Flask hands over as a 500 — so no answer is Werkzeug's bare
English page.

A page that cannot be rendered (the templates, the catalogues or the database being what
failed) falls back to :mod:`resolver.views.error_fallback`, which needs none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from harvesters.protocol import ErrorReply
from resolver.oai import provider
from resolver.oai.feed import now_seconds
from resolver.views import error_fallback
from resolver.views.discovery import asset_url
from resolver.web.encoding import QueryNotUTF8
from resolver.web.i18n import COOKIE
from resolver.web.security import MB, current_body_limit, wants_json

bp = Blueprint("errors", __name__)

log = logging.getLogger("lienhop.errors")


def is_oai(path: str) -> bool:
    """Whether an error at ``path`` goes to an OAI-PMH harvester."""
    return path == "/oai" or path.startswith("/oai/")


def _texts(exc: HTTPException) -> tuple[str, str]:
    """The page's title and sentence for ``exc``, in the reader's language."""
    if isinstance(exc, CSRFError):
        return (_("The form has expired"),
                _("The form was open too long, or was sent from another page. Go back, "
                  "reload the page and send the form again."))
    code = exc.code or 500
    if code == 404:
        return (_("Page not found"),
                _("There is no page at this address: a record may have been withdrawn by "
                  "its repository, or the link may be mistyped. Try searching for it."))
    if code == 403:
        return _("Not allowed"), _("Your account may not open this page.")
    if code == 405:
        return (_("This action is not possible here"),
                _("This address does not accept the kind of request that was sent."))
    if code >= 500:
        return (_("Something went wrong"),
                _("The server could not complete your request. Please try again in a few "
                  "minutes; if it happens again, tell the consortium's staff."))
    return (_("Bad request"),
            _("The server could not understand this request. Check the link, or go back "
              "and try again."))


def _stylesheet() -> str:
    try:
        return asset_url("lienhop.css")
    except Exception:  # no URL can be built (a refused host): the plain path
        return request.script_root + "/static/lienhop.css"


def _fallback(status: int, *, home: str | None) -> Response:
    """The page of last resort (resolver/views/error_fallback.py)."""
    lang = error_fallback.language(request.args.get("lang"), request.cookies.get(COOKIE))
    html = error_fallback.page(status, lang, home=home, stylesheet=_stylesheet())
    return Response(html, status=status, mimetype="text/html")


def _page(status: int, texts: Callable[[], tuple[str, str]], template: str = "error.html",
          *, home: bool = True) -> Response:
    """The site's error page; the plain one when it cannot be rendered. ``texts`` is called
    here, inside the guard: the catalogues may be what failed."""
    try:
        title, message = texts()
        html = render_template(template, title=title, message=message, status=status,
                               home="" if not home else None)
    except Exception:
        log.exception("the error page could not be rendered; answering with the plain one")
        return _fallback(status, home=request.script_root + "/" if home else None)
    return Response(html, status=status, mimetype="text/html")


def _json(status: int, error: str, **extra: object) -> Response:
    resp = jsonify({"error": error, **extra})
    resp.status_code = status
    return resp


def _oai(status: int, message: str) -> Response:
    try:
        base_url = url_for("oai.oai", _external=True)
    except Exception:  # no URL can be built (a refused host): the envelope still names it
        base_url = request.script_root + "/oai"
    body = (provider.envelope_open(now_seconds(), base_url, None, None)
            + provider.error_xml([ErrorReply("badArgument", message)])
            + provider.ENVELOPE_CLOSE)
    return Response(body, status=status, content_type="text/xml; charset=utf-8")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response | HTTPException:
    """Any HTTP error (and any unhandled exception, as a 500) without a handler of its own."""
    status = exc.code or 500
    if status < 400:  # a redirect raised as an exception is not an error
        return exc
    if wants_json(request.path):
        return _json(status, exc.name.lower())
    if is_oai(request.path):
        # harvesters read the protocol's envelope; the HTTP status says what happened
        return _oai(status, "the server failed; try again later" if status >= 500
                    else f"{exc.name.lower()}: the OAI-PMH endpoint is "
                         f"{request.script_root}/oai, by GET or POST")
    return _page(status, lambda: _texts(exc))


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Response:
    if isinstance(request.routing_exception, SecurityError):
        return untrusted_host(request.routing_exception)  # the host is the first problem
    limit = current_body_limit()

    def texts() -> tuple[str, str]:
        size = format_decimal(round(limit / MB, 1)) + " MB"
        return (_("Too much data"),
                _("The data sent is larger than this address accepts (at most %(size)s). "
                  "Nothing was saved.", size=size))

    if wants_json(request.path):
        return _json(413, texts()[1], max_bytes=limit)
    if is_oai(request.path):
        return _oai(413, f"the request is larger than this endpoint accepts ({limit} bytes)")
    return _page(413, texts)


def _not_utf8() -> tuple[str, str]:
    return (_("This address cannot be read"),
            _("The address contains characters that are not valid text (UTF-8), perhaps "
              "from a link copied out of an old system. Retype your search, or ask whoever "
              "made the link to percent-encode it."))


@bp.app_errorhandler(QueryNotUTF8)
def query_not_utf8(_exc: QueryNotUTF8) -> Response:
    # resolver/web/encoding.py: ``request.args`` reads such a query safely, so the page's
    # own language choice (``?lang=``) cannot trip over it
    if wants_json(request.path):
        return _json(400, _not_utf8()[1])
    if is_oai(request.path):
        return _oai(400, "the query string is not UTF-8: percent-encode every byte that is "
                         "not ASCII (RFC 3986, OAI-PMH 2.0 section 3.1.1)")
    return _page(400, _not_utf8)


def _unknown_host() -> tuple[str, str]:
    return (_("Unknown address"),
            _("This server does not answer to the address in your request. "
              "Check the link or type the site's address again."))


@bp.app_errorhandler(SecurityError)
def untrusted_host(_exc: SecurityError) -> Response:
    # No URL can be built for a host the app refuses: the page is self-contained, and its
    # header links nowhere (home would be the refused host again).
    if wants_json(request.path):
        return _json(400, _unknown_host()[1])
    return _page(400, _unknown_host, "error_plain.html", home=False)


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    # The self-contained pages (this module's, the rate limiter's 429) link the stylesheet
    # without url_for, which a refused host cannot use.
    state.app.jinja_env.globals["plain_stylesheet"] = _stylesheet
