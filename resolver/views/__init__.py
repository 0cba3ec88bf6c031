"""The app's blueprints: one module per area, each exposing ``bp``.

Every module in this package that defines a module-level ``bp`` Blueprint is registered by
:func:`resolver.create_app`, so adding an area means adding a module, not editing the factory.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """The ``bp`` of every module in this package, in module-name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            found.append(bp)
    return found
