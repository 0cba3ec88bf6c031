"""HTTP transport for OAI-PMH harvesting.

OAI-PMH runs over plain HTTP, but real data providers are flaky: they answer 503 with a
``Retry-After`` (in seconds *or* as an HTTP date), reset connections, time out under deep
paging, and send OAI errors in 4xx bodies (Zenodo answers ``422``).  :class:`Transport` hides
all of that behind one call::

    transport = Transport(TransportConfig(delay=0))
    response = transport.get("http://127.0.0.1:8080/oai", {"verb": "Identify"})
    response.status, response.content     # (200, b'<?xml ...'), also for a 422

It retries timeouts, connection errors and the statuses in
:attr:`TransportConfig.retry_statuses` with capped exponential backoff, honours
``Retry-After`` up to :attr:`TransportConfig.max_retry_after`, waits a polite delay between
two requests to the same host, and returns the body *whatever* the final HTTP status, because
the caller (:mod:`harvesters.oaipage`) is the one who knows whether a body is an OAI answer.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

log = logging.getLogger("lienhop.harvest")

DEFAULT_USER_AGENT = "lienhop-harvester/0.1 (+https://github.com/vlc-lienhop/lienhop)"


#: failures without a usable response: timeouts, resets, a body cut short mid-transfer
_RETRYABLE_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class TransportError(Exception):
    """Raised when a request still fails after every retry (no usable HTTP response)."""


@dataclass(frozen=True)
class TransportConfig:
    """Tunable knobs of :class:`Transport`; defaults suit production harvesting."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    #: retries after the first attempt
    max_retries: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    #: cap on a server-requested ``Retry-After`` wait; a provider asking for a day is capped
    max_retry_after: float = 3600.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    #: seconds between the end of one request and the start of the next to the same host
    delay: float = 1.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpResponse:
    """What came back: the final status, headers, body bytes (already un-gzipped)."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str
    attempts: int = 1


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the wait, in seconds, a ``Retry-After`` header asks for, or ``None``.

    Both forms of RFC 9110 are accepted: delay-seconds and an HTTP-date.  A date in the past
    means "now" (0); garbage means "no advice".

    >>> parse_retry_after("120")
    120.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC))
    60.0
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class Transport:
    """A polite, retrying HTTP GET client around one :class:`requests.Session`.

    :param config: the knobs; see :class:`TransportConfig`.
    :param sleep: the sleeping function, injectable so tests run instantly.
    :param clock: a monotonic clock, injectable for the same reason.
    :param session: an existing session to reuse (e.g. with adapters mounted).

    One transport may be shared by threads harvesting different hosts; the per-host delay is
    tracked under a lock.  ``requests`` itself sends ``Accept-Encoding: gzip, deflate`` and
    decodes such bodies, which is exactly OAI-PMH's compression (§3.1.3).
    """

    def __init__(
        self,
        config: TransportConfig | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config or TransportConfig()
        self.sleep = sleep
        self.clock = clock
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.config.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.headers["Accept"] = "text/xml, application/xml;q=0.9, */*;q=0.1"
        self.session.headers.update(self.config.headers)
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url`` with ``params``; retry as configured; return the final response.

        :raises TransportError: when no HTTP response could be obtained after all retries
            (timeouts, resets, DNS).  A final 4xx/5xx is *returned*, not raised.
        """
        cfg = self.config
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(url)
            try:
                resp = self.session.get(
                    url, params=params, timeout=(cfg.connect_timeout, cfg.read_timeout)
                )
                # Reading the body inside the try: a reset mid-body surfaces here.
                content = resp.content
            except _RETRYABLE_ERRORS as exc:
                self._mark_done(url)
                if attempt > cfg.max_retries:
                    log.error(
                        "event=http_give_up url=%s attempts=%d error=%r", url, attempt, exc
                    )
                    raise TransportError(
                        f"{url}: no response after {attempt} attempts: {exc}"
                    ) from exc
                wait = self._backoff(attempt)
                log.warning(
                    "event=http_retry url=%s attempt=%d reason=%s wait=%.1f",
                    url, attempt, type(exc).__name__, wait,
                )
                self.sleep(wait)
                continue
            except requests.RequestException as exc:  # invalid URL, too many redirects...
                self._mark_done(url)
                raise TransportError(f"{url}: {exc}") from exc
            self._mark_done(url)
            if resp.status_code in cfg.retry_statuses and attempt <= cfg.max_retries:
                advised = parse_retry_after(resp.headers.get("Retry-After"))
                wait = self._backoff(attempt) if advised is None else advised
                wait = min(wait, cfg.max_retry_after)
                log.warning(
                    "event=http_retry url=%s attempt=%d status=%d retry_after=%s wait=%.1f",
                    url, attempt, resp.status_code, resp.headers.get("Retry-After"), wait,
                )
                self.sleep(wait)
                continue
            return HttpResponse(
                status=resp.status_code,
                headers=dict(resp.headers),
                content=content,
                url=resp.url,
                attempts=attempt,
            )

    def _backoff(self, attempt: int) -> float:
        cfg = self.config
        return min(cfg.backoff_max, cfg.backoff_base ** (attempt - 1))

    def _wait_turn(self, url: str) -> None:
        if self.config.delay <= 0:
            return
        host = urlsplit(url).netloc
        with self._lock:
            last = self._last_request.get(host)
        if last is not None:
            remaining = self.config.delay - (self.clock() - last)
            if remaining > 0:
                self.sleep(remaining)

    def _mark_done(self, url: str) -> None:
        if self.config.delay <= 0:
            return
        with self._lock:
            self._last_request[urlsplit(url).netloc] = self.clock()
