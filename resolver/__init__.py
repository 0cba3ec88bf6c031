"""lienhop: discovery service and OpenURL link resolver of the Vietnam Library Consortium.

``create_app()`` builds the Flask application from the environment alone (see
:mod:`resolver.settings`), so ``flask --app wsgi run``, ``lienhop run`` and the test client all
get the same app.
"""

from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

# Every table, registered before any mapper configures (relationships name classes of other
# domains); any import of a resolver module runs this first.
from resolver import db, models  # noqa: F401
from resolver.logs import configure_logging
from resolver.settings import Settings, load_settings
from resolver.web import i18n, ratelimit, security, services

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

log = logging.getLogger("lienhop.app")

#: Every page module, registered in this order (admin first: its error handlers and the
#: public pages' catch-alls never shadow an admin URL).
BLUEPRINTS = (
    "admin.accounts", "admin.delivery", "admin.jobs", "admin.kb", "admin.registry",
    "admin.usage", "admin.usage_sharing", "api", "errors", "health", "home", "meta", "oai",
    "record", "resolve", "search",
)


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, with the range of a signed 32-bit column by default
    (ids are ``INTEGER`` on PostgreSQL; SQLite overflows past 64 bits)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = 2**31 - 1, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app. ``settings`` defaults to :func:`resolver.settings.load_settings`.

    The database is opened as every lienhop process opens it
    (:func:`resolver.db.open_database`): an old schema is upgraded first, under a lock, so
    gunicorn workers starting together migrate it once and the others wait for it.
    """
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    app = security.PublicURLFlask(
        __name__,
        instance_path=str(settings.home),
        instance_relative_config=True,
        template_folder=str(TEMPLATES),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        LIENHOP=settings,
        TESTING=settings.env == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides)
    # First: a bad LIENHOP_BASE_URL stops start-up before the database is touched, and the
    # body limit is in place before any other hook (CSRFProtect) reads a form.
    security.init_app(app, settings, TEMPLATES)
    ratelimit.init_app(app, settings)
    settings.home.mkdir(parents=True, exist_ok=True)

    # Migrating at start rather than refusing an old schema in production:
    # resolver/db/migrate.py says why.
    database = db.open_database(settings)
    services.init_app(app, database)
    i18n.init_app(app)
    security.csrf.init_app(app)
    # Before any rule is added: an <int:...> path segment beyond the database's integer
    # range is a 404 at routing, not an overflow inside a query (a 500).
    app.url_map.converters["int"] = BoundedIntConverter
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"resolver.views.{name}").bp)

    log.debug("app ready", extra={"env": settings.env, "database": database.url,
                                  "index": str(settings.index_dir)})
    return app
