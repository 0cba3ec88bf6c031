"""Error pages the HTTP layer itself raises: a body over the limit (413) and a request for
a host this site does not answer to (400). In the reader's language; JSON on the APIs.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, make_response, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge, SecurityError

from resolver.web.security import MB, current_body_limit, wants_json

bp = Blueprint("errors", __name__)


def _answer(status: int, title: str, message: str, template: str, **extra: object) -> Response:
    if wants_json(request.path):
        resp = jsonify({"error": message, **extra})
    else:
        resp = make_response(render_template(template, title=title, message=message))
    resp.status_code = status
    return resp


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Response:
    if isinstance(request.routing_exception, SecurityError):
        return untrusted_host(request.routing_exception)  # the host is the first problem
    limit = current_body_limit()
    size = format_decimal(round(limit / MB, 1)) + " MB"
    return _answer(413, _("Too much data"),
                   _("The data sent is larger than this address accepts (at most %(size)s). "
                     "Nothing was saved.", size=size),
                   "error.html", max_bytes=limit)


@bp.app_errorhandler(SecurityError)
def untrusted_host(_exc: SecurityError) -> Response:
    # No URL can be built for a host the app refuses: the page is self-contained.
    return _answer(400, _("Unknown address"),
                   _("This server does not answer to the address in your request. "
                     "Check the link or type the site's address again."),
                   "error_plain.html")
