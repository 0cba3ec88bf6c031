"""A per-client-address rate limit on the public search and resolver pages.

Each client address has a token bucket: it may send ``LIENHOP_RATE_BURST`` requests at once,
then ``LIENHOP_RATE_LIMIT`` per second, sustained. A request over the limit is answered 429
with ``Retry-After`` (seconds) before any of its work is done: a short page in the reader's
language, JSON on ``/api/`` and ``/resolve/api``, plain text on ``/oai``. A refused request
costs no token, so a client that keeps sending too fast is still served at the limit.

What is limited: the pages that search, resolve or read records (:data:`LIMITED_ENDPOINTS`).
Not static files, ``/healthz``, the home page or the admin pages (the login has its own
throttle, by client and account).

Who is a client: :func:`resolver.registry.campus.client_ip`, which believes ``X-Forwarded-For``
only from ``LIENHOP_TRUSTED_PROXIES``, so a client cannot choose its bucket. An IPv6 client
is its /64: one host or household usually has a whole /64 and could otherwise take a fresh
address, and a fresh bucket, for every request. A request without a usable address (a Unix
socket) is not limited: there is nothing to tell its sender from everyone else.

Buckets live in each process. Under gunicorn every worker keeps its own, so one address may
get up to ``workers × LIENHOP_RATE_LIMIT`` requests per second in all (connections are spread
over the workers). That is accepted on purpose: no shared store (Redis, the database) sits in
the path of every request or fails with it, and the limit's job is to keep one address from
taking the whole server, not to meter it exactly; a generous effective limit also means that
a campus behind one NAT address is slowed by a neighbour's bot no more than necessary.

Memory is bounded: at most :data:`MAX_CLIENTS` addresses are remembered, the least recently
seen forgotten first (about 30 MB per process when full). A forgotten address that comes back
starts with a full bucket, which is what a quiet one would have anyway.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _

from resolver.registry.campus import client_ip, parse_ip
from resolver.settings import Settings
from resolver.web import services
from resolver.web.security import wants_json

log = logging.getLogger("lienhop.ratelimit")

#: the views that search, resolve or read records: everything a crawler or a script could
#: hammer at a real cost to the server (the sitemaps list every record)
LIMITED_ENDPOINTS = frozenset({
    "search.results", "api.search", "api.record", "record.show", "record.download",
    "resolve.menu", "resolve.api", "resolve.go", "resolve.delivery",
    "resolve.choose_institution", "oai.oai", "meta.sitemap", "meta.sitemap_part",
})

#: client addresses remembered per process
MAX_CLIENTS = 100_000


# --- pure core ------------------------------------------------------------------------------

class Decision(NamedTuple):
    """What :meth:`TokenBuckets.take` decided for one request."""

    #: seconds until the client may send again; 0.0: this request may go ahead
    wait: float
    #: the first refusal since this client's bucket was last full (worth one log line: a
    #: client kept at the rate is served and refused in turn, and would log every time)
    first_refusal: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait == 0.0


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, refilled at ``rate`` per second.

    Thread-safe (gthread workers share it). ``clock`` is injectable for tests and must be
    monotonic.
    """

    def __init__(self, rate: float, burst: float, *, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (a limit of 0 means: no TokenBuckets)")
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self.rate = float(rate)
        # Below one token no request could ever pass: a burst of 0 means "no bursts".
        self.burst = max(float(burst), 1.0)
        self.max_clients = max_clients
        self._clock = clock
        # key -> [tokens, time of last update, refusing]; a list, updated in place
        self._buckets: OrderedDict[str, list[float | bool]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, key: object) -> bool:
        return key in self._buckets

    def take(self, key: str) -> Decision:
        """Spend one of ``key``'s tokens, if it has one."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = [self.burst, now, False]
                self._buckets[key] = bucket
                if len(self._buckets) > self.max_clients:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - float(bucket[1]))
                bucket[0] = min(self.burst, float(bucket[0]) + elapsed * self.rate)
                bucket[1] = now
            tokens = float(bucket[0])
            if tokens >= self.burst:  # quiet long enough: a new episode may begin
                bucket[2] = False
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return Decision(0.0)
            first = not bucket[2]
            bucket[2] = True
            return Decision((1.0 - tokens) / self.rate, first)


def bucket_key(ip: str) -> str:
    """The bucket of a client address: IPv4 as it is, IPv6 by its /64."""
    addr = parse_ip(ip)
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr) if addr is not None else ip


def retry_after(wait: float) -> int:
    """``Retry-After`` in whole seconds: rounded up, at least 1."""
    return max(1, math.ceil(wait))


# --- Flask glue -----------------------------------------------------------------------------

def too_many_requests(seconds: int) -> Response:
    """The 429 answer, in the form the current path's clients read."""
    message = _("Too many requests from your address in a short time. "
                "Please try again in %(seconds)s s.", seconds=seconds)
    if wants_json(request.path):
        resp = jsonify({"error": message, "retry_after": seconds})
    elif request.path == "/oai":  # harvesters read text, not a page
        resp = Response(message + "\n", mimetype="text/plain")
    else:
        # the self-contained page: a refusal should cost less than the page it refuses
        resp = make_response(render_template("error_plain.html", title=_("Too many requests"),
                                             message=message))
    resp.status_code = 429
    resp.headers["Retry-After"] = str(seconds)
    return resp


def init_app(app: Flask, settings: Settings) -> None:
    """Limit :data:`LIMITED_ENDPOINTS` per client address; nothing when the limit is 0.

    Call it right after :func:`resolver.web.security.init_app`: the body limit comes first, and
    this hook must run before any other (CSRFProtect reads the form, the views the index).
    """
    if settings.rate_limit <= 0:
        log.info("rate limit off (LIENHOP_RATE_LIMIT=0)")
        return
    buckets = TokenBuckets(settings.rate_limit, settings.rate_burst)
    services.set_rate_limiter(app, buckets)
    proxies = settings.trusted_proxies
    warned_proxy = threading.Event()

    def limit() -> Response | None:
        if request.endpoint not in LIMITED_ENDPOINTS:
            return None
        forwarded = request.headers.get("X-Forwarded-For")
        ip = client_ip(request.remote_addr, forwarded, proxies)
        if ip is None:
            return None
        if forwarded and ip == str(parse_ip(request.remote_addr)) and not warned_proxy.is_set():
            _warn_if_untrusted_proxy(ip, warned_proxy)
        decision = buckets.take(bucket_key(ip))
        if decision.allowed:
            return None
        if decision.first_refusal:  # one line per episode, not one per refused request
            log.warning("rate limited", extra={"ip": ip, "rate": settings.rate_limit,
                                               "burst": settings.rate_burst})
        return too_many_requests(retry_after(decision.wait))

    app.before_request(limit)


def _warn_if_untrusted_proxy(peer: str, warned: threading.Event) -> None:
    # A local peer that forwards for others is almost certainly our own reverse proxy left
    # out of LIENHOP_TRUSTED_PROXIES: then every reader shares its one bucket.
    addr = parse_ip(peer)
    if addr is not None and (addr.is_loopback or addr.is_private):
        warned.set()
        log.warning("X-Forwarded-For from an untrusted local peer: if it is the reverse proxy, "
                    "list it in LIENHOP_TRUSTED_PROXIES, or all its clients share one "
                    "rate-limit bucket", extra={"peer": peer})
