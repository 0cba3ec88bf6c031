"""HTTP transport for OAI-PMH harvesting.

OAI-PMH runs over plain HTTP, but real data providers are flaky: they answer 503 with a
``Retry-After`` (in seconds *or* as an HTTP date), reset connections, time out under deep
paging, and send OAI errors in 4xx bodies (Zenodo answers ``422``).  :class:`Transport` hides
all of that behind one call::

    transport = Transport(TransportConfig(delay=0))
    response = transport.get("http://127.0.0.1:8080/oai", {"verb": "Identify"})
    response.status, response.content     # (200, b'<?xml ...'), also for a 422

It retries timeouts, connection errors, undecodable (corrupt gzip) bodies and the statuses in
:attr:`TransportConfig.retry_statuses` with capped exponential backoff, honours
``Retry-After`` up to :attr:`TransportConfig.max_retry_after`, and waits a polite delay between
two requests to the same host.  It returns the body *whatever* the final HTTP status outside
``retry_statuses`` (a 4xx included), because the caller (:mod:`harvesters.page`) is the one
who knows whether a body is an OAI answer; a retryable status that persists after every retry
raises :class:`RetriesExhausted` ("HTTP 503 after 5 retries") instead.

Bounds, for servers that misbehave or are hostile:

- **Body size.**  The body is read streamed and stops at
  :attr:`TransportConfig.max_response_bytes`, counted both on the wire and after
  decompression (:class:`ResponseTooLarge`, not retried); a ``Content-Length`` over the cap
  is refused before reading.  Decompression (``gzip``, ``x-gzip``, ``deflate`` as zlib or raw
  deflate) is done by :mod:`harvesters.inflate` with ``zlib``'s ``max_length``, so a gzip
  bomb stops at the cap without ever holding much more than the cap in memory.  A body
  starting with the gzip magic bytes ``1f 8b`` is un-gzipped even when no
  ``Content-Encoding`` says so (``.gz`` files served as they are).
  :attr:`HttpResponse.content` is always the decoded body.
- **Destinations.**  Only ``http`` and ``https`` URLs are fetched, and redirects are followed
  here (at most :data:`MAX_REDIRECTS` hops).  With :attr:`TransportConfig.refuse_private`,
  every hop's host is resolved and refused (:class:`AddressRefused`, not retried) when *any*
  of its addresses is loopback, private, link-local, unspecified, multicast or reserved
  (:mod:`harvesters.netguard`) unless it lies in :attr:`TransportConfig.allowed_networks`;
  the address a direct connection actually reached is checked again, so a name that
  resolves differently the second time (DNS rebinding) is refused too.  (Through an HTTP
  proxy only the target's resolved addresses can be checked.)  A refusal never quotes a
  response body.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

from harvesters import netguard
from harvesters.inflate import BodyDecoder, BodyTooLarge, UnsupportedEncoding

log = logging.getLogger("lienhop.harvest")

DEFAULT_USER_AGENT = "lienhop-harvester/0.1 (+https://github.com/vlc-lienhop/lienhop)"

#: redirects followed for one request (each hop is checked like the first URL)
MAX_REDIRECTS = 5

#: the setting that sizes :attr:`TransportConfig.max_response_bytes`, named in errors
SIZE_SETTING = "LIENHOP_HARVEST_MAX_RESPONSE_MB"

_MB = 1024 * 1024
_CHUNK = 64 * 1024

#: failures without a usable response: timeouts, resets, a body cut short mid-transfer,
#: a body that does not decompress
_RETRYABLE_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class TransportError(Exception):
    """Raised when a request fails for good (no usable HTTP response)."""


class ResponseTooLarge(TransportError):
    """The body, as received or once decompressed, exceeds ``max_response_bytes``."""


class AddressRefused(TransportError):
    """The URL's scheme or host (or a redirect's) is one a harvest may not reach."""


class RetriesExhausted(TransportError):
    """A retryable status (429, 5xx) was still the answer after every retry.

    :ivar response: the last response (its body is *not* part of the message).
    """

    def __init__(self, message: str, response: HttpResponse, retries: int) -> None:
        super().__init__(message)
        self.response = response
        self.status = response.status
        self.retries = retries


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
    #: cap on one body, both the bytes received and the bytes after decompression
    max_response_bytes: int = 100 * _MB
    #: refuse loopback, private, link-local, unspecified, multicast and reserved addresses
    refuse_private: bool = False
    #: networks allowed despite ``refuse_private`` (e.g. ``127.0.0.0/8`` for a demo)
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


@dataclass(frozen=True)
class HttpResponse:
    """What came back: the final status, headers, body bytes (already un-gzipped)."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str
    attempts: int = 1


def _size(n: int) -> str:
    """``104857600`` -> ``'100 MB'``; small caps (tests) in bytes."""
    return f"{n / _MB:g} MB" if n >= _MB else f"{n} bytes"


def _too_large(url: str, limit: int, detail: str) -> ResponseTooLarge:
    return ResponseTooLarge(f"{url}: response body over {_size(limit)} ({SIZE_SETTING}): {detail}")


# --- destination guard at connection time -------------------------------------------------


def _guarded_adapter(allowed: Sequence[netguard.Network]) -> HTTPAdapter:
    """An adapter whose direct connections refuse a peer outside the address policy.

    The pre-check in :meth:`Transport._check_destination` resolved the host itself; this one
    looks at the address the socket actually reached, which a rebinding DNS server cannot
    change between the two lookups.
    """

    def check(conn: HTTPConnection, sock: socket.socket) -> None:
        try:
            peer = str(sock.getpeername()[0])
        except OSError:
            return
        why = netguard.address_refusal(peer, allowed)
        if why is not None:
            sock.close()
            addr = netguard.parse_address(peer)
            raise AddressRefused(
                f"host {conn.host!r} connected to {netguard.show(addr) if addr else peer}"
                f" ({why}), which is refused; allow it with {netguard.SETTING}"
            )

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check(self, sock)
            return sock

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check(self, sock)
            return sock

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            # only direct connections: proxied ones go through proxy_manager_for's pools
            self.poolmanager.pool_classes_by_scheme = {
                "http": GuardedHTTPPool, "https": GuardedHTTPSPool,
            }

    return GuardedAdapter()


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
    """A polite, retrying, bounded HTTP GET client around one :class:`requests.Session`.

    :param config: the knobs; see :class:`TransportConfig`.
    :param sleep: the sleeping function, injectable so tests run instantly.
    :param clock: a monotonic clock, injectable for the same reason.
    :param session: an existing session to reuse (e.g. with adapters mounted); with
        ``refuse_private`` a guarding adapter is mounted on it for ``http://`` and ``https://``.
    :param resolve: ``host, port -> addresses``, the lookup behind ``refuse_private``
        (:func:`harvesters.netguard.resolve`); injectable to test what DNS cannot be made to do.

    One transport may be shared by threads harvesting different hosts; the per-host delay is
    tracked under a lock.  It sends ``Accept-Encoding: gzip, deflate``, OAI-PMH's compression
    (§3.1.3), and decodes such bodies itself, within the size cap.
    """

    def __init__(
        self,
        config: TransportConfig | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
        resolve: Callable[[str, int | None], Sequence[str]] = netguard.resolve,
    ) -> None:
        self.config = config or TransportConfig()
        self.sleep = sleep
        self.clock = clock
        self.resolve = resolve
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.config.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.headers["Accept"] = "text/xml, application/xml;q=0.9, */*;q=0.1"
        self.session.headers.update(self.config.headers)
        if self.config.refuse_private:
            adapter = _guarded_adapter(self.config.allowed_networks)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
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

        A final status outside ``retry_statuses`` (a 4xx with an OAI error, say) is
        *returned*, not raised.

        :raises RetriesExhausted: a retryable status (429, 5xx) after every retry.
        :raises ResponseTooLarge: the body exceeds ``max_response_bytes`` (not retried).
        :raises AddressRefused: the URL or a redirect points where a harvest may not go.
        :raises TransportError: no response after all retries (timeouts, resets, DNS, corrupt
            compressed bodies), or a request that cannot succeed (invalid URL, redirect loop).
        """
        cfg = self.config
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(url)
            try:
                status, headers, content, final_url = self._fetch(url, params)
            except _RETRYABLE_ERRORS as exc:
                if attempt > cfg.max_retries:
                    log.error(
                        "event=http_give_up url=%s attempts=%d error=%r", url, attempt, exc
                    )
                    what = ("undecodable body"
                            if isinstance(exc, requests.exceptions.ContentDecodingError)
                            else "no response")
                    raise TransportError(
                        f"{url}: {what} after {attempt} attempts: {exc}"
                    ) from exc
                wait = self._backoff(attempt)
                log.warning(
                    "event=http_retry url=%s attempt=%d reason=%s wait=%.1f",
                    url, attempt, type(exc).__name__, wait,
                )
                self.sleep(wait)
                continue
            except requests.RequestException as exc:  # invalid URL...
                raise TransportError(f"{url}: {exc}") from exc
            except TransportError as exc:
                log.error("event=http_refused url=%s error_type=%s error=%s",
                          url, type(exc).__name__, exc)
                raise
            finally:
                self._mark_done(url)
            response = HttpResponse(
                status=status, headers=dict(headers), content=content, url=final_url,
                attempts=attempt,
            )
            if status not in cfg.retry_statuses:
                return response
            retry_after = headers.get("Retry-After")
            if attempt > cfg.max_retries:
                advice = f" (Retry-After: {retry_after})" if retry_after else ""
                log.error("event=http_give_up url=%s attempts=%d status=%d retry_after=%s",
                          url, attempt, status, retry_after)
                raise RetriesExhausted(
                    f"{url}: HTTP {status} after {attempt - 1} retries{advice}",
                    response, attempt - 1,
                )
            advised = parse_retry_after(retry_after)
            wait = self._backoff(attempt) if advised is None else advised
            wait = min(wait, cfg.max_retry_after)
            log.warning(
                "event=http_retry url=%s attempt=%d status=%d retry_after=%s wait=%.1f",
                url, attempt, status, retry_after, wait,
            )
            self.sleep(wait)

    def _fetch(
        self, url: str, params: Mapping[str, str] | None
    ) -> tuple[int, Mapping[str, str], bytes, str]:
        """One attempt: follow redirects (each hop checked), read the body within bounds."""
        cfg = self.config
        current, current_params = url, params
        for hop in range(MAX_REDIRECTS + 1):
            self._check_destination(current, url if hop else None)
            resp = self.session.get(
                current, params=current_params, stream=True, allow_redirects=False,
                timeout=(cfg.connect_timeout, cfg.read_timeout),
            )
            try:
                if resp.is_redirect:
                    current, current_params = _redirect_target(resp), None
                    continue
                content = self._read_body(resp)
                # (the case-insensitive mapping: a Retry-After may come as retry-after)
                return resp.status_code, resp.headers, content, resp.url
            finally:
                resp.close()
        raise TransportError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {current})")

    def _check_destination(self, url: str, origin: str | None) -> None:
        """Refuse a non-http(s) URL, and with ``refuse_private`` a host in a refused network.

        :param origin: the URL that redirected here, for the message.
        """
        where = f"{origin}: redirect to {url}" if origin else url
        why = netguard.scheme_refusal(url)
        if why is not None:
            raise AddressRefused(f"{where}: {why}")
        if not self.config.refuse_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError as exc:
            raise TransportError(f"{where}: invalid URL: {exc}") from exc
        try:
            addresses = self.resolve(host, port)
        except OSError as exc:  # the name does not resolve: retried like a DNS failure
            raise requests.ConnectionError(f"cannot resolve host {host!r}: {exc}") from exc
        why = netguard.refusal(host, addresses, self.config.allowed_networks)
        if why is not None:
            raise AddressRefused(f"{where}: {why}")

    def _read_body(self, resp: requests.Response) -> bytes:
        """The decoded body of a streamed response, read within ``max_response_bytes``."""
        limit = self.config.max_response_bytes
        url = resp.url
        declared = (resp.headers.get("Content-Length") or "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(url, limit, f"Content-Length is {int(declared)} bytes")
        try:
            decoder = BodyDecoder(resp.headers.get("Content-Encoding") or "", limit, url)
        except UnsupportedEncoding as exc:
            raise TransportError(
                f"{url}: unsupported Content-Encoding {str(exc)!r} (we accept gzip, deflate)"
            ) from None
        received = 0
        try:
            for chunk in resp.raw.stream(_CHUNK, decode_content=False):
                received += len(chunk)
                if received > limit:
                    raise _too_large(url, limit, f"more than {limit} bytes received")
                decoder.feed(chunk)
            return decoder.finish()
        except BodyTooLarge as exc:
            raise _too_large(url, limit, str(exc)) from None
        # the same translation requests' iter_content does for its own reads
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.ConnectionError(exc) from exc
        except Urllib3SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc

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


def _redirect_target(resp: requests.Response) -> str:
    """The absolute URL a redirect points to (``Location`` may be relative)."""
    location = resp.headers["Location"]
    with contextlib.suppress(UnicodeError):  # as requests does: latin-1 in, UTF-8 meant
        location = location.encode("latin1").decode("utf8")
    return requests.utils.requote_uri(urljoin(resp.url, location))
