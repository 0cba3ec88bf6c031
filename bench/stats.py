"""Usage-report benchmark: millions of click-log rows, every report timed, SQLite and PostgreSQL.

    .venv/bin/python bench/stats.py [--rows 5000000 --resolve-rows 1000000
                                     --counter-titles 5 --db sqlite,postgresql]

Fills the click log with ``--rows`` clicks (and the resolve log with ``--resolve-rows``
requests) spread over eight years ending now, from 40 institutions on 25 packages, with
the consortium's mix of target kinds; imports COUNTER figures for every package,
institution and month (``--counter-titles`` titles each, two metrics) and a cost per
package and year. Bulk loads use ``executemany`` on SQLite and ``COPY`` on PostgreSQL.

PostgreSQL is ``LIENHOP_TEST_POSTGRES_URL`` when set, else a throw-away cluster: the benchmark
runs itself again under Debian's ``pg_virtualenv`` (postgresql-common, installed with the
``postgresql`` package), which makes the cluster and drops it at the end. Figures printed per
database: load time, the one-off monthly roll-up of the loaded history (what ``lienhop usage
rollup`` does once; in service each month is rolled up once as it closes), then every report of
``resolver.usage.reports.REPORTS`` over the whole eight years and over the last twelve months,
and one report computed from the raw log without the roll-up, for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolver import db  # noqa: E402
from resolver.db.base import utcnow  # noqa: E402
from resolver.usage import reports, rollup  # noqa: E402
from resolver.usage.costs import set_cost  # noqa: E402
from resolver.usage.counter_import import sum_months  # noqa: E402
from resolver.usage.models import CounterImport  # noqa: E402
from resolver.usage.rollup import add_months, month_start  # noqa: E402

INSTITUTIONS = [f"inst{i:02d}" for i in range(40)]
PACKAGES = [f"pkg{i:02d}" for i in range(25)]
KINDS = ["fulltext"] * 70 + ["open"] * 20 + ["delivery"] * 5 + ["catalogue"] * 5
OUTCOMES = ["fulltext"] * 55 + ["open"] * 15 + ["turnaway"] * 20 + ["nomatch"] * 10
YEARS = 8


def _times(n: int, rnd: random.Random) -> list[str]:
    """``n`` timestamps over the last eight years, sorted, in SQLAlchemy's SQLite format."""
    end = utcnow()
    start = end - dt.timedelta(days=365 * YEARS)
    span = (end - start).total_seconds()
    secs = sorted(rnd.random() * span for _ in range(n))
    return [(start + dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S.%f") for s in secs]


def click_rows(n: int, seed: int = 1) -> list[tuple]:
    rnd = random.Random(seed)
    out = []
    for at in _times(n, rnd):
        kind = rnd.choice(KINDS)
        pkg = rnd.choice(PACKAGES) if kind == "fulltext" else None
        out.append((at, rnd.choice(INSTITUTIONS), pkg, kind, f"10.1000/{rnd.randrange(10**6)}",
                    None, None, None))
    return out


def resolve_rows(n: int, seed: int = 2) -> list[tuple]:
    rnd = random.Random(seed)
    out = []
    for at in _times(n, rnd):
        outcome = rnd.choice(OUTCOMES)
        pkg = rnd.choice(PACKAGES) if outcome == "turnaway" else None
        inst = rnd.choice(INSTITUTIONS) if rnd.random() > 0.05 else None
        out.append((at, inst, outcome, pkg, pkg or "", None, None, None, None))
    return out


CLICK_COLS = "at, institution, package, kind, doi, issn, isbn, title"
RESOLVE_COLS = "at, institution, outcome, package, packages, doi, issn, isbn, title"


def load_sqlite(path: str, clicks: list[tuple], resolves: list[tuple]) -> None:
    con = sqlite3.connect(path)
    for table, cols, rows in (("click_log", CLICK_COLS, clicks),
                              ("resolve_log", RESOLVE_COLS, resolves)):
        marks = ", ".join("?" * len(cols.split(",")))
        for i in range(0, len(rows), 200_000):
            con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                            rows[i:i + 200_000])
            con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def load_postgres(url: str, clicks: list[tuple], resolves: list[tuple]) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        for table, cols, rows in (("click_log", CLICK_COLS, clicks),
                                  ("resolve_log", RESOLVE_COLS, resolves)):
            with con.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        con.commit()
        con.execute("ANALYZE")


COUNTER_COLS = ("import_id, institution, package, report_id, metric, title, platform, publisher, "
                "month, count")


def counter_rows(titles: int, import_ids: dict[tuple[str, str], int]) -> list[tuple]:
    """Two metrics for ``titles`` titles of every package, institution and month."""
    rnd = random.Random(3)
    first = add_months(month_start(dt.date.today()), -12 * YEARS + 1)
    months = [add_months(first, k) for k in range(12 * YEARS)]
    out = []
    for (inst, pkg), iid in import_ids.items():
        for m in months:
            for t in range(titles):
                total = rnd.randrange(1, 60)
                out.append((iid, inst, pkg, "TR_J1", "Total_Item_Requests", f"Journal {t}", "",
                            "", m, total))
                out.append((iid, inst, pkg, "TR_J1", "Unique_Item_Requests", f"Journal {t}",
                            "", "", m, max(1, total * 4 // 5)))
    return out


def load_counter(sessions, url: str, titles: int) -> int:  # type: ignore[no-untyped-def]
    """COUNTER figures through the bulk path, then the monthly sums and the costs."""
    rnd = random.Random(4)
    first = add_months(month_start(dt.date.today()), -12 * YEARS + 1)
    with db.transaction(sessions) as s:
        ids = {}
        for pkg in PACKAGES:
            for inst in INSTITUTIONS:
                imp = CounterImport(source="bench", report_id="TR_J1", institution=inst,
                                    package=pkg, begin=first, end=add_months(first, 95))
                s.add(imp)
                s.flush()
                ids[(inst, pkg)] = imp.id
        for pkg in PACKAGES:
            for year in range(first.year, dt.date.today().year + 1):
                set_cost(s, pkg, year, rnd.randrange(20_000, 200_000))
        for inst in INSTITUTIONS[:10]:  # ten members pay for five packages themselves
            for pkg in PACKAGES[:5]:
                for year in range(first.year, dt.date.today().year + 1):
                    set_cost(s, pkg, year, rnd.randrange(1_000, 9_000), institution=inst)
    rows = counter_rows(titles, ids)
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.split("///", 1)[1])
        con.executemany(f"INSERT INTO counter_usage ({COUNTER_COLS}) VALUES "
                        f"({', '.join('?' * 10)})", [(*r[:8], r[8].isoformat(), r[9])
                                                    for r in rows])
        con.commit()
        con.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
            with con.cursor() as cur, cur.copy(
                    f"COPY counter_usage ({COUNTER_COLS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            con.commit()
    with db.transaction(sessions) as s:
        for inst, pkg in ids:
            sum_months(s, inst, pkg, "TR_J1", first, add_months(first, 95))
    return len(rows)


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def run(name: str, url: str, args: argparse.Namespace, clicks, resolves) -> None:  # type: ignore[no-untyped-def]
    print(f"\n== {name}: {len(clicks):,} clicks, {len(resolves):,} requests ==", flush=True)
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    t, _ = timed(lambda: (load_sqlite(url.split("///", 1)[1], clicks, resolves)
                          if name == "sqlite" else load_postgres(url, clicks, resolves)))
    print(f"load logs: {t:.1f}s", flush=True)
    t, n = timed(lambda: load_counter(sessions, url, args.counter_titles))
    print(f"load COUNTER: {n:,} figures in {t:.1f}s", flush=True)
    this = month_start(dt.date.today())
    whole = (add_months(this, -12 * YEARS + 1), this)
    year = (add_months(this, -11), this)
    with sessions() as s:
        t, _ = timed(lambda: rollup.monthly_counts(s, "click", *year, by=("package",)))
        print(f"clicks-by-package, 12 months, raw log (no roll-up yet): {t:.2f}s", flush=True)
        t, done = timed(lambda: rollup.refresh(s))
        print(f"one-off roll-up of the loaded history: {t:.1f}s {done}", flush=True)
        for label, (a, b) in (("8 years", whole), ("12 months", year)):
            for rname in reports.REPORTS:
                times = []
                for _ in range(args.repeat):
                    t, table = timed(lambda rname=rname, a=a, b=b: reports.run_report(
                        s, rname, a, b))
                    times.append(t)
                flag = "" if min(times) < 1 else "  <-- over 1 s"
                print(f"{label:>9}  {rname:34} {min(times):6.3f}s  rows={len(table.rows):6,}"
                      f"{flag}", flush=True)
    engine.dispose()


# Set in the environment of the run that pg_virtualenv starts, so that it does not start another.
INSIDE_PG_VIRTUALENV = "LIENHOP_BENCH_IN_PG_VIRTUALENV"


def rerun_in_pg_virtualenv() -> None:
    """Run the same benchmark again inside a throw-away PostgreSQL cluster and exit with its
    status, when no server is named and Debian's pg_virtualenv is installed; else return."""
    if os.environ.get("LIENHOP_TEST_POSTGRES_URL") or os.environ.get(INSIDE_PG_VIRTUALENV):
        return
    tool = shutil.which("pg_virtualenv")
    if tool is None:
        return
    os.environ[INSIDE_PG_VIRTUALENV] = "1"
    done = subprocess.run([tool, sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]],
                          check=False)
    raise SystemExit(done.returncode)


def postgres_url() -> str | None:
    """``LIENHOP_TEST_POSTGRES_URL``, else the cluster of the pg_virtualenv this run is in."""
    url = os.environ.get("LIENHOP_TEST_POSTGRES_URL")
    if url:
        return url
    env = os.environ
    if not (env.get(INSIDE_PG_VIRTUALENV) and env.get("PGPORT")):
        return None
    # pg_virtualenv describes its cluster with libpq's PG* variables.
    return (f"postgresql+psycopg://{quote(env.get('PGUSER', 'postgres'), safe='')}:"
            f"{quote(env.get('PGPASSWORD', ''), safe='')}@{env.get('PGHOST', 'localhost')}:"
            f"{env['PGPORT']}/{env.get('PGDATABASE', 'postgres')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--resolve-rows", type=int, default=1_000_000)
    parser.add_argument("--counter-titles", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    wanted = args.db.split(",")
    if "postgresql" in wanted:
        rerun_in_pg_virtualenv()
    t, clicks = timed(lambda: click_rows(args.rows))
    resolves = resolve_rows(args.resolve_rows)
    print(f"generated {len(clicks):,} clicks and {len(resolves):,} requests in {t:.1f}s "
          f"(+ the requests); {os.cpu_count()} CPUs")
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory(prefix="lienhop-stats-") as tmp:
            run("sqlite", f"sqlite:///{tmp}/stats.sqlite3", args, clicks, resolves)
    if "postgresql" in wanted:
        url = postgres_url()
        if url:
            run("postgresql", url, args, clicks, resolves)
        else:
            print("PostgreSQL skipped: set LIENHOP_TEST_POSTGRES_URL, or install Debian's "
                  "postgresql package (its pg_virtualenv makes a throw-away cluster)")


if __name__ == "__main__":
    main()

