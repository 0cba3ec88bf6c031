"""A COUNTER_SUSHI5 API client: fetch one report for one customer, politely.

``GET {base}/reports/{tr_j1|tr|dr|…}?customer_id=&requestor_id=&api_key=&begin_date=
&end_date=`` returns a COUNTER JSON report, or COUNTER Exceptions instead of one. What an
Exception means here:

* 1000 Service Not Available, 1010 Service Busy, 1011 Report Queued for Processing,
  1020 Too Many Requests (and HTTP 429/5xx): try again after ``Retry-After`` or a backoff;
* 3030 No Usage Available: a valid, empty report (kept, so the import records it);
* 3031 Usage Not Ready: alone, :class:`SushiNotReady` (come back next week); inside a
  report's header, the months that are ready are returned with the Exception kept;
* anything else alone (2000 not authorised, 2020 bad API key, 3000 report not supported…):
  :class:`SushiError`, no retry.

The API key travels in the query string (the standard says so); it never appears in an
error message or a log line.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from resolver.usage.counter import CounterError, CounterException, CounterReport, parse_counter_json

log = logging.getLogger("lienhop.sushi")

RETRY_CODES = {1000, 1010, 1011, 1020}
NO_USAGE, NOT_READY = 3030, 3031
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_WAIT = 300.0


@dataclass(frozen=True)
class SushiConfig:
    base_url: str
    customer_id: str
    requestor_id: str = ""
    api_key: str = ""
    platform: str = ""

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return (f"SushiConfig(base_url={self.base_url!r}, customer_id={self.customer_id!r}, "
                f"api_key={'***' if self.api_key else ''!r})")


class SushiError(Exception):
    """The server refused or failed; ``exceptions`` are the COUNTER Exceptions it sent."""

    def __init__(self, message: str, exceptions: list[CounterException] | None = None) -> None:
        super().__init__(message)
        self.exceptions = exceptions or []


class SushiNotReady(SushiError):
    """Usage for the period is not ready yet (3031, or still queued after every retry)."""


def _exceptions(doc: Any) -> list[CounterException]:
    """Exceptions sent instead of a report: a list, one object, or {"Exceptions": […]}."""
    items: list[Any] = []
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        if "Code" in doc:
            items = [doc]
        elif isinstance(doc.get("Exceptions"), list):
            items = doc["Exceptions"]
        elif isinstance(doc.get("Exception"), dict):
            items = [doc["Exception"]]
    out = []
    for e in items:
        if isinstance(e, dict) and "Code" in e:
            try:
                code = int(e["Code"])
            except (TypeError, ValueError, OverflowError):  # "abc", 1e400
                code = 0
            out.append(CounterException(code, str(e.get("Severity") or ""),
                                        str(e.get("Message") or ""), str(e.get("Data") or "")))
    return out


def _retry_after(resp: requests.Response | None, attempt: int, base: float) -> float:
    value = resp.headers.get("Retry-After") if resp is not None else None
    if value:
        try:
            return min(MAX_WAIT, max(0.0, float(value)))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return min(MAX_WAIT, max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds()))
            except (TypeError, ValueError):
                pass
    return min(MAX_WAIT, base * 2.0 ** attempt)


def _describe(excs: list[CounterException]) -> str:
    return "; ".join(f"{e.code} {e.message}".strip() for e in excs) or "no details"


def fetch_report(
    cfg: SushiConfig, begin: dt.date, end: dt.date, *, report: str = "tr_j1",
    http: requests.Session | None = None, retries: int = 4, backoff: float = 5.0,
    timeout: float = 120.0, sleep: Callable[[float], None] = time.sleep,
) -> CounterReport:
    """Fetch ``report`` for the months ``begin``..``end`` and parse it."""
    url = cfg.base_url.rstrip("/") + "/reports/" + report.lower()
    params = {"customer_id": cfg.customer_id, "begin_date": f"{begin:%Y-%m}",
              "end_date": f"{end:%Y-%m}"}
    for key in ("requestor_id", "api_key", "platform"):
        if getattr(cfg, key):
            params[key] = getattr(cfg, key)
    http = http or requests.Session()
    last: list[CounterException] = []
    for attempt in range(retries + 1):
        resp: requests.Response | None = None
        try:
            resp = http.get(url, params=params, timeout=timeout,
                            headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            # The exception's text holds the URL, with the API key: say only what failed.
            reason = type(exc).__name__
            if attempt == retries:
                raise SushiError(f"{url}: {reason} after {retries + 1} attempts") from None
            wait = _retry_after(None, attempt, backoff)
            log.warning("sushi: url=%s error=%s retry_in=%.0fs", url, reason, wait)
            sleep(wait)
            continue
        try:
            doc = resp.json()
        except (ValueError, RecursionError):  # not JSON, or nested past Python's stack
            doc = None
        excs = _exceptions(doc)
        is_report = isinstance(doc, dict) and isinstance(doc.get("Report_Header"), dict)
        codes = {e.code for e in (excs if not is_report else _exceptions(
            doc["Report_Header"]))}
        retry = resp.status_code in RETRY_STATUSES or (codes & RETRY_CODES and (
            not is_report or not doc.get("Report_Items")))
        if retry:
            last = excs
            if attempt == retries:
                break
            wait = _retry_after(resp, attempt, backoff)
            log.info("sushi: url=%s status=%s codes=%s retry_in=%.0fs", url, resp.status_code,
                     sorted(codes), wait)
            sleep(wait)
            continue
        if is_report:
            try:
                return parse_counter_json(resp.text)
            except CounterError as exc:
                raise SushiError(f"{url}: the report does not parse: {exc}") from None
        if NO_USAGE in codes:
            return CounterReport(report.upper(), "5", begin=begin, end=_month_end(end),
                                 exceptions=excs)
        if NOT_READY in codes:
            raise SushiNotReady(f"{url}: usage not ready: {_describe(excs)}", excs)
        raise SushiError(f"{url}: HTTP {resp.status_code}: {_describe(excs)}", excs)
    raise SushiNotReady(f"{url}: still not available after {retries + 1} attempts: "
                        f"{_describe(last)}", last)


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return nxt - dt.timedelta(days=1)
