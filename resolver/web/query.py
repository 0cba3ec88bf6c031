"""Whether a request's query string can hold a parameter, answered without decoding it all.

``request.args`` decodes every parameter of the query string. An OpenURL has a dozen or more,
and the resolver asks ``args`` for one or two that are usually absent (``lang`` on every
page, ``inst`` when the OpenURL has none): decoding them all cost more than a tenth of a
``/resolve/api`` request. :func:`arg_absent` says when ``args`` certainly lacks a name by
looking at the keys alone; otherwise the caller reads ``args`` as before, so the answer, and
every error ``args`` raises, stay Werkzeug's.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from flask import request

__all__ = ["arg_absent"]

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def arg_absent(name: str) -> bool:
    """True when the current request's ``args`` certainly has no ``name`` (letters, digits,
    ``_.-``).

    False means "read ``request.args``": the name may be there, or the query string is not
    UTF-8 (``args`` raises on it, and still should). Werkzeug's ``args`` is
    ``urllib.parse.parse_qsl``: segments split on ``&``, a key ends at the first ``=`` (or is
    the whole segment), ``+`` is a space and ``%XX`` a byte; so only a key without ``+`` that
    is ``name``, or decodes to it, can be it.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a plain parameter name: {name!r}")
    raw = request.query_string
    if not raw:
        return True
    try:
        text = raw.decode()  # as Werkzeug decodes it for ``args``
    except UnicodeDecodeError:
        return False
    if name not in text and "%" not in text:  # neither written out nor escaped anywhere
        return True
    for segment in text.split("&"):
        key = segment.partition("=")[0]
        if key == name or ("%" in key and "+" not in key and unquote(key) == name):
            return False
    return True
