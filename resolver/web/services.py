"""The one home of the objects a web app keeps for its lifetime, with typed accessors.

The database (engine, session factory, and each request's session), the read-only index
handle, the job queue, the resolver's registry cache, the request log's buffer, the ``/go/``
token signers, the recent clicks and the rate limiter all live in ``app.extensions`` under
``"lienhop.*"`` keys, and this is the only module that writes those keys: a view asks for
``services.session()`` or ``services.registry_cache(...)``, never for a key. Objects made on
first use are made once per app whatever the threads (:func:`_per_app`).

Tests replace an object with :func:`provide` (``provide(app, "queue", FakeQueue())``); the
keys stay as they were, so a test reading ``app.extensions["lienhop.sessions"]`` still works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

from flask import Flask, current_app, g
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash

import index
from resolver.db import Database
from resolver.web.signing import TimedTokens

if TYPE_CHECKING:
    # Imported where first made: importing this module (every view does) stays cheap, and
    # huey is loaded only by a process that queues a job.
    from resolver.harvesting.queue import JobQueue
    from resolver.linking.service import RegistryCache
    from resolver.usage.logbuffer import LogBuffer
    from resolver.usage.recording import RecentClicks
    from resolver.web.ratelimit import TokenBuckets

#: What :func:`provide` may replace, and the ``app.extensions`` key of each.
Name = Literal["engine", "sessions", "index", "queue", "registry_cache", "go_serializers",
               "recent_clicks", "rate_limiter", "password_check", "sitemap", "request_log",
               "url_prefixes"]
KEYS: dict[Name, str] = {
    "engine": "lienhop.engine",
    "sessions": "lienhop.sessions",
    "index": "lienhop.index",
    "queue": "lienhop.queue",
    "registry_cache": "lienhop.resolver_registry",
    "go_serializers": "lienhop.go_serializer",
    "recent_clicks": "lienhop.recent_clicks",
    "rate_limiter": "lienhop.ratelimit",
    "password_check": "lienhop.password_check",
    "sitemap": "lienhop.sitemap",
    "request_log": "lienhop.request_log",
    "url_prefixes": "lienhop.url_prefixes",
}

T = TypeVar("T")
_setup_lock = threading.Lock()


def provide(app: Flask, name: Name, obj: object) -> None:
    """Install ``obj`` as the app's ``name`` (the app factory does; tests swap in doubles)."""
    app.extensions[KEYS[name]] = obj


def _app(app: Flask | None) -> Flask:
    return current_app if app is None else app


def _per_app(name: Name, make: Callable[[], T]) -> T:
    """The current app's one ``name``, made by ``make`` on first use (once, whatever the
    threads)."""
    ext = current_app.extensions
    key = KEYS[name]
    found: T | None = ext.get(key)
    if found is None:
        with _setup_lock:
            found = ext.get(key)
            if found is None:
                found = ext[key] = make()
    return found


# --- the database ---------------------------------------------------------------------------

def init_app(app: Flask, database: Database) -> None:
    """Give ``app`` its database (opened by :func:`resolver.db.open_database`) and close each
    request's session when the request ends.

    Under test (``TESTING``), the request log is also written at the end of each request,
    unless the app's config says ``LIENHOP_REQUEST_LOG_FLUSH_EACH_REQUEST=False``: tests
    read it right after a request (:mod:`resolver.usage.logbuffer` says why not write-through).
    """
    provide(app, "engine", database.engine)
    provide(app, "sessions", database.sessions)
    app.teardown_appcontext(close_session)
    if app.config.get("LIENHOP_REQUEST_LOG_FLUSH_EACH_REQUEST", app.testing):
        app.after_request(_flush_request_log)


def engine(app: Flask | None = None) -> Engine:
    """The app's engine (``/healthz`` checks it)."""
    found: Engine = _app(app).extensions[KEYS["engine"]]
    return found


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    """The app's session factory: for work outside a request, or in its own transaction."""
    found: sessionmaker[Session] = _app(app).extensions[KEYS["sessions"]]
    return found


def session() -> Session:
    """The current request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = sessions()()
    found: Session = g.db_session
    return found


def close_session(_exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


# --- the search index -----------------------------------------------------------------------

def get_index() -> index.SearchIndex | None:
    """The app's read-only index, or None while no index has been built (nothing harvested).

    The harvester process owns the index writer; web workers only read. One handle per app,
    opened lazily (the index may not exist yet on a fresh instance) and cheap to reuse: the
    index API refreshes its searcher when a newer commit exists.
    """
    ext = current_app.extensions
    found: index.SearchIndex | None = ext.get(KEYS["index"])
    if found is not None:
        return found
    path = current_app.config["LIENHOP"].index_dir
    with _setup_lock:
        found = ext.get(KEYS["index"])
        if found is None:
            if not path.exists():
                return None
            found = index.open_index(path, readonly=True)
            provide(current_app, "index", found)
    return found


# --- the job queue --------------------------------------------------------------------------

def job_queue() -> JobQueue:
    """The app's job queue (harvests, link checks), on the app's own database."""

    def make() -> JobQueue:
        from resolver.harvesting.queue import JobQueue

        return JobQueue(current_app.config["LIENHOP"], sessions())

    return _per_app("queue", make)


# --- the resolver ---------------------------------------------------------------------------

def registry_cache(check_seconds: float) -> RegistryCache:
    """The process's registry and KB snapshot, checked every ``check_seconds`` (the value
    of the first call: the app's configuration does not change)."""
    from resolver.linking.service import RegistryCache

    return _per_app("registry_cache", lambda: RegistryCache(check_seconds))


def request_log() -> LogBuffer:
    """The app's request-log buffer (resolutions and clicks), written in batches of
    ``LIENHOP_REQUEST_LOG_BATCH`` rows or every ``LIENHOP_REQUEST_LOG_FLUSH_SECONDS``, on its
    own sessions (:mod:`resolver.usage.logbuffer`)."""

    def make() -> LogBuffer:
        from resolver.usage.logbuffer import LogBuffer

        settings = current_app.config["LIENHOP"]
        return LogBuffer(sessions(), batch=settings.request_log_batch,
                         flush_seconds=settings.request_log_flush_seconds)

    return _per_app("request_log", make)


def _flush_request_log(response: T) -> T:
    found: LogBuffer | None = current_app.extensions.get(KEYS["request_log"])
    if found is not None:
        found.flush()
    return response


def url_prefixes() -> dict[tuple[object, ...], str]:
    """The URL prefixes the resolver built with ``url_for``, by endpoint and request shape
    (``resolver.views.resolve._url_prefix``)."""
    return _per_app("url_prefixes", dict)


def recent_clicks(window: float) -> RecentClicks:
    """The clicks of the last ``window`` seconds (made with the first call's ``window``)."""
    from resolver.usage.recording import RecentClicks

    return _per_app("recent_clicks", lambda: RecentClicks(window))


class GoSigners(NamedTuple):
    """The signers of ``/go/`` tokens: timed (new tokens) and untimed (tokens from before)."""

    timed: URLSafeTimedSerializer
    untimed: URLSafeSerializer


def go_serializers(timed_salt: str, untimed_salt: str) -> GoSigners:
    """The ``/go/`` token signers for the app's secret key (made again if the key changes)."""
    key = current_app.secret_key
    if key is None:
        raise RuntimeError("the app has no SECRET_KEY to sign /go/ tokens with")
    ext = current_app.extensions
    cached: tuple[object, GoSigners] | None = ext.get(KEYS["go_serializers"])
    if cached is None or cached[0] != (key, timed_salt, untimed_salt):
        cached = ((key, timed_salt, untimed_salt),
                  GoSigners(TimedTokens(key, salt=timed_salt),
                            URLSafeSerializer(key, salt=untimed_salt)))
        provide(current_app, "go_serializers", cached)
    return cached[1]


# --- the rate limiter -----------------------------------------------------------------------

def set_rate_limiter(app: Flask, buckets: TokenBuckets) -> None:
    """Keep the app's rate-limit buckets (absent when the limit is off)."""
    provide(app, "rate_limiter", buckets)


# --- accounts and the sitemap ---------------------------------------------------------------

def password_check() -> Callable[[str, str], bool]:
    """The app's password-hash check: werkzeug's, unless a test provided one that counts."""
    check: Callable[[str, str], bool] = current_app.extensions.get(
        KEYS["password_check"], check_password_hash)
    return check


class SitemapCache:
    """The sitemap's record ids, kept while the index size is unchanged (the walk costs
    seconds on 100k records)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entry: tuple[int, float, list[str]] | None = None


def sitemap_cache() -> SitemapCache:
    return _per_app("sitemap", SitemapCache)
