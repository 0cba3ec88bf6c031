"""Harvesting under faults: lienhop against a plain Sickle loop, by exact identifiers (issue 11).

    .venv/bin/python bench/faults.py                       # 500 records, 50 per page
    .venv/bin/python bench/faults.py --records 1000 --page-size 100

For every fault scenario each harvester gets a fresh local OAI-PMH server
(``harvesters/demo_server.py``, in-process thread, fault injection with ``server.inject``) and a
fresh store:

* ``lienhop``: ``harvest_repository`` into a real index in a temp dir (with its raw archive and
  checkpoint store), over a fast Transport (no politeness delay, sleeps recorded instead of
  slept, Retry-After capped at 5 s).  When the first run does not end ``ok``, one more run
  without the fault follows, as an operator would do (the "next run", of the same kind:
  ``--full`` again for the full scenarios).
* ``sickle``: the loop most harvesting scripts are::

      sickle = Sickle(url, max_retries=3, retry_status_codes=(503,), default_retry_after=0,
                      timeout=(2, READ_TIMEOUT))
      for rec in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True):
          store[rec.header.identifier] = rec.metadata["title"][0]

  with any exception caught (the outcome is its type).  ``noRecordsMatch`` is caught as the
  empty list the protocol says it is.  Its "full re-harvest" (the ``--full`` scenarios) then
  deletes from the store whatever the listing did not return, when the loop ended without
  another exception: naive reconciliation.  There is no next run.

Measured against the server's live records (minus records withdrawn to a stub):

* **lost**: live at the source, not in the store/index (after the next run, if any);
* **left**: lost after lienhop's first run alone (by design when it said failed/partial);
* **dup**: index documents beyond one per identifier (``ix.count()`` minus the distinct
  identifiers found); a dict store cannot hold an identifier twice, so Sickle has none;
* **wrongly deleted**: in the store before the faulty run, still live at the source, gone
  after it (a ``--full`` run's reconciliation; downstream, OAI tombstones);
* **stale**: in the store but withdrawn at the source (a stub "Item is not available").
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvest import synthetic  # noqa: E402  (bench/harvest.py: Vietnamese oai_dc records)

from harvesters.archive import RawArchive  # noqa: E402
from harvesters.client import OAIClient  # noqa: E402
from harvesters.demo_server import OAIDevServer  # noqa: E402
from harvesters.http import Transport, TransportConfig  # noqa: E402
from harvesters.runner import RepositoryConfig, RunReport, harvest_repository  # noqa: E402
from harvesters.sinks import WriterSink  # noqa: E402
from harvesters.state import MemoryCheckpointStore  # noqa: E402
from index import open_index  # noqa: E402
from index.record import make_record_id  # noqa: E402

CODE = "hue"
STUB = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Item is not available</dc:title>'
    "</oai_dc:dc>"
)
MB = 1024 * 1024


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Scenario:
    label: str
    #: inject the fault into a server (called after the prior harvest and ``change``)
    inject: Callable[[OAIDevServer], None]
    #: both harvesters run a full re-harvest (lienhop ``full=True``; Sickle reconciles)
    full: bool = False
    #: a complete, fault-free harvest first
    prior: bool = False
    #: change the source after the prior harvest; returns the identifiers withdrawn
    change: Callable[[OAIDevServer], set[str]] | None = None
    #: lienhop TransportConfig overrides
    transport: dict = field(default_factory=dict)


@dataclass
class Outcome:
    outcome: str
    lost: int
    dup: int | None
    wrongly_deleted: int
    stale: int
    left: int | None = None  # lienhop: lost after the first run alone
    next_run: str = "—"
    detail: str = ""
    lost_ids: list[str] = field(default_factory=list)
    dup_ids: str = ""


def serve(records: list, page_size: int) -> OAIDevServer:
    server = OAIDevServer(records, page_size=page_size)
    # a client that timed out or gave up leaves the server writing to a closed socket: the
    # traceback socketserver prints for that is noise here
    server._httpd.handle_error = lambda request, client_address: None
    return server


def scenarios(read_timeout: float) -> list[Scenario]:
    def withdraw(server: OAIDevServer) -> set[str]:
        live = [r for r in server.records if not r.deleted]
        count = max(2, len(live) // 100)  # 1 %, spread over the list
        chosen = live[:: max(1, len(live) // count)][:count]
        stamp = _stamp(datetime.now(UTC))
        server.upsert(*(replace(r, datestamp=stamp, metadata={"oai_dc": STUB}) for r in chosen))
        return {r.identifier for r in chosen}

    def date_in(seconds: int) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=seconds)

    return [
        Scenario("repeated token for good (`repeat_token` ×99, skip 2)",
                 lambda s: s.inject("repeat_token", times=99, resumption=True, skip=2)),
        Scenario("repeated token for good, `--full` re-harvest",
                 lambda s: s.inject("repeat_token", times=99, resumption=True, skip=2),
                 full=True, prior=True),
        Scenario("repeated token once (`repeat_token` ×1, skip 2)",
                 lambda s: s.inject("repeat_token", times=1, resumption=True, skip=2)),
        Scenario("`--full` re-harvest answered with ListSets (first request)",
                 lambda s: s.inject("wrong_verb", as_verb="ListSets", resumption=False,
                                    verb="ListRecords"),
                 full=True, prior=True),
        Scenario("`--full` re-harvest answered `noRecordsMatch` (first request)",
                 lambda s: s.inject("no_records", resumption=False, verb="ListRecords"),
                 full=True, prior=True),
        Scenario("`noRecordsMatch` mid-list (skip 2)",
                 lambda s: s.inject("no_records", resumption=True, skip=2)),
        Scenario("wrong metadataPrefix echoed (`marc21`, first page)",
                 lambda s: s.inject("wrong_prefix", resumption=False, verb="ListRecords")),
        Scenario("`<record xmlns=…>` + 1 broken record (first page)",
                 lambda s: (s.inject("record_attrs", resumption=False, verb="ListRecords"),
                            s.inject("broken_record", resumption=False, verb="ListRecords"))),
        Scenario("503, Retry-After: 1 (×2)",
                 lambda s: s.inject("unavailable", times=2, retry_after="1", resumption=True)),
        Scenario("503, Retry-After: HTTP date (×2)",
                 lambda s: s.inject("unavailable", times=2, retry_after=date_in(2),
                                    resumption=True)),
        Scenario("503 for good (×99, no Retry-After)",
                 lambda s: s.inject("unavailable", times=99, resumption=True)),
        Scenario("dropped connection (×2)",
                 lambda s: s.inject("drop", times=2, resumption=True)),
        Scenario("truncated body, matching Content-Length (×2)",
                 lambda s: s.inject("truncate", times=2, resumption=True)),
        Scenario("expired token (`badResumptionToken`, skip 2)",
                 lambda s: s.inject("expire_token", times=1, resumption=True, skip=2)),
        Scenario("HTML page, status 200, mid-list (skip 2)",
                 lambda s: s.inject("html", resumption=True, skip=2)),
        Scenario("gzip without Content-Encoding (first 3 requests)",
                 lambda s: s.inject("gzip_no_header", times=3)),
        Scenario("gzip bomb, 64 MB expanded (lienhop cap 1 MB)",
                 lambda s: s.inject("gzip_bomb", size=64 * MB, resumption=True),
                 transport={"max_response_bytes": 1 * MB}),
        Scenario(f"slow answer, {2 * read_timeout:g} s > read timeout {read_timeout:g} s (×1)",
                 lambda s: s.inject("delay", seconds=2 * read_timeout, times=1,
                                    resumption=True)),
        Scenario("records withdrawn to an \"Item is not available\" stub",
                 lambda s: None, prior=True, change=withdraw),
    ]


# --------------------------------------------------------------------------- lienhop


def run_lienhop(sc: Scenario, records: list, page_size: int, read_timeout: float,
                commit_records: int) -> Outcome:
    universe = [r.identifier for r in records]
    with serve(records, page_size) as server, \
            tempfile.TemporaryDirectory(prefix="lienhop-faults-") as tmp:
        ix = open_index(Path(tmp) / "index")
        sink = WriterSink(lambda: ix.writer(timeout=30.0))
        state = MemoryCheckpointStore()
        archive = RawArchive(Path(tmp) / "archive")
        repo = RepositoryConfig(CODE, "HUE", server.url)
        options = dict(delay=0, max_retries=3, backoff_base=2, max_retry_after=5,
                       connect_timeout=2, read_timeout=read_timeout)
        options.update(sc.transport)
        sleeps: list[float] = []
        transport = Transport(TransportConfig(**options), sleep=sleeps.append)

        def run() -> RunReport:
            return harvest_repository(
                repo, sink=sink, state=state, archive=archive, full=sc.full,
                client_factory=lambda r: OAIClient(r.oai_url, transport=transport,
                                                   repository=r.code),
                commit_records=commit_records)

        def present() -> set[str]:
            return {i for i in universe if ix.get(make_record_id(CODE, i)) is not None}

        withdrawn: set[str] = set()
        if sc.prior:
            report = run()
            if report.status != "ok":
                raise RuntimeError(f"{sc.label}: the prior harvest ended {report.status}")
        if sc.change:
            withdrawn = sc.change(server)
        before = present()
        sc.inject(server)
        first = run()
        live = {r.identifier for r in server.records if not r.deleted} - withdrawn
        after_first = present()
        left = len(live - after_first)
        wrongly = len((before & live) - after_first)
        detail = f"first: {first.status} (+{first.added} ~{first.updated} -{first.deleted}" \
                 f" failed {first.failed} withdrawn {first.withdrawn}" \
                 f" refused {first.refused_deletions}, {first.pages} pages," \
                 f" sleeps {sum(sleeps):g} s)"
        if first.errors:
            detail += f" «{first.errors[0][:110]}»"
        next_run = "—"
        if first.status != "ok":
            server.clear_faults()
            second = run()
            next_run = second.status
            detail += f"; next: {second.status} (+{second.added} ~{second.updated}" \
                      f" -{second.deleted} failed {second.failed})"
            if second.errors:
                detail += f" «{second.errors[0][:110]}»"
        final = present()
        lost_ids = sorted(live - final)
        docs = ix.count()
        dup = docs - len(final)
        ix.close()
        return Outcome(first.status, len(lost_ids), dup, wrongly, len(final & withdrawn),
                       left=left, next_run=next_run, detail=detail, lost_ids=lost_ids,
                       dup_ids="" if dup == 0 else f"{docs} docs for {len(final)} ids")


# --------------------------------------------------------------------------- plain Sickle


def sickle_loop(url: str, store: dict[str, str], read_timeout: float,
                from_: str | None = None) -> tuple[str, set[str], bool]:
    """The plain loop: (outcome, identifiers listed, whether the list "ended")."""
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch

    sickle = Sickle(url, max_retries=3, retry_status_codes=(503,), default_retry_after=0,
                    timeout=(2, read_timeout))
    args = {"metadataPrefix": "oai_dc"}
    if from_:
        args["from"] = from_
    listed: set[str] = set()
    try:
        for rec in sickle.ListRecords(ignore_deleted=True, **args):
            store[rec.header.identifier] = (rec.metadata.get("title") or [""])[0]
            listed.add(rec.header.identifier)
    except NoRecordsMatch:
        return "noRecordsMatch read as the end", listed, True
    except Exception as exc:  # what a harvesting script's outer loop does
        return type(exc).__name__, listed, False
    return "ended", listed, True


def run_sickle(sc: Scenario, records: list, page_size: int, read_timeout: float) -> Outcome:
    with serve(records, page_size) as server:
        pages = -(-len(records) // page_size)
        store: dict[str, str] = {}
        withdrawn: set[str] = set()
        since = None
        if sc.prior:
            since = _stamp(datetime.now(UTC))
            outcome, _, _ = sickle_loop(server.url, store, read_timeout)
            if outcome != "ended":
                raise RuntimeError(f"{sc.label}: Sickle's prior harvest: {outcome}")
        if sc.change:
            withdrawn = sc.change(server)
        before = set(store)
        sc.inject(server)
        n_requests = len(server.requests)
        t0 = time.perf_counter()
        outcome, listed, ended = sickle_loop(
            server.url, store, read_timeout,
            from_=since if (sc.prior and not sc.full) else None)
        seconds = time.perf_counter() - t0
        reconciled = 0
        if sc.full and ended:
            for gone in set(store) - listed:
                del store[gone]
                reconciled += 1
        live = {r.identifier for r in server.records if not r.deleted} - withdrawn
        lost = live - set(store)
        wrongly = len((before & live) - set(store))
        stale = len(set(store) & withdrawn)
        served = len(server.requests) - n_requests
        if ended:
            outcome = "ok" if not (lost or wrongly or stale) else (
                "silent ok" if outcome == "ended" else f"silent ok ({outcome})")
            if served > pages + 3:
                outcome += f" after {served} requests for {pages} pages"
        detail = (f"{outcome}: {len(listed)} listed, {served} OAI-PMH answers, {seconds:.1f} s"
                  + (f", reconciliation deleted {reconciled}" if sc.full and ended else ""))
        return Outcome(outcome, len(lost), None, wrongly, stale, detail=detail,
                       lost_ids=sorted(lost))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500, help="records served (500)")
    parser.add_argument("--page-size", type=int, default=50, help="records per page (50)")
    parser.add_argument("--read-timeout", type=float, default=1.0,
                        help="read timeout of both harvesters, seconds (1.0); the slow"
                             " answer waits twice this")
    parser.add_argument("--commit-records", type=int, default=2000,
                        help="lienhop commits every N records (default 2000, the CLI's;"
                             " 0: after every page, as the fault tests do)")
    parser.add_argument("--only", metavar="TEXT", help="run the scenarios whose label has TEXT")
    parser.add_argument("--log", action="store_true", help="show the harvester's log on stderr")
    args = parser.parse_args(argv)
    if args.log:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    else:
        for name in ("lienhop", "sickle"):  # Sickle warns on every 503 retry
            logging.getLogger(name).addHandler(logging.NullHandler())

    records = synthetic(args.records)
    chosen = [s for s in scenarios(args.read_timeout)
              if not args.only or args.only.lower() in s.label.lower()]
    every = f"{args.commit_records} records" if args.commit_records else "page"
    print(f"{args.records} records, {args.page_size} per page, read timeout"
          f" {args.read_timeout:g} s, lienhop commits every {every}")
    rows = []
    t_all = time.perf_counter()
    for sc in chosen:
        t0 = time.perf_counter()
        ours = run_lienhop(sc, records, args.page_size, args.read_timeout, args.commit_records)
        t1 = time.perf_counter()
        plain = run_sickle(sc, records, args.page_size, args.read_timeout)
        t2 = time.perf_counter()
        print(f"- {sc.label}\n    lienhop [{t1 - t0:.1f} s] {ours.detail}"
              f"\n    sickle  [{t2 - t1:.1f} s] {plain.detail}", flush=True)
        if ours.lost or ours.dup or ours.wrongly_deleted or ours.stale:
            print(f"    !! lienhop: lost {ours.lost} {ours.lost_ids[:10]}, dup {ours.dup}"
                  f" {ours.dup_ids}, wrongly deleted {ours.wrongly_deleted},"
                  f" stale {ours.stale}", flush=True)
        rows.append((sc, ours, plain))
    print(f"\n{len(chosen)} scenarios in {time.perf_counter() - t_all:.0f} s\n")

    print("| fault | lienhop first run | left for next run | next run | lost | dup"
          " | wrongly deleted | stale | Sickle loop | lost | dup | wrongly deleted | stale |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sc, ours, plain in rows:
        print(f"| {sc.label} | {ours.outcome} | {ours.left} | {ours.next_run} | {ours.lost}"
              f" | {ours.dup} | {ours.wrongly_deleted} | {ours.stale} | {plain.outcome}"
              f" | {plain.lost} | n/a | {plain.wrongly_deleted} | {plain.stale} |")
    lost = sum(o.lost for _, o, _ in rows)
    dup = sum(o.dup or 0 for _, o, _ in rows)
    wrong = sum(o.wrongly_deleted for _, o, _ in rows)
    stale = sum(o.stale for _, o, _ in rows)
    print(f"\nlienhop totals (after its next run): lost {lost}, duplicated {dup},"
          f" wrongly deleted {wrong}, stale {stale} (target 0 / 0 / 0 / 0)")
    print("Sickle dup is n/a: a dict keyed by identifier cannot hold one twice.")
    return 0 if not (lost or dup or wrong or stale) else 1


if __name__ == "__main__":
    raise SystemExit(main())
