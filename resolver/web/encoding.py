"""Query strings that are not UTF-8: read safely everywhere, refused with a 400 where nobody
reads them raw.

Browsers and member catalogues percent-encode what they send, but a WSGI server hands the
application whatever bytes the request line carried (PEP 3333: ``QUERY_STRING`` is those
bytes as Latin-1; ``wsgiref``, waitress, uWSGI and mod_wsgi pass them through, gunicorn
refuses them itself and Werkzeug's development server re-encodes them). Werkzeug decodes
``request.args`` with a strict ``bytes.decode()``, so one raw ``0xFF`` raised
``UnicodeDecodeError`` in the first code to read ``args`` — the language chooser of every
page, then the error page's own language choice: a 500 nobody could render.

Two parts, one job:

- :class:`Request` (the app's ``request_class``): ``args`` never raises. A byte that is not
  UTF-8 reads as its percent escape, exactly as Werkzeug already reads ``%FF`` (so a raw
  ``0xFF`` and ``%FF`` mean the same everywhere).
- :func:`refuse_undecodable`, the first ``before_request`` hook: such a query string is
  answered 400 (:class:`QueryNotUTF8`, written in the reader's form by
  ``resolver.views.errors``) — except on the views that read the raw query themselves
  (:data:`RAW_QUERY_ENDPOINTS`: the OpenURL resolver, whose decoder reads old catalogues'
  Latin-1 bytes on purpose, see ``resolver/openurl/decoding.py``).

Form bodies need nothing here: Werkzeug parses a form body that is not UTF-8 as an empty
form (its parser swallows the ``UnicodeDecodeError``), so a view sees missing fields (and
Flask-WTF a missing token: 400), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler
from flask import Flask, current_app, request
from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

__all__ = ["RAW_QUERY_ENDPOINTS", "QueryNotUTF8", "Request", "init_app", "is_utf8",
           "reads_raw_query", "refuse_undecodable", "url_args"]

#: the views that read ``request.query_string`` raw and decode it themselves
RAW_QUERY_ENDPOINTS = frozenset({"resolve.menu", "resolve.api", "resolve.delivery"})
_RAW_FLAG = "lienhop_reads_raw_query"
#: Werkzeug's codec error handler: an undecodable byte becomes its ``%XX`` escape
_AS_ESCAPE = "werkzeug.url_quote"

V = TypeVar("V", bound=Callable[..., Any])


def is_utf8(raw: bytes) -> bool:
    """Whether ``raw`` is UTF-8 text (ASCII, the usual case, is checked without decoding)."""
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def url_args(raw: bytes) -> list[tuple[str, str]]:
    """A query string's parameters as Werkzeug reads them, but never failing: a byte that is
    not UTF-8, raw or percent-encoded, stays as its ``%XX`` escape."""
    text = raw.decode("utf-8", _AS_ESCAPE)
    return parse_qsl(text, keep_blank_values=True, errors=_AS_ESCAPE)


class QueryNotUTF8(BadRequest):
    """A query string with bytes that are not UTF-8, on a view that does not read it raw."""

    description = "The query string is not UTF-8 text; percent-encode its bytes (RFC 3986)."


class Request(FlaskRequest):
    """Flask's request whose ``args`` (and ``full_path``) never raise on bytes that are not
    UTF-8."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        return self.parameter_storage_class(url_args(self.query_string))

    @cached_property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode('utf-8', _AS_ESCAPE)}"


def reads_raw_query(view: V) -> V:
    """Mark a view that decodes ``request.query_string`` itself (bytes that are not UTF-8
    reach it instead of a 400)."""
    setattr(view, _RAW_FLAG, True)
    return view


def _reads_raw() -> bool:
    endpoint = request.endpoint
    if endpoint is None:
        return False
    if endpoint in RAW_QUERY_ENDPOINTS:
        return True
    return bool(getattr(current_app.view_functions.get(endpoint), _RAW_FLAG, False))


def refuse_undecodable() -> None:
    """``before_request``: a query string that is not UTF-8 is a 400, unless the view reads
    it raw."""
    if not is_utf8(request.query_string) and not _reads_raw():
        raise QueryNotUTF8()


def init_app(app: Flask) -> None:
    """Install the request class and the hook; call it before any other ``before_request``
    hook is registered, so the refusal comes first."""
    app.request_class = Request
    app.before_request(refuse_undecodable)
