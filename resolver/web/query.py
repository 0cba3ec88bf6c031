"""Whether a request's query string can hold a parameter, answered without decoding it.

``request.args`` decodes every parameter of the query string. An OpenURL has a dozen or more,
and the resolver asks ``args`` for one or two that are usually absent (``lang`` on every
page, ``inst`` when the OpenURL has none): decoding them all cost more than a tenth of a
``/resolve/api`` request. :func:`arg_absent` says when ``args`` certainly lacks a name, by one
search of the raw query string; otherwise the caller reads ``args`` as before, so the answer,
and every error ``args`` raises, stay Werkzeug's.
"""

from __future__ import annotations

import functools
import re

from flask import request

__all__ = ["arg_absent", "key_pattern"]


@functools.cache
def key_pattern(name: str) -> re.Pattern[str]:
    """A query-string segment whose key decodes to ``name`` (an ASCII name without ``+``).

    Werkzeug's ``args`` is ``urllib.parse.parse_qsl``: segments split on ``&``, the key ends at
    the first ``=`` (or is the whole segment), ``+`` is a space and ``%XX`` a byte. A key
    decodes to ``name`` exactly when each of its characters is written as itself or as its
    ``%XX`` (hex digits in either case); a byte outside ASCII can never decode to it.
    """
    if not name or not name.isascii() or "+" in name or "%" in name or "&" in name:
        raise ValueError(f"not a plain ASCII parameter name: {name!r}")
    units = []
    for ch in name:
        code = f"{ord(ch):02X}"
        hex_digits = "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in code)
        units.append(f"(?:{re.escape(ch)}|%{hex_digits})")
    return re.compile(f"(?:^|&){''.join(units)}(?:=|&|\\Z)")


def arg_absent(name: str) -> bool:
    """True when the current request's ``args`` certainly has no ``name``.

    False means "read ``request.args``": the name may be there, or the query string is not
    UTF-8 (``args`` raises on it, and still should).
    """
    raw = request.query_string
    if not raw:
        return True
    try:
        text = raw.decode()  # as Werkzeug decodes it for ``args``
    except UnicodeDecodeError:
        return False
    return key_pattern(name).search(text) is None
