"""The code pattern of institutions, repositories, packages and platforms: one home.

Codes name things in URLs (``/admin/kb/packages/<code>``), file names, TOML files and the
OAI identifiers of harvested records, so they are kept to lower-case ASCII letters, digits,
``.``, ``_`` and ``-``, begin with a letter or digit, and are at most 64 characters long.
The registry (:mod:`resolver.registry.toml_file`), the knowledge base
(:mod:`resolver.kb.importer`) and the admin pages all check against :data:`CODE_RE`.
"""

from __future__ import annotations

import re

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def is_code(value: object) -> bool:
    """Is ``value`` a valid code?

    >>> is_code("hue-dspace"), is_code("Hue"), is_code("-x"), is_code(None)
    (True, False, False, False)
    """
    return isinstance(value, str) and CODE_RE.match(value) is not None
