"""Link-resolver benchmark: in-process resolve time and requests/s through gunicorn.

    .venv/bin/python bench/resolve.py [--titles 50000 --packages 20 --institutions 130
                                       --urls 10000 --duration 15 --workers 2
                                       --request-log write-through,buffered
                                       --baseline /tmp/lienhop-previous --rounds 10]

The OpenURLs are real: the NYU GetIt samples in ../shared/data/openurl (0.1, 1.0 and
hybrids, with their logging damage), topped up to ``--urls`` with copies whose date,
volume and institution vary. The knowledge base holds every ISSN/ISBN those URLs cite
(so most of them find holdings, as at a real library) plus synthetic titles up to
``--titles``, spread over ``--packages`` packages imported through the real KBART import;
each package is entitled to a random part of the ``--institutions`` institutions, some
with dates. Half of the URLs carry an ``inst``; the other half come from a campus IP.

Figures printed: the first request (which builds the worker's KB snapshot), p50/p95/p99 of
one ``/resolve/api`` and one ``/resolve`` (menu) request through the Flask test client
(in-process: routing, parsing, KB lookup, ranking, templates or JSON), then requests/s for
``/resolve/api`` through gunicorn, measured by ``wrk`` (or, when wrk is missing, a separate
Python process with a bounded thread pool), beside a Flask "hello world" on the same
gunicorn settings, the ceiling of this stack on this machine, and the resident memory
(RSS) of each gunicorn worker after the run. Only 127.0.0.1 is contacted.

``--request-log`` names the request-log variants to measure in the same run (each gets its
own app in the process and its own gunicorn): ``write-through`` commits one row per request
(``LIENHOP_REQUEST_LOG_BATCH=1``), ``buffered`` is the default (rows written in batches,
resolver/usage/logbuffer.py). The rate limit is off: one load generator on 127.0.0.1 would
otherwise measure 429 answers.

``--index-records N`` (with ``--index-engine``) also builds an index of N records, an open copy
of every tenth cited work among them, so that every resolution pays for the open-copy lookup
in the consortium's own index as it does in production; without it there is no index and no
lookup.

``--baseline CHECKOUT`` also serves the same instance from another checkout (``git worktree
add /tmp/lienhop-previous HEAD~1``) through gunicorn, so a change is measured against the code
before it in the same run (the checkout must know this tree's database schema: a checkout
from before a new migration cannot open the instance). Every figure is printed with the load
average, and the in-process figures with the CPU time per request, which other work on the
machine disturbs less; so are the gunicorns' (workers and master: user + system CPU per
request served). ``--rounds N`` (N > 1) starts every gunicorn at once and measures them
in turn, N short bursts each, so that load from elsewhere falls on all of them alike.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
OPENURLS = ROOT.parent / "shared" / "data" / "openurl"
sys.path.insert(0, str(ROOT))

HEADER = ("publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\t"
          "num_first_vol_online\tnum_first_issue_online\tdate_last_issue_online\t"
          "num_last_vol_online\tnum_last_issue_online\ttitle_url\tfirst_author\ttitle_id\t"
          "embargo_info\tcoverage_depth\tnotes\tpublisher_name\tpublication_type\n")


#: The request-log variants (``--request-log``) and the settings each runs with.
REQUEST_LOG = {
    "write-through": {"LIENHOP_REQUEST_LOG_BATCH": "1"},
    "buffered": {"LIENHOP_REQUEST_LOG_BATCH": "200", "LIENHOP_REQUEST_LOG_FLUSH_SECONDS": "2"},
}


def hello_app():  # type: ignore[no-untyped-def]
    """The ceiling: a Flask app that only says hello (served as ``bench.resolve:hello``)."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/resolve/api")
    def hi():  # type: ignore[no-untyped-def]
        return {"hello": "world"}

    return app


def mute_usage_log() -> bool:
    """Stub the per-resolution usage log (one INSERT and COMMIT per request), to measure
    what it costs; False when this tree has no usage log."""
    try:
        from resolver.usage import recording as usage_log
    except ImportError:
        return False
    usage_log.record = lambda *_args, **_kw: None
    return True


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name == "hello":  # built on demand so importing this module stays cheap
        return hello_app()
    if name == "quiet":  # lienhop without the usage log (``--without-usage-log``)
        mute_usage_log()
        import wsgi

        return wsgi.app
    raise AttributeError(name)


# ------------------------------------------------------------------------------ data

def real_openurls() -> list[str]:
    """Query strings of the real NYU OpenURLs (host and path removed), made sendable."""
    out = []
    for f in sorted(OPENURLS.glob("nyu_getit_*.txt")):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            if "?" not in line:
                continue
            q = line.split("?", 1)[1].lstrip("?")
            # The logs are half-decoded (raw spaces, UTF-8): encode what HTTP cannot carry.
            out.append(quote(q, safe="=&%+:/?;,@!$'()*[]~.-_"))
    return out


def _issn(rng: random.Random) -> str:
    from index.identifiers import issn_check

    body = f"{rng.randrange(10_000_000):07d}"
    return f"{body[:4]}-{body[4:]}{issn_check(body)}"


def build_kb(sessions, urls: list[str], n_titles: int, n_packages: int,  # type: ignore[no-untyped-def]
             n_institutions: int, rng: random.Random) -> list[str]:
    """Registry + KB; returns the institution codes."""
    from resolver import db
    from resolver.kb.entitlements import entitle
    from resolver.kb.importer import import_kbart
    from resolver.openurl import CitationError, parse_openurl
    from resolver.registry.models import Institution, IpRange, OpenPlatform, ResolverSettings

    cited: dict[str, str] = {}
    for q in urls:
        try:
            c = parse_openurl(q)
        except CitationError:
            continue
        for ident in (c.issn, c.eissn, c.isbn):
            if ident and c.title and len(ident) in (9, 13):
                cited.setdefault(ident, c.title)
    rows = []
    for ident, title in cited.items():
        rows.append((title.replace("\t", " ")[:200], ident))
    while len(rows) < n_titles:
        rows.append((f"Synthetic Journal {len(rows)} of "
                     f"{rng.choice(['Physics', 'Hóa học', 'Agronomy', 'Y học', 'Computing'])}",
                     _issn(rng)))
    rng.shuffle(rows)
    codes = [f"inst{i:03d}" for i in range(n_institutions)]
    with db.transaction(sessions) as s:
        for i, code in enumerate(codes):
            inst = Institution(code=code, name_vi=f"Thư viện {i}", name_en=f"Library {i}",
                               status="member")
            inst.ip_ranges.append(IpRange(cidr=f"100.{64 + i // 256}.{i % 256}.0/24"))
            s.add(inst)
        s.add(OpenPlatform(code="openscience", name="Openscience.vn",
                           url_template="https://openscience.vn/search?q={atitle}",
                           position=1, enabled=True))
        s.flush()
        for inst in s.query(Institution).all()[::3]:
            s.add(ResolverSettings(institution_id=inst.id,
                                   proxy_prefix="https://ezproxy.example.edu.vn/login?url=",
                                   catalogue_template="https://opac.example.edu.vn/s?issn={issn}",
                                   catalogue_name="OPAC", redirect_default=False))
    per = -(-len(rows) // n_packages)
    t0 = time.perf_counter()
    for p in range(n_packages):
        lines = [HEADER]
        for j, (title, ident) in enumerate(rows[p * per:(p + 1) * per]):
            first = rng.choice(["1990", "1995-01-01", "2000", "2005", ""])
            last = rng.choice(["", "", "", "2015-12-31"])
            embargo = rng.choice(["", "", "", "P1Y", "R10Y", "P6M"])
            lines.append("\t".join([
                title, ident, "", first, "", "", last, "", "",
                f"https://platform{p}.example.org/title/{j}", "", f"t{p}-{j}", embargo,
                "fulltext", "", f"Publisher {p}", "monograph" if len(ident) == 13 else "serial",
            ]) + "\n")
        with db.transaction(sessions) as s:
            import_kbart(s, f"pkg{p:02d}", "".join(lines).encode(), name=f"Package {p}",
                         article_template="https://doi.org/{doi}" if p % 2 == 0 else "",
                         kind="open" if p == n_packages - 1 else "subscription")
            for code in codes:
                if rng.random() < 0.6:
                    start = None if rng.random() < 0.8 else __import__("datetime").date(
                        2024, rng.randint(1, 12), 1)
                    entitle(s, f"pkg{p:02d}", code, start)
    print(f"KB: {len(rows)} titles ({len(cited)} cited by the real URLs) in {n_packages} "
          f"packages, {n_institutions} institutions; import {time.perf_counter() - t0:.1f} s")
    return codes


def build_index(path: Path, urls: list[str], n: int, engine: str) -> None:
    """``n`` records in the index the resolver looks open copies up in: an open copy of every
    tenth work the real URLs cite (same DOI, or same title and year), as a consortium's
    repositories hold some of what its readers ask for, and generated records
    (bench/vi_records.py) for the rest."""
    from bench.vi_records import base_records
    from index import Record, rebuild
    from resolver.openurl import CitationError, parse_openurl

    cited: list[Record] = []
    seen: set[object] = set()
    for q in urls:
        try:
            c = parse_openurl(q)
        except CitationError:
            continue
        title = c.atitle or c.title
        key = c.doi or (title, c.year)
        if not title or key in seen:
            continue
        seen.add(key)
        if len(seen) % 10 == 0 and len(cited) < n:
            k = len(cited)
            cited.append(Record(
                id=f"cited-{k}", oai_identifier=f"oai:bench:cited-{k}", repository="bench",
                institution="Đại học Huế", titles=[title], year=c.year,
                creators=[c.aulast] if c.aulast else [], doi=c.doi.lower() if c.doi else None,
                type="article", access="open",
                fulltext_links=[f"https://repository.example.edu.vn/bitstream/{k}.pdf"]))
    t0 = time.perf_counter()
    rebuild(path, itertools.chain(cited, base_records(n - len(cited))), engine=engine)
    print(f"index ({engine}): {n} records, {len(cited)} of them open copies of cited works; "
          f"built in {time.perf_counter() - t0:.0f} s")


def workload(urls: list[str], codes: list[str], n: int, rng: random.Random
             ) -> list[tuple[str, str | None]]:
    """(query, campus IP or None): real URLs first, then varied copies of them."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while len(out) < n:
        q = urls[i % len(urls)]
        if i >= len(urls):  # a copy: another year and volume
            q = re.sub(r"(date=)(\d{4})", lambda m: m.group(1) + str(rng.randint(1985, 2025)), q)
            q = re.sub(r"(volume=)(\d+)", lambda m: m.group(1) + str(rng.randint(1, 120)), q)
        k = rng.randrange(len(codes))
        if rng.random() < 0.5:
            out.append((q + f"&inst={codes[k]}", None))
        else:
            out.append((q, f"100.{64 + k // 256}.{k % 256}.{rng.randint(1, 254)}"))
        i += 1
    return out


# ------------------------------------------------------------------------ in-process

def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _load() -> str:
    """The 1-minute load average: other work on the machine moves every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a gunicorn has used so far: its workers and itself (Linux
    /proc; 0 where unavailable). Per request, the figure other work on the machine disturbs
    least, beside requests/s."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def in_process(app, work: list[tuple[str, str | None]], label: str = "") -> None:  # type: ignore[no-untyped-def]
    if label:
        print(f"-- request log {label}")
    client = app.test_client()
    before = rss_mb()
    t = time.perf_counter()
    client.get("/resolve/api?" + work[0][0], environ_base={"REMOTE_ADDR": "127.0.0.1"})
    print(f"first request (loads the registry and KB snapshot): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms, RSS {before:.0f} -> {rss_mb():.0f} MB")
    for path in ("/resolve/api?", "/resolve?"):
        for q, ip in work[:200]:  # warm-up: caches, catalogues, SQLite pages
            client.get(path + q, environ_base={"REMOTE_ADDR": ip or "127.0.0.1"})
        times, status = [], {}
        cpu = time.process_time()
        for q, ip in work:
            t = time.perf_counter()
            r = client.get(path + q, environ_base={"REMOTE_ADDR": ip or "127.0.0.1"})
            times.append((time.perf_counter() - t) * 1000)
            status[r.status_code] = status.get(r.status_code, 0) + 1
        # CPU time is less disturbed than wall time by other work on a shared machine
        cpu_ms = (time.process_time() - cpu) * 1000 / len(work)
        print(f"in-process {path.rstrip('?'):<13} n={len(times)}  p50 {pct(times, 50):6.2f} ms"
              f"  p95 {pct(times, 95):6.2f} ms  p99 {pct(times, 99):6.2f} ms  "
              f"mean {statistics.fmean(times):6.2f} ms  CPU {cpu_ms:5.2f} ms/request  "
              f"status {dict(sorted(status.items()))}  load {_load()}")


# ---------------------------------------------------------------------------- HTTP

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"gunicorn did not listen on {port}")


def _gunicorn(target: str, port: int, workers: int, env: dict[str, str],
              tree: Path = ROOT, log: Path | None = None) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("gunicorn")
    cmd = [str(exe), "-w", str(workers), "-k", "gthread", "--threads", "4",
           "-b", f"127.0.0.1:{port}", "--chdir", str(tree), "--log-level", "warning", target]
    # its messages to a file: an unread pipe that fills up would stall the workers
    with open(log or os.devnull, "wb") as err:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)


def _wrk(port: int, paths: list[str], duration: int, conns: int, tmp: Path,
         warm_up: bool = False) -> float:
    """Requests/s; while warming up, negative when there were socket errors."""
    script = tmp / "paths.lua"
    body = ",\n".join(f"[==[{p}]==]" for p in paths)
    script.write_text(
        f"local paths = {{\n{body}\n}}\nlocal i = math.random(#paths)\n"
        "request = function()\n  i = i % #paths + 1\n"
        "  return wrk.format('GET', paths[i])\nend\n")
    out = subprocess.run(["wrk", "-t", "2", "-c", str(conns), "-d", f"{duration}s", "-s",
                          str(script), f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    if errors:  # a timeout means some worker is still starting: the warm-up goes on
        rate = -rate
    print("   ", out.strip().splitlines()[-2].strip(),
          f"| non-2xx: {non2xx.group(1) if non2xx else 0}",
          f"| {errors.group(0) if errors else 'no socket errors'}")
    return abs(rate) if not warm_up else rate


_PY_LOADGEN = r"""
import http.client, sys, time, threading
from concurrent.futures import ThreadPoolExecutor
port, duration, conns = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
paths = [line.rstrip("\n") for line in open(sys.argv[4], encoding="utf-8")]
done, errors, non2xx = [0] * conns, [0] * conns, [0] * conns
end = time.monotonic() + duration
def run(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = k
    while time.monotonic() < end:
        try:
            conn.request("GET", paths[i % len(paths)])
            r = conn.getresponse(); r.read()
        except (OSError, http.client.HTTPException):  # a worker still starting, or gone
            errors[k] += 1; conn.close(); time.sleep(0.05)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if r.getheader("Connection", "").lower() == "close":
            conn.close(); conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done[k] += 1; i += conns; non2xx[k] += not 200 <= r.status < 400
with ThreadPoolExecutor(conns) as ex:
    list(ex.map(run, range(conns)))
print(sum(done) / duration, sum(errors), sum(non2xx))
"""


def _pyload(port: int, paths: list[str], duration: int, conns: int, tmp: Path,
            warm_up: bool = False) -> float:
    listing = tmp / "paths.txt"
    listing.write_text("\n".join(paths), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _PY_LOADGEN, str(port), str(duration),
                          str(conns), str(listing)], capture_output=True, text=True, check=True)
    rate, errors, non2xx = out.stdout.split()
    print(f"    {float(rate):.0f} req/s | non-2xx: {non2xx} | socket errors: {errors}")
    if int(errors) and warm_up:  # some worker is still starting: the warm-up goes on
        return -float(rate)
    return float(rate)


def _serve(target: str, run_env: dict[str, str], tree: Path, args, tmp: Path  # type: ignore[no-untyped-def]
           ) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    log = tmp / f"gunicorn-{port}.log"
    proc = _gunicorn(target, port, args.workers, run_env, tree, log)
    try:
        _wait(port)
    except BaseException:
        _stop(proc)
        raise
    return proc, port, log


def _warm(name: str, port: int, log: Path, load, paths: list[str], args, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """Load a server until every worker answers: the port opens before the workers have
    loaded the app, and each worker then builds its KB snapshot (~1 s)."""
    for _ in range(10):
        if load(port, paths[:500], 3, args.connections, tmp, warm_up=True) > 0:
            return
    # never answered (a checkout that cannot open this instance, say)
    tail = log.read_text(errors="replace").splitlines()[-8:]
    print(f"    {name}: no answer; gunicorn said:", *tail, sep="\n      ")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def http_bench(env: dict[str, str], work: list[tuple[str, str | None]], args, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    paths = ["/resolve/api?" + q for q, _ip in work]
    load = _wrk if shutil.which("wrk") and not args.python_load else _pyload
    tool = "wrk" if load is _wrk else "python thread pool"
    rates: dict[str, float] = {}
    lienhop = "bench.resolve:quiet" if args.without_usage_log else "wsgi:app"
    runs = [("hello world", "bench.resolve:hello", env, ROOT)] + [
        (f"lienhop ({variant})", lienhop, {**env, **REQUEST_LOG[variant]}, ROOT)
        for variant in args.request_log]
    if args.baseline:  # the same instance served by another checkout, in the same run
        runs += [(f"baseline ({variant})", "wsgi:app", {**env, **REQUEST_LOG[variant]},
                  args.baseline) for variant in args.request_log]
    setting = f"gunicorn ({args.workers} workers x 4 threads), {tool}, {args.connections} " \
              "connections"
    if args.rounds <= 1:  # each server alone, for the whole duration, one after another
        for name, target, run_env, tree in runs:
            proc, port, log = _serve(target, run_env, tree, args, tmp)
            try:
                _warm(name, port, log, load, paths, args, tmp)
                before = _cpu_seconds(proc.pid)
                rates[name] = load(port, paths, args.duration, args.connections, tmp)
                spent = _cpu_seconds(proc.pid) - before
                if rates[name]:
                    print(f"    {name}: server CPU "
                          f"{1000 * spent / (rates[name] * args.duration):.3f} ms/request")
                rss = ", ".join(f"{rss_mb(c):.0f}" for c in _children(proc.pid))
                print(f"    {name}: worker RSS after the run: {rss or '?'} MB")
            finally:
                _stop(proc)
            print(f"{setting}, {args.duration} s: {name:<12} {rates[name]:8.0f} req/s"
                  f"  (load {_load()})")
    else:
        # Every server up at once, measured in turn in short bursts (the order reversed
        # every round): work that others start on a shared machine falls on all alike.
        burst = max(1, round(args.duration / args.rounds))
        servers: list[tuple[str, subprocess.Popen, int, Path]] = []
        try:
            for name, target, run_env, tree in runs:
                servers.append((name, *_serve(target, run_env, tree, args, tmp)))
            for name, _proc, port, log in servers:
                _warm(name, port, log, load, paths, args, tmp)
            done = dict.fromkeys((s[0] for s in servers), 0.0)
            cpu = dict.fromkeys(done, 0.0)
            for r in range(args.rounds):
                for name, proc, port, _log in servers if r % 2 == 0 else servers[::-1]:
                    before = _cpu_seconds(proc.pid)
                    done[name] += load(port, paths, burst, args.connections, tmp) * burst
                    cpu[name] += _cpu_seconds(proc.pid) - before
            for name, proc, _port, _log in servers:
                rates[name] = done[name] / (burst * args.rounds)
                rss = ", ".join(f"{rss_mb(c):.0f}" for c in _children(proc.pid))
                per = 1000 * cpu[name] / done[name] if done[name] else 0.0
                print(f"{setting}, {args.rounds} rounds of {burst} s: {name:<12} "
                      f"{rates[name]:8.0f} req/s, server CPU {per:.3f} ms/request  "
                      f"(worker RSS {rss or '?'} MB)")
            print(f"    load average at the end: {_load()}")
        finally:
            for _name, proc, _port, _log in servers:
                _stop(proc)
    for name, rate in rates.items():
        if name != "hello world":
            print(f"{name} /resolve/api = {100 * rate / rates['hello world']:.0f} % "
                  "of hello world")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--titles", type=int, default=50_000)
    ap.add_argument("--packages", type=int, default=20)
    ap.add_argument("--institutions", type=int, default=130)
    ap.add_argument("--urls", type=int, default=10_000)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1,
                    help="Above 1: run every gunicorn at once and measure them in turn, this "
                         "many bursts each (--duration split between them): fairer on a "
                         "machine other work shares.")
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--index-records", type=int, default=0,
                    help="Records in the index the open-copy lookup reads (default: no index, "
                         "as in the figures before; then no lookup is made).")
    ap.add_argument("--index-engine", default="whoosh", choices=("whoosh", "tantivy"))
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--python-load", action="store_true", help="Use the Python load generator.")
    ap.add_argument("--without-usage-log", action="store_true",
                    help="Stub the per-request usage log, to measure its cost.")
    ap.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                    help="Also serve the same instance from another checkout of lienhop (say, "
                         "a git worktree of the previous commit) through gunicorn, to compare "
                         "requests/s in the same run.")
    ap.add_argument("--request-log", default="buffered",
                    type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
                    help="Request-log variants, comma-separated: write-through, buffered.")
    args = ap.parse_args()
    for variant in args.request_log:
        if variant not in REQUEST_LOG:
            ap.error(f"--request-log: {variant!r} is not one of {', '.join(REQUEST_LOG)}")
    if not OPENURLS.exists():
        sys.exit(f"{OPENURLS} is missing: the benchmark replays real OpenURLs from it")
    print(f"python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} CPUs")
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="lienhop-bench-resolve-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update({"LIENHOP_HOME": str(tmp / "instance"), "LIENHOP_ENV": "production",
                "LIENHOP_SECRET_KEY": "bench-secret", "LIENHOP_LOG_LEVEL": "WARNING",
                "LIENHOP_RATE_LIMIT": "0"})
    os.environ.update(env)
    try:
        from resolver import create_app

        app = create_app()
        urls = real_openurls()
        codes = build_kb(app.extensions["lienhop.sessions"], urls, args.titles, args.packages,
                         args.institutions, rng)
        work = workload(urls, codes, args.urls, rng)
        if args.index_records:
            build_index(app.config["LIENHOP"].index_dir, urls, args.index_records,
                        args.index_engine)
        if args.without_usage_log:
            print("usage log stubbed:", mute_usage_log())
        print(f"workload: {len(work)} OpenURLs ({len(urls)} real, the rest varied copies)")
        for variant in args.request_log:  # one app each, on the same instance
            os.environ.update(REQUEST_LOG[variant])
            in_process(create_app(), work, variant)
        if not args.skip_http:
            http_bench(env, work, args, tmp)
        try:  # the rows still held in this process, before their database goes
            from resolver.usage.logbuffer import flush_all
        except ImportError:  # a tree from before the buffer
            pass
        else:
            flush_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
