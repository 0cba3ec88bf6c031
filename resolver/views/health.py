"""``/healthz``: is the database reachable and the index readable?"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from resolver import db
from resolver.web import services

bp = Blueprint("health", __name__)
log = logging.getLogger("lienhop.health")


def _check_index() -> dict[str, Any]:
    settings = current_app.config["LIENHOP"]
    path = settings.index_dir
    if not path.exists():
        return {"ok": False, "error": f"no index at {path}: run `lienhop harvest --all` "
                "or `lienhop index rebuild`"}
    try:
        import index  # noqa: PLC0415 - the index package may be swapped; import at use

        opener = getattr(index, "open_index", None)
        if opener is None:
            return {"ok": True, "records": None}
        ix = opener(path, readonly=True)
        return {"ok": True, "records": ix.count()}
    except Exception as exc:  # any failure to read the index makes us unhealthy
        log.exception("index check failed")
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks: dict[str, Any] = {}
    try:
        db.check(services.engine())
        checks["database"] = {"ok": True}
    except Exception as exc:
        log.exception("database check failed")
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    checks["index"] = _check_index()
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ok else "fail", "checks": checks}
    return jsonify(body), (200 if ok else 503)
