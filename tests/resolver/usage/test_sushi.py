"""The SUSHI client against a tiny COUNTER_SUSHI5 server on 127.0.0.1 (no internet): the
``sushi`` fixture (tests/resolver/usage/conftest.py) over tests/support/sushi.py."""

from __future__ import annotations

import datetime as dt

import pytest

from resolver.usage.sushi import SushiConfig, SushiError, SushiNotReady, fetch_report
from tests.support.sushi import KEY, REPORT
from tests.support.usage import FIXTURES

D = dt.date
QUEUED = [{"Code": 1011, "Severity": "Warning", "Message": "Report Queued for Processing"}]
NOT_READY = {"Code": 3031, "Severity": "Warning", "Message": "Usage Not Ready for Requested "
                                                             "Dates"}
NO_USAGE = [{"Code": 3030, "Severity": "Error", "Message": "No Usage Available for Requested "
                                                           "Dates"}]
BAD_KEY = {"Code": 2020, "Severity": "Error", "Message": "API Key Invalid"}


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
