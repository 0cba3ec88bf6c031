"""Web benchmark: the results page (and record pages) over a generated consortium.

    .venv/bin/python bench/web.py --records 100000

Records and the 200 queries come from bench/search.py (same seeds, so the figures compare
with the engine benchmark). Each query is sent to ``/search`` through the Flask test
client, so the time is the whole server side: parameter parsing, search with facets,
rendering, i18n; no network. Target: p95 ≤ 150 ms for the results page.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
bench_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_search)  # type: ignore[union-attr]


def page_url(q: dict) -> str:
    """The results-page URL a reader's browser would send for one benchmark query."""
    params: list[tuple[str, str]] = [("q", q["q"])]
    for name, values in (q["filters"] or {}).items():
        params += [(name, v) for v in values]
    if q["year_range"]:
        lo, hi = q["year_range"]
        params.append(("year", f"{lo or ''}-{hi or ''}"))
    return "/search?" + urlencode(params)


def timed(client, urls: list[str]) -> list[float]:
    for url in urls[:10]:  # warm: index columns, templates, catalogues
        client.get(url)
    out = []
    for url in urls:
        t = time.perf_counter()
        res = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        if res.status_code != 200:
            raise SystemExit(f"{url}: HTTP {res.status_code}")
    return out


def report(name: str, lat: list[float]) -> None:
    p = bench_search.percentile
    print(f"{name:14} n={len(lat):4}  p50 {p(lat, 50):6.1f} ms  p95 {p(lat, 95):6.1f} ms  "
          f"max {max(lat):6.1f} ms  mean {statistics.mean(lat):6.1f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--work", type=Path, help="work directory; an index already built there "
                    "for the same --records is reused (a 100k build takes many minutes)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="lienhop-webbench-"))
    work.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.work is not None
    try:
        t = time.perf_counter()
        records = bench_search.generate(args.records)
        queries = bench_search.make_queries(records)
        print(f"generated {len(records)} records, {len(queries)} queries in "
              f"{time.perf_counter() - t:.1f} s; {os.cpu_count()} cpus", flush=True)
        marker = work / f"built-{len(records)}"
        if not marker.exists():
            t = time.perf_counter()
            # One writer session, not index.rebuild's batches: a batch after the first
            # re-resolves clusters against the whole index and takes many minutes at 100k
            # (reported to the index engineer); one session resolves them once.
            with bench_search.open_index(work / "index").writer(timeout=60) as w:
                w.add(records)
            marker.touch()
            print(f"index built in {time.perf_counter() - t:.1f} s", flush=True)

        os.environ.update(LIENHOP_HOME=str(work), LIENHOP_ENV="testing",
                          LIENHOP_SECRET_KEY="bench",  # noqa: S106 - a throw-away instance
                          LIENHOP_LOG_LEVEL="WARNING")
        from resolver import create_app

        client = create_app().test_client()
        urls = [page_url(q) for q in queries]
        lat = timed(client, urls)
        report("results page", lat)
        by_kind: dict[str, list[float]] = {}
        for q, ms in zip(queries, lat, strict=True):
            by_kind.setdefault(q["kind"], []).append(ms)
        print("               " + "  ".join(
            f"{k} p95 {bench_search.percentile(v, 95):.0f}" for k, v in by_kind.items()))
        report("browse p1..p5", timed(client, [f"/search?page={n}" for n in range(1, 6)] * 4))
        ids = [r.id for r in records[:: max(1, len(records) // 200)]][:200]
        report("record page", timed(client, [f"/record/{i}" for i in ids]))
        report("api search", timed(client, ["/api/search?" + u.split("?", 1)[1] for u in urls]))
        report("home", timed(client, ["/"] * 20))
        lat = bench_search.percentile(lat, 95)
        print(f"results page p95 {lat:.1f} ms: {'OK' if lat <= 150 else 'OVER'} the 150 ms target")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
