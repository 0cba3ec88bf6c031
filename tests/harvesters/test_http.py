"""Transport: retries, Retry-After (seconds and HTTP date), politeness, bodies on 4xx."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from harvesters.http import (
    DEFAULT_USER_AGENT,
    RetriesExhausted,
    Transport,
    TransportConfig,
    TransportError,
    parse_retry_after,
)


def test_parse_retry_after_forms():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 12:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0  # past
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("tomorrow-ish") is None


def test_user_agent_and_gzip(server, fast_transport):
    resp = fast_transport.get(server.url, {"verb": "Identify"})
    assert resp.status == 200 and b"<Identify>" in resp.content  # gunzipped for us
    assert resp.headers.get("Content-Encoding") == "gzip"
    assert server.user_agents == [DEFAULT_USER_AGENT]
    assert DEFAULT_USER_AGENT.startswith("lienhop-harvester/")


def test_custom_user_agent_is_sent(server):
    t = Transport(TransportConfig(delay=0, user_agent="lienhop-test/9 (+mailto:x@y.vn)"))
    t.get(server.url, {"verb": "Identify"})
    assert server.user_agents == ["lienhop-test/9 (+mailto:x@y.vn)"]


def test_retry_after_seconds_is_honoured(server, fast_transport):
    server.inject("unavailable", times=2, retry_after="3")
    resp = fast_transport.get(server.url, {"verb": "Identify"})
    assert resp.status == 200 and resp.attempts == 3
    assert fast_transport.sleeps == [3.0, 3.0]


def test_retry_after_http_date_is_honoured_and_capped(server, fast_transport):
    server.inject("unavailable", retry_after=datetime.now(UTC) + timedelta(hours=5))
    resp = fast_transport.get(server.url, {"verb": "Identify"})
    assert resp.status == 200
    assert fast_transport.sleeps == [5.0]  # the configured cap, not 5 hours


def test_retry_after_http_date_in_near_future(server, fast_transport):
    server.inject("unavailable", retry_after=datetime.now(UTC) + timedelta(seconds=3))
    fast_transport.get(server.url, {"verb": "Identify"})
    assert 1.0 <= fast_transport.sleeps[0] <= 3.0


@pytest.mark.parametrize("status", [429, 500, 502, 504])
def test_other_retryable_statuses_back_off_exponentially(server, fast_transport, status):
    server.inject("unavailable", times=3, status=status)
    resp = fast_transport.get(server.url, {"verb": "Identify"})
    assert resp.status == 200
    assert fast_transport.sleeps == [1.0, 2.0, 4.0]


def test_backoff_is_capped(server):
    sleeps: list[float] = []
    t = Transport(TransportConfig(delay=0, max_retries=6, backoff_base=10, backoff_max=30),
                  sleep=sleeps.append)
    server.inject("unavailable", times=4, status=502)
    t.get(server.url, {"verb": "Identify"})
    assert sleeps == [1.0, 10.0, 30.0, 30.0]


def test_gives_up_naming_the_last_status(server, fast_transport):
    # not the 503's HTML body handed on to be misread as "an HTML page instead of OAI-PMH"
    server.inject("unavailable", times=99, retry_after="3")
    with pytest.raises(RetriesExhausted) as info:
        fast_transport.get(server.url, {"verb": "Identify"})
    assert "HTTP 503 after 4 retries (Retry-After: 3)" in str(info.value)
    assert "busy" not in str(info.value)  # the body stays out of the message
    assert (info.value.status, info.value.retries) == (503, 4)
    assert info.value.response.attempts == 5 and fast_transport.sleeps == [3.0] * 4


def test_oai_error_body_is_returned_on_422():
    from harvesters.demo_server import OAIDevServer

    with OAIDevServer([], error_status=422) as srv:
        t = Transport(TransportConfig(delay=0))
        resp = t.get(srv.url, {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    assert resp.status == 422 and b'code="noRecordsMatch"' in resp.content


def test_connection_dropped_mid_body_is_retried(server, fast_transport):
    server.inject("drop", verb="ListRecords")
    resp = fast_transport.get(server.url, {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    assert resp.status == 200 and resp.content.rstrip().endswith(b"</OAI-PMH>")
    assert resp.attempts == 2


def test_read_timeout_is_retried(server):
    sleeps: list[float] = []
    t = Transport(TransportConfig(delay=0, read_timeout=0.3, max_retries=2), sleep=sleeps.append)
    server.inject("delay", seconds=1.0)
    resp = t.get(server.url, {"verb": "Identify"})
    assert resp.status == 200 and resp.attempts == 2 and sleeps == [1.0]


def test_connection_refused_raises_after_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    t = Transport(TransportConfig(delay=0, max_retries=2), sleep=sleeps.append)
    with pytest.raises(TransportError, match="3 attempts"):
        t.get(f"http://127.0.0.1:{port}/oai", {"verb": "Identify"})
    assert sleeps == [1.0, 2.0]


def test_polite_delay_between_requests_to_one_host(server):
    clock = [100.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock[0] += s

    t = Transport(TransportConfig(delay=2.0), sleep=sleep, clock=lambda: clock[0])
    t.get(server.url, {"verb": "Identify"})
    clock[0] += 0.5
    t.get(server.url, {"verb": "Identify"})
    assert sleeps == [1.5]
