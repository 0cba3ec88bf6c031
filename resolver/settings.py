"""Settings, read from the environment.

Every setting has an environment variable prefixed ``LIENHOP_``; nothing else is needed for
the embedded default (SQLite and a Whoosh index inside the instance folder).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "LIENHOP_"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one lienhop instance."""

    home: Path
    env: str
    database_url: str
    index_dir: Path
    archive_dir: Path
    secret_key: str
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    admin_user: str | None = None
    admin_password: str | None = None
    log_level: str = "INFO"
    #: seconds between two requests to one repository (politeness)
    harvest_delay: float = 1.0
    #: retries of a failed request (timeouts, resets, 429/5xx) before a run gives up
    harvest_retries: int = 5
    #: a --full run refuses to delete more than this share of a repository's records at once
    harvest_max_delete_share: float = 0.2
    #: cap on one response body, compressed and decompressed alike (megabytes)
    harvest_max_response_mb: float = 100.0
    #: private/loopback/link-local networks a repository's oai_url may point into anyway
    harvest_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    #: one run stops (status failed, resumable) after this many pages ...
    harvest_max_pages: int = 100_000
    #: ... or after this many hours of wall time
    harvest_max_hours: float = 24.0
    #: the public base URL (scheme://host[:port][/prefix]) absolute links are built on;
    #: empty: built from the request, but only for hosts in ``trusted_hosts``
    base_url: str = ""
    #: host names the app answers to (empty: any, as in development)
    trusted_hosts: tuple[str, ...] = ()
    #: cap on a request body (megabytes), for every route but the uploads ...
    max_request_mb: float = 1.0
    #: ... which take up to this much (KBART, COUNTER, registry files)
    max_upload_mb: float = 200.0
    #: an admin session ends after this many minutes without a request ...
    session_idle_minutes: float = 60.0
    #: ... and this many hours after its login, whatever
    session_max_hours: float = 12.0
    #: requests per second one client address may make to the search and resolver pages,
    #: sustained (0: no limit) ...
    rate_limit: float = 10.0
    #: ... and in a burst
    rate_burst: int = 40
    extra: dict[str, str] = field(default_factory=dict)
    #: huey storage for harvest jobs: sqlite:///path (one machine) or redis://host:port/db
    queue_url: str = ""
    #: a running job whose worker has not reported for this many seconds is given to another
    job_stale_seconds: float = 60.0
    #: failed logins per account (and 4x that per client IP) before a temporary lock
    login_max_failures: int = 5
    #: minutes an account (or client IP) stays locked after too many failed logins
    login_lock_minutes: float = 15.0
    #: adminEmail of the OAI-PMH provider's Identify (empty: oai@<oai_repository_id>)
    oai_admin_email: str = ""
    #: repositoryIdentifier of OAI identifiers ``oai:<this>:<record id>``; never change it
    oai_repository_id: str = "lienhop.vn"
    #: request-log rows (resolutions and ``/go/`` clicks) a web worker holds before writing
    #: them in one transaction (0 or 1: every row is written as it happens) ...
    request_log_batch: int = 200
    #: ... and the most seconds a row waits (0: every row is written as it happens)
    request_log_flush_seconds: float = 2.0
    #: the search engine of a NEW index (whoosh | tantivy); an existing index keeps its
    #: own until ``lienhop index rebuild --engine`` converts it
    index_engine: str = "whoosh"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _parse_networks(
    value: str, name: str = "TRUSTED_PROXIES"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for part in value.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"{PREFIX}{name}: {part!r} is not an IP address or CIDR range"
            ) from exc
    return tuple(nets)



def _share(value: str | None, name: str) -> float:
    number = _number(value, name, float)
    if number > 1:
        raise ConfigError(f"{PREFIX}{name} is a share between 0 and 1, not {value!r}")
    return number


def _number(value: str | None, name: str, kind: type) -> float:
    try:
        number: float = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{PREFIX}{name} must be a number, not {value!r}") from exc
    if number < 0:
        raise ConfigError(f"{PREFIX}{name} must not be negative")
    return number


def _dev_secret(home: Path) -> str:
    """A per-instance random key for development, kept so sessions survive restarts."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve the settings from ``environ`` (default: ``os.environ``).

    ``LIENHOP_ENV`` is ``production`` unless set to ``development`` or ``testing``; in
    production a missing ``LIENHOP_SECRET_KEY`` is an error rather than a silent default.
    """
    env_vars = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env_vars.get(PREFIX + name)
        return value if value not in (None, "") else default

    env = (get("ENV", "production") or "production").lower()
    if env not in ("production", "development", "testing"):
        raise ConfigError(
            f"{PREFIX}ENV must be production, development or testing, not {env!r}"
        )
    home = Path(get("HOME", "instance") or "instance").resolve()
    database_url = get("DATABASE_URL") or f"sqlite:///{home / 'lienhop.sqlite3'}"
    index_dir = Path(get("INDEX_DIR") or home / "index").resolve()
    archive_dir = Path(get("ARCHIVE_DIR") or home / "archive").resolve()
    index_engine = (get("INDEX_ENGINE", "whoosh") or "whoosh").lower()
    if index_engine not in ("whoosh", "tantivy"):
        raise ConfigError(
            f"{PREFIX}INDEX_ENGINE must be whoosh or tantivy, not {index_engine!r}")

    secret = get("SECRET_KEY")
    if secret is None:
        if env == "production":
            raise ConfigError(
                f"{PREFIX}SECRET_KEY is not set. In production lienhop needs a secret key to "
                "sign sessions and CSRF tokens; generate one with\n"
                "    python -c 'import secrets; print(secrets.token_hex(32))'\n"
                f"and export it as {PREFIX}SECRET_KEY (or set {PREFIX}ENV=development "
                "for a local trial)."
            )
        secret = _dev_secret(home)

    return Settings(
        home=home,
        env=env,
        database_url=database_url,
        index_dir=index_dir,
        archive_dir=archive_dir,
        index_engine=index_engine,
        secret_key=secret,
        trusted_proxies=_parse_networks(get("TRUSTED_PROXIES", "") or ""),
        admin_user=get("ADMIN_USER"),
        admin_password=get("ADMIN_PASSWORD"),
        log_level=(get("LOG_LEVEL", "INFO") or "INFO").upper(),
        harvest_delay=_number(get("HARVEST_DELAY", "1.0"), "HARVEST_DELAY", float),
        harvest_retries=int(_number(get("HARVEST_RETRIES", "5"), "HARVEST_RETRIES", int)),
        harvest_max_delete_share=_share(
            get("HARVEST_MAX_DELETE_SHARE", "0.2"), "HARVEST_MAX_DELETE_SHARE"),
        harvest_max_response_mb=_number(
            get("HARVEST_MAX_RESPONSE_MB", "100"), "HARVEST_MAX_RESPONSE_MB", float),
        harvest_allowed_networks=_parse_networks(
            get("HARVEST_ALLOWED_NETWORKS", "") or "", "HARVEST_ALLOWED_NETWORKS"),
        harvest_max_pages=int(
            _number(get("HARVEST_MAX_PAGES", "100000"), "HARVEST_MAX_PAGES", int)),
        harvest_max_hours=_number(get("HARVEST_MAX_HOURS", "24"), "HARVEST_MAX_HOURS", float),
        base_url=(get("BASE_URL", "") or "").rstrip("/"),
        trusted_hosts=tuple(h for h in (get("TRUSTED_HOSTS", "") or "").replace(",", " ").split()),
        max_request_mb=_number(get("MAX_REQUEST_MB", "1"), "MAX_REQUEST_MB", float),
        max_upload_mb=_number(get("MAX_UPLOAD_MB", "200"), "MAX_UPLOAD_MB", float),
        session_idle_minutes=_number(
            get("SESSION_IDLE_MINUTES", "60"), "SESSION_IDLE_MINUTES", float),
        session_max_hours=_number(get("SESSION_MAX_HOURS", "12"), "SESSION_MAX_HOURS", float),
        rate_limit=_number(get("RATE_LIMIT", "10"), "RATE_LIMIT", float),
        rate_burst=int(_number(get("RATE_BURST", "40"), "RATE_BURST", int)),
        queue_url=get("QUEUE_URL") or f"sqlite:///{home / 'queue.sqlite3'}",
        job_stale_seconds=_number(get("JOB_STALE_SECONDS", "60"), "JOB_STALE_SECONDS", float),
        login_max_failures=int(
            _number(get("LOGIN_MAX_FAILURES", "5"), "LOGIN_MAX_FAILURES", int)),
        login_lock_minutes=_number(get("LOGIN_LOCK_MINUTES", "15"), "LOGIN_LOCK_MINUTES", float),
        oai_admin_email=get("OAI_ADMIN_EMAIL", "") or "",
        oai_repository_id=get("OAI_REPOSITORY_ID", "lienhop.vn") or "lienhop.vn",
        request_log_batch=int(
            _number(get("REQUEST_LOG_BATCH", "200"), "REQUEST_LOG_BATCH", int)),
        request_log_flush_seconds=_number(
            get("REQUEST_LOG_FLUSH_SECONDS", "2"), "REQUEST_LOG_FLUSH_SECONDS", float),
    )
