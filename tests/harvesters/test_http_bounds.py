"""Transport bounds over real local HTTP servers: body and decompression caps, gzip sniffing,
the address guard (every redirect hop, the connected peer), and the real cause after retries.
"""

from __future__ import annotations

import contextlib
import doctest
import gzip
import ipaddress
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from harvesters import http as http_module
from harvesters import netguard
from harvesters.client import OAIClient
from harvesters.demo_server import OAIDevServer
from harvesters.http import (
    AddressRefused,
    ResponseTooLarge,
    RetriesExhausted,
    Transport,
    TransportConfig,
    TransportError,
)
from harvesters.runner import RepositoryConfig, harvest_repository
from harvesters.sinks import MemorySink
from harvesters.state import MemoryCheckpointStore

MB = 1024 * 1024
XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-05-01T00:00:00Z'
    "</responseDate><request verb=\"Identify\">http://x/oai</request><Identify>"
    "<repositoryName>Thư viện số Đại học Huế</repositoryName></Identify></OAI-PMH>"
).encode()
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


# --- a tiny scriptable HTTP server ---------------------------------------------------------

@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: "auto" = the body's length; None = no Content-Length, the connection close ends it;
    #: an int = that value, whatever is sent
    length: int | str | None = "auto"


class LocalServer:
    """An HTTP/1.1 server on ``host`` in a thread, answering each path from :attr:`routes`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route | Callable[[int], Route]] = {}
        self.hits: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def handle(self) -> None:
                with contextlib.suppress(OSError):  # a client reset a connection it gave up on
                    super().handle()

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                owner.hits.append(self.path)
                route = owner.routes.get(path, Route(404, b"not found"))
                if callable(route):
                    route = route(len([h for h in owner.hits if urlsplit(h).path == path]))
                try:
                    self.send_response(route.status)
                    for k, v in route.headers.items():
                        self.send_header(k, v)
                    if route.length == "auto":
                        self.send_header("Content-Length", str(len(route.body)))
                    elif route.length is not None:
                        self.send_header("Content-Length", str(route.length))
                    if route.length is None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(route.body)
                except OSError:  # the client hung up on a body it refused: expected here
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                        daemon=True)

    def url(self, path: str = "/oai") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def srv() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture
def other() -> Iterator[LocalServer]:
    """A second server on 127.0.0.2, standing in for a public repository."""
    with LocalServer("127.0.0.2") as s:
        yield s


class Sleeps(list):
    pass


def transport(**kw: object) -> Transport:
    sleeps = Sleeps()
    config = {"delay": 0, "max_retries": 2, "connect_timeout": 2, "read_timeout": 5, **kw}
    t = Transport(TransportConfig(**config), sleep=sleeps.append)  # type: ignore[arg-type]
    t.sleeps = sleeps  # type: ignore[attr-defined]
    return t


# --- bombs -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A valid 1.5 MB gzip file that expands to 1.5 GiB of zeros (built in under a second:
    after a full flush, every 1 MiB block of zeros compresses to the same bytes)."""
    block_size, blocks = MB, 1536
    zeros = bytes(block_size)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp.compress(zeros)
    comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    size = (block_size * blocks) & 0xFFFFFFFF
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + block * blocks + comp.flush()
            + struct.pack("<II", crc, size))


def test_the_bomb_is_what_it_claims(gzip_bomb):
    assert 1.4 * MB < len(gzip_bomb) < 1.7 * MB
    head = zlib.decompressobj(31).decompress(gzip_bomb[:4096], 8 * MB)
    assert len(head) > 2 * MB and head == bytes(len(head))  # 4 KB of it: megabytes of zeros
    assert struct.unpack("<I", gzip_bomb[-4:])[0] == 1536 * MB  # ISIZE: 1.5 GiB


# --- 1. body size cap --------------------------------------------------------------------------

def test_defaults():
    cfg = TransportConfig()
    assert cfg.max_response_bytes == 100 * MB
    assert cfg.refuse_private is False and cfg.allowed_networks == ()


@pytest.mark.parametrize("length", ["auto", None], ids=["content-length", "close-delimited"])
def test_body_over_the_cap_is_refused_and_not_retried(srv, length):
    srv.routes["/oai"] = Route(body=b"<x>" + bytes(3 * MB), length=length)
    t = transport(max_response_bytes=1 * MB)
    with pytest.raises(ResponseTooLarge) as info:
        t.get(srv.url(), {"verb": "Identify"})
    assert "response body over 1 MB (LIENHOP_HARVEST_MAX_RESPONSE_MB)" in str(info.value)
    assert isinstance(info.value, TransportError)
    assert len(srv.hits) == 1 and t.sleeps == []


def test_content_length_over_the_cap_is_refused_before_reading(srv):
    # it *claims* 200 MB: nothing is read, the claim alone is enough
    srv.routes["/oai"] = Route(body=XML, length=200 * MB)
    t = transport(max_response_bytes=2 * MB)
    with pytest.raises(ResponseTooLarge, match=r"over 2 MB .*Content-Length is 209715200"):
        t.get(srv.url())


def test_streamed_body_over_the_cap_without_a_length_stops_early(srv):
    srv.routes["/oai"] = Route(body=bytes(3 * MB), length=None)
    t = transport(max_response_bytes=100_000)
    with pytest.raises(ResponseTooLarge, match=r"over 100000 bytes .*more than 100000 bytes"):
        t.get(srv.url())


def test_body_of_exactly_the_cap_passes(srv):
    srv.routes["/oai"] = Route(body=b"a" * 50_000)
    assert transport(max_response_bytes=50_000).get(srv.url()).content == b"a" * 50_000
    srv.routes["/oai"] = Route(body=b"a" * 50_001, length=None)
    with pytest.raises(ResponseTooLarge):
        transport(max_response_bytes=50_000).get(srv.url())


# --- 2. decompression within the same cap --------------------------------------------------------

@pytest.mark.parametrize("header", [True, False], ids=["content-encoding", "magic-bytes-only"])
def test_gzip_bomb_is_stopped_at_the_cap_without_the_memory(srv, gzip_bomb, header):
    headers = {"Content-Encoding": "gzip"} if header else {"Content-Type": "application/gzip"}
    srv.routes["/oai"] = Route(body=gzip_bomb, headers=headers)
    t = transport(max_response_bytes=2 * MB)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ResponseTooLarge) as info:
            t.get(srv.url(), {"verb": "ListRecords"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert "over 2 MB (LIENHOP_HARVEST_MAX_RESPONSE_MB): gzip body expands beyond it" \
        in str(info.value)
    assert peak < 8 * MB, f"{peak / MB:.1f} MB allocated for a 2 MB cap"
    assert len(srv.hits) == 1 and t.sleeps == []  # not retried


def test_bomb_message_with_the_default_cap_format():
    assert str(http_module._too_large("http://x/oai", 100 * MB, "d")) == \
        "http://x/oai: response body over 100 MB (LIENHOP_HARVEST_MAX_RESPONSE_MB): d"


def test_deflate_bomb_is_stopped_too(srv):
    body = zlib.compress(bytes(64 * MB), 9)  # ~64 KB
    srv.routes["/oai"] = Route(body=body, headers={"Content-Encoding": "deflate"})
    with pytest.raises(ResponseTooLarge, match="deflate body expands beyond it"):
        transport(max_response_bytes=1 * MB).get(srv.url())


def test_gzip_with_header_is_decoded(srv):
    srv.routes["/oai"] = Route(body=gzip.compress(XML), headers={"Content-Encoding": "gzip"})
    resp = transport().get(srv.url())
    assert resp.content == XML and resp.headers["Content-Encoding"] == "gzip"


def test_gzip_without_header_is_recognised_by_its_magic_bytes(srv):
    # what real servers do with a .gz file: no Content-Encoding at all
    srv.routes["/oai"] = Route(body=gzip.compress(XML), headers={"Content-Type": "text/xml"})
    assert transport().get(srv.url()).content == XML


def test_gzip_file_sent_with_gzip_encoding_is_decoded_twice(srv):
    srv.routes["/oai"] = Route(body=gzip.compress(gzip.compress(XML)),
                               headers={"Content-Encoding": "gzip"})
    assert transport().get(srv.url()).content == XML


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_in_both_forms(srv, wbits):
    comp = zlib.compressobj(6, zlib.DEFLATED, wbits)
    srv.routes["/oai"] = Route(body=comp.compress(XML) + comp.flush(),
                               headers={"Content-Encoding": "deflate"})
    assert transport().get(srv.url()).content == XML


def test_concatenated_gzip_members_and_chunked_transfer(srv):
    body = gzip.compress(XML[:50]) + gzip.compress(XML[50:])
    srv.routes["/oai"] = Route(body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body), length=None,
                               headers={"Content-Encoding": "x-gzip",
                                        "Transfer-Encoding": "chunked"})
    assert transport().get(srv.url()).content == XML


def test_plain_body_and_empty_bodies_pass_through(srv):
    srv.routes["/oai"] = Route(body=XML)
    srv.routes["/empty"] = Route(status=204, headers={"Content-Encoding": "gzip"}, length=0)
    srv.routes["/one"] = Route(body=b"x")
    t = transport()
    assert t.get(srv.url()).content == XML
    assert t.get(srv.url("/empty")).content == b""
    assert t.get(srv.url("/one")).content == b"x"


def test_corrupt_gzip_is_retried_then_fails_as_undecodable(srv):
    srv.routes["/oai"] = Route(body=b"\x1f\x8b\x08\x00garbage-not-deflate" * 4,
                               headers={"Content-Encoding": "gzip"})
    t = transport(max_retries=2)
    with pytest.raises(TransportError, match="undecodable body after 3 attempts: corrupt gzip"):
        t.get(srv.url())
    assert len(srv.hits) == 3 and t.sleeps == [1.0, 2.0]


def test_gzip_cut_short_is_retried_and_the_good_answer_kept(srv):
    whole = gzip.compress(XML)
    srv.routes["/oai"] = lambda n: Route(body=whole[: len(whole) // 2] if n == 1 else whole,
                                         headers={"Content-Encoding": "gzip"})
    resp = transport().get(srv.url())
    assert resp.content == XML and resp.attempts == 2


def test_unknown_content_encoding_is_a_clear_error(srv):
    srv.routes["/oai"] = Route(body=b"\x00\x01", headers={"Content-Encoding": "br"})
    t = transport()
    with pytest.raises(TransportError, match="unsupported Content-Encoding 'br'"):
        t.get(srv.url())
    assert t.sleeps == []


# --- 3. where a harvest may connect --------------------------------------------------------------

def test_loopback_is_refused_before_any_request(srv):
    srv.routes["/oai"] = Route(body=b"SECRET admin page")
    t = transport(refuse_private=True)
    with pytest.raises(AddressRefused) as info:
        t.get(srv.url(), {"verb": "Identify"})
    msg = str(info.value)
    assert "127.0.0.1 (loopback)" in msg and "LIENHOP_HARVEST_ALLOWED_NETWORKS" in msg
    assert "SECRET" not in msg
    assert srv.hits == [] and t.sleeps == []


def test_localhost_by_name_is_refused(srv):
    with pytest.raises(AddressRefused, match=r"host 'localhost' resolves to 127\.0\.0\.1"):
        transport(refuse_private=True).get(f"http://localhost:{srv.port}/oai")
    assert srv.hits == []


@pytest.mark.parametrize("url, why", [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local)"),
    ("http://[::ffff:127.0.0.1]:9/oai", "::ffff:127.0.0.1 (loopback)"),
    ("http://[::1]:9/oai", "::1 (loopback)"),
    ("http://0.0.0.0:9/oai", "0.0.0.0 (unspecified)"),
    ("http://10.1.2.3/oai", "10.1.2.3 (private)"),
    ("http://[fd00::1]/oai", "fd00::1 (private)"),
    ("http://2130706433:9/oai", "resolves to 127.0.0.1 (loopback)"),
])
def test_refused_destinations(url, why):
    t = transport(refuse_private=True)
    started = time.monotonic()
    with pytest.raises(AddressRefused, match=why.replace("(", r"\(").replace(")", r"\)")):
        t.get(url)
    assert time.monotonic() - started < 1 and t.sleeps == []  # refused, never connected


def test_allowed_networks_let_loopback_through(srv):
    srv.routes["/oai"] = Route(body=XML)
    t = transport(refuse_private=True, allowed_networks=LOOPBACK)
    assert t.get(srv.url()).content == XML
    assert t.get(f"http://localhost:{srv.port}/oai").content == XML


def test_public_host_redirecting_to_loopback_is_refused(srv, other):
    # 127.0.0.2 plays the public repository (allowed), 127.0.0.1 the app itself
    srv.routes["/admin"] = Route(body=b"SECRET admin page")
    other.routes["/oai"] = Route(302, b"moved", {"Location": srv.url("/admin")})
    t = transport(refuse_private=True,
                  allowed_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    with pytest.raises(AddressRefused) as info:
        t.get(other.url(), {"verb": "Identify"})
    msg = str(info.value)
    assert f"redirect to {srv.url('/admin')}" in msg and "127.0.0.1 (loopback)" in msg
    assert "LIENHOP_HARVEST_ALLOWED_NETWORKS" in msg and "SECRET" not in msg
    assert len(other.hits) == 1 and srv.hits == [] and t.sleeps == []


@pytest.mark.parametrize("location, why", [
    ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254 (link-local)"),
    ("file:///etc/passwd", "scheme 'file' is refused"),
    ("gopher://127.0.0.2:70/", "scheme 'gopher' is refused"),
])
def test_redirect_targets_are_checked_at_every_hop(other, location, why):
    other.routes["/oai"] = Route(301, b"", {"Location": location})
    t = transport(refuse_private=True, allowed_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    with pytest.raises(AddressRefused, match=why.replace("(", r"\(").replace(")", r"\)")):
        t.get(other.url())


def test_non_http_scheme_is_refused_even_without_the_guard():
    with pytest.raises(AddressRefused, match="scheme 'file' is refused"):
        transport().get("file:///etc/passwd")


def test_redirects_are_followed_within_the_limit(srv):
    srv.routes["/old"] = Route(302, b"", {"Location": "/mid?x=1"})
    srv.routes["/mid"] = Route(307, b"", {"Location": srv.url("/oai") + "?verb=Identify"})
    srv.routes["/oai"] = Route(body=XML)
    resp = transport(refuse_private=True, allowed_networks=LOOPBACK).get(srv.url("/old"))
    assert resp.content == XML and resp.url == srv.url("/oai") + "?verb=Identify"
    assert [urlsplit(h).path for h in srv.hits] == ["/old", "/mid", "/oai"]


def test_redirect_loop_fails_without_retrying(srv):
    srv.routes["/loop"] = Route(302, b"", {"Location": "/loop"})
    t = transport()
    with pytest.raises(TransportError, match="more than 5 redirects"):
        t.get(srv.url("/loop"))
    assert len(srv.hits) == 6 and t.sleeps == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_rebinding_dns_is_caught_at_connect_time(srv, scheme):
    """The name resolved to a public address when checked, to loopback when connecting
    (for https, the refusal comes before the TLS handshake)."""
    srv.routes["/oai"] = Route(body=b"SECRET")
    t = Transport(TransportConfig(delay=0, refuse_private=True),
                  resolve=lambda host, port: ["203.162.4.190"])
    with pytest.raises(AddressRefused) as info:
        t.get(f"{scheme}://localhost:{srv.port}/oai")
    assert "host 'localhost' connected to 127.0.0.1 (loopback)" in str(info.value)
    assert srv.hits == []  # refused before a request line was sent


def test_unresolvable_host_is_retried_like_a_dns_failure():
    def no_dns(host: str, port: int | None) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    sleeps: list[float] = []
    t = Transport(TransportConfig(delay=0, max_retries=1, refuse_private=True),
                  sleep=sleeps.append, resolve=no_dns)
    with pytest.raises(TransportError, match="no response after 2 attempts: cannot resolve"):
        t.get("http://repo.example.invalid/oai")
    assert sleeps == [1.0]


def test_session_keeps_working_with_the_guard(srv):
    srv.routes["/oai"] = Route(body=XML)
    t = transport(refuse_private=True, allowed_networks=LOOPBACK)
    for _ in range(3):  # a reused keep-alive connection stays fine
        assert t.get(srv.url()).content == XML


# --- 4. the real cause after retries --------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_persistent_retryable_status_is_named(srv, status):
    srv.routes["/oai"] = Route(status, b"<html>busy</html>", {"Content-Type": "text/html"})
    t = transport(max_retries=3)
    with pytest.raises(RetriesExhausted, match=f"HTTP {status} after 3 retries$"):
        t.get(srv.url())
    assert len(srv.hits) == 4 and t.sleeps == [1.0, 2.0, 4.0]


def test_lowercase_retry_after_is_honoured_and_named(srv):
    srv.routes["/oai"] = Route(503, b"busy", {"retry-after": "7"})
    t = transport(max_retries=1, max_retry_after=10)
    with pytest.raises(RetriesExhausted, match=r"HTTP 503 after 1 retries \(Retry-After: 7\)"):
        t.get(srv.url())
    assert t.sleeps == [7.0]


def test_non_retryable_4xx_body_is_still_returned(srv):
    srv.routes["/oai"] = Route(404, XML)
    resp = transport().get(srv.url())
    assert (resp.status, resp.content, resp.attempts) == (404, XML, 1)


def test_client_reports_503_not_a_misleading_html_error(fast_transport):
    with OAIDevServer([]) as dev:
        dev.inject("unavailable", times=99, retry_after="1")
        client = OAIClient(dev.url, transport=fast_transport)
        with pytest.raises(RetriesExhausted) as info:
            client.identify()
    assert "HTTP 503 after 4 retries (Retry-After: 1)" in str(info.value)
    assert "HTML" not in str(info.value)


def test_a_run_names_the_503_as_its_error(fast_transport):
    with OAIDevServer([]) as dev:
        dev.inject("unavailable", times=99)
        report = harvest_repository(
            RepositoryConfig("hue", "Huế", dev.url), sink=MemorySink(),
            state=MemoryCheckpointStore(),
            client_factory=lambda r: OAIClient(r.oai_url, transport=fast_transport))
    assert report.status == "failed"
    assert any("HTTP 503 after 4 retries" in e for e in report.errors), report.errors


# --- the address policy itself ---------------------------------------------------------------

@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("172.31.255.255", "private"),
    ("192.168.1.1", "private"), ("100.100.100.200", "private"), ("fc00::1", "private"),
    ("fd12:3456::1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("0.0.0.0", "unspecified"),  # noqa: S104 ("::", "unspecified"), ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"), ("255.255.255.255", "reserved"), ("240.0.0.1", "reserved"),
    ("::ffff:169.254.169.254", "link-local"), ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"), ("2002:a00:1::", "private"),
    ("203.162.4.190", None), ("8.8.8.8", None), ("172.32.0.1", None),
    ("2001:4860:4860::8888", None), ("::ffff:8.8.8.8", None),
])
def test_address_categories(address, expected):
    assert netguard.category(address) == expected


def test_allowed_networks_cover_mapped_forms():
    allowed = netguard.networks("127.0.0.0/8")
    assert netguard.address_refusal("::ffff:127.0.0.1", allowed) is None
    assert netguard.address_refusal("::1", allowed) == "loopback"  # IPv6 loopback: separate
    assert netguard.refusal("h", ["203.162.4.190", "10.0.0.1"], allowed).startswith(
        "host 'h' resolves to 10.0.0.1 (private)")


def test_module_doctests():
    for module in (netguard, http_module):
        result = doctest.testmod(module)
        assert result.failed == 0 and (module is http_module or result.attempted > 10)
