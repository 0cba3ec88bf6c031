"""The SUSHI client against a tiny COUNTER_SUSHI5 server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from resolver.usage.sushi import SushiConfig, SushiError, SushiNotReady, fetch_report

from .conftest import FIXTURES

D = dt.date
KEY = "s3cr3t-api-key"
QUEUED = [{"Code": 1011, "Severity": "Warning", "Message": "Report Queued for Processing"}]
NOT_READY = {"Code": 3031, "Severity": "Warning", "Message": "Usage Not Ready for Requested "
                                                             "Dates"}
NO_USAGE = [{"Code": 3030, "Severity": "Error", "Message": "No Usage Available for Requested "
                                                           "Dates"}]
BAD_KEY = {"Code": 2020, "Severity": "Error", "Message": "API Key Invalid"}


class Sushi:
    """A scripted server: each GET pops the next (status, body, headers) off ``script``."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict[str, str]]] = []
        self.seen: list[tuple[str, dict[str, list[str]]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                outer.seen.append((parts.path, parse_qs(parts.query)))
                status, body, headers = outer.script.pop(0)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/counter/r5"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def config(self) -> SushiConfig:
        return SushiConfig(self.url, "ECR-00012345", "req-77", KEY)


@pytest.fixture
def sushi():  # type: ignore[no-untyped-def]
    server = Sushi()
    yield server
    server.server.shutdown()
    server.server.server_close()


REPORT = (FIXTURES / "tr_j1_sciencedirect_hue_2024.json").read_bytes()


def test_fetch_sends_the_standard_parameters(sushi):
    sushi.script = [(200, REPORT, {})]
    rep = fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 3, 1))
    assert rep.report_id == "TR_J1" and len(rep.rows) == 8
    path, query = sushi.seen[0]
    assert path == "/counter/r5/reports/tr_j1"
    assert query == {"customer_id": ["ECR-00012345"], "requestor_id": ["req-77"],
                     "api_key": [KEY], "begin_date": ["2024-01"], "end_date": ["2024-03"]}


def test_queued_and_busy_are_retried(sushi):
    sushi.script = [(202, QUEUED, {"Retry-After": "7"}), (503, b"busy", {}),
                    (200, REPORT, {})]
    waits: list[float] = []
    rep = fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 3, 1), sleep=waits.append,
                       backoff=2)
    assert len(rep.rows) == 8
    assert waits == [7.0, 4.0]  # Retry-After first, then the backoff (2 · 2¹)


def test_no_usage_is_an_empty_report(sushi):
    sushi.script = [(200, NO_USAGE, {})]
    rep = fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 2, 1))
    assert rep.rows == [] and [e.code for e in rep.exceptions] == [3030]
    assert (rep.begin, rep.end) == (D(2024, 1, 1), D(2024, 2, 29))


def test_no_usage_inside_a_report_header(sushi):
    sushi.script = [(200, (FIXTURES / "exception_3030.json").read_bytes(), {})]
    rep = fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 1, 1))
    assert rep.rows == [] and rep.exceptions[0].code == 3030


def test_not_ready(sushi):
    sushi.script = [(200, {"Exceptions": [NOT_READY]}, {})]
    with pytest.raises(SushiNotReady) as exc:
        fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 1, 1))
    assert exc.value.exceptions[0].code == 3031


def test_still_queued_after_every_retry(sushi):
    sushi.script = [(202, QUEUED, {"Retry-After": "0"})] * 3
    with pytest.raises(SushiNotReady, match="1011"):
        fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 1, 1), retries=2,
                     sleep=lambda _s: None)
    assert len(sushi.seen) == 3


def test_refusals_are_not_retried_and_hide_the_key(sushi):
    sushi.script = [(401, BAD_KEY, {})]
    with pytest.raises(SushiError) as exc:
        fetch_report(sushi.config(), D(2024, 1, 1), D(2024, 1, 1))
    assert not isinstance(exc.value, SushiNotReady)
    assert "2020 API Key Invalid" in str(exc.value) and KEY not in str(exc.value)
    assert len(sushi.seen) == 1
    assert KEY not in repr(sushi.config())


def test_unreachable_server_hides_the_key():
    cfg = SushiConfig("http://127.0.0.1:9/counter/r5", "c", api_key=KEY)
    with pytest.raises(SushiError) as exc:
        fetch_report(cfg, D(2024, 1, 1), D(2024, 1, 1), retries=1, sleep=lambda _s: None,
                     timeout=2)
    assert KEY not in str(exc.value) and "ConnectionError" in str(exc.value)
