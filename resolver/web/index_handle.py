"""The web layer's read-only handle on the search index.

The harvester process owns the index writer; web workers only read. One handle per app,
opened lazily (the index may not exist yet on a fresh instance) and cheap to reuse: the
index API refreshes its searcher when a newer commit exists.
"""

from __future__ import annotations

import threading

from flask import current_app

import index

_lock = threading.Lock()


def get_index() -> index.SearchIndex | None:
    """The app's index, or None while no index has been built (nothing harvested yet)."""
    ext = current_app.extensions
    ix = ext.get("lienhop.index")
    if ix is not None:
        return ix
    path = current_app.config["LIENHOP"].index_dir
    with _lock:
        ix = ext.get("lienhop.index")
        if ix is None:
            if not path.exists():
                return None
            ix = index.open_index(path, readonly=True)
            ext["lienhop.index"] = ix
    return ix
