"""Load under attack: do normal search and resolve clients keep their pace beside hostile ones?

    .venv/bin/python bench/hostile_load.py [--records 10000 --duration 15 --workers 4
                                            --normal 4 --hostile 8 --normal-rate 5
                                            --rate-limit 10 --rate-burst 40] [--quick]

A throw-away instance (temp dir, production settings, SQLite) gets a search index of
``--records`` generated Vietnamese records (bench/search.py's generator) and a small knowledge
base (bench/resolve.py's ``build_kb``, fed with the real NYU OpenURLs), and is served by
gunicorn (``wsgi:app``, ``--workers`` sync workers as ``gunicorn wsgi:app`` runs in
production, ``--timeout 30``) on 127.0.0.1, with the production rate limit per client address
(``LIENHOP_RATE_LIMIT`` 10/s, ``LIENHOP_RATE_BURST`` 40; ``--rate-limit 0`` switches it off).

Every client has its own address, as on the internet: each binds its socket to its own loopback
source address (Linux routes all of 127.0.0.0/8 to ``lo``), 127.0.1.1, 127.0.1.2, ... for the
normal clients and 127.0.0.2, 127.0.0.3, ... for the hostile ones, so the server's per-address
limit tells them apart as it would real clients, instead of seeing them all as one.

Phase 1: ``--normal`` client threads for ``--duration`` seconds, each cycling through
``/search`` and ``/api/search`` (2-3 words of a record's title, half typed without
diacritics) and ``/resolve`` and ``/resolve/api`` (real OpenURLs and ``rft.issn`` +
``rft.date`` links to titles in the knowledge base). Phase 2: the same, beside ``--hostile``
threads, unpaced (each sends its next request as soon as it has an answer), sending what
the security review of issue 12 sent: 25 random 19-letter words (the
spelling-suggestion DoS), broken year filters, deep and absurd page numbers, 1-5 MB POST bodies
to ``/admin/login`` and ``/resolve/delivery`` (streamed), garbage OpenURLs, a 4,000-character
query and invalid percent-encoding.

Normal clients are paced like people in a busy library: at most ``--normal-rate`` (5) requests
per second each, request start to request start (a slow answer is followed at once, never by a
catch-up burst). A person reading results does not search 5 times a second, let alone 20; 5/s
is a generous upper bound for a busy reading-room PC, well under the 10/s limit, so a normal
client is never refused by the limiter. ``--normal-rate 0`` sends unpaced, as hostile clients do.

Target (issue 12): in phase 2 the normal clients keep at least half their phase-1 request
rate and see 0 errors (any status but 2xx/3xx, 429 included, or no answer). Every 5xx a
hostile client gets is printed loudly, and so is how many hostile requests the rate limit
refused (429). Normal and hostile clients run in two separate processes, so the load
generator's own GIL does not tie them together; each request opens its own connection.

Bounded: only 127.0.0.1 is contacted (from loopback source addresses), every client loop
stops at ``--duration`` and at a request count, every socket operation has a ``--timeout``
(10 s), big bodies are capped per client, and gunicorn and the client processes are stopped
in ``finally`` (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import queue
import random
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Only stdlib at the top of bench/resolve.py: the spawned client processes import this cheaply.
from bench.resolve import (  # noqa: E402
    _children,
    _free_port,
    _wait,
    build_kb,
    pct,
    real_openurls,
    rss_mb,
    workload,
)

HOST = "127.0.0.1"  # the only host this script ever contacts
MAX_NORMAL_CLIENTS = 254  # source addresses 127.0.1.1 .. 127.0.1.254
MAX_HOSTILE_CLIENTS = 253  # source addresses 127.0.0.2 .. 127.0.0.254
NORMAL_KINDS = ("search", "api_search", "resolve", "resolve_api")
HOSTILE_KINDS = ("suggest_dos", "bad_year", "deep_page", "post_login", "post_delivery",
                 "garbage_openurl", "long_q", "bad_percent")
MAX_NORMAL_PER_THREAD = 100_000
MAX_HOSTILE_PER_THREAD = 20_000
MAX_BIG_POSTS_PER_THREAD = 60  # at most ~300 MB sent by one hostile thread
CHUNK = b"a" * 65536




def normal_source(k: int) -> str:
    """The loopback source address of normal client ``k``."""
    return f"127.0.1.{1 + k}"


def hostile_source(k: int) -> str:
    """The loopback source address of hostile client ``k`` (127.0.0.1 is the server's)."""
    return f"127.0.0.{2 + k}"


# ------------------------------------------------------------------------------ facts


def machine_facts() -> list[str]:
    """What a reader needs to compare two runs: cores, load, versions, time."""
    try:
        gunicorn = subprocess.run([str(Path(sys.executable).with_name("gunicorn")), "--version"],
                                  capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        gunicorn = "gunicorn ?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"date -u: {datetime.datetime.now(datetime.UTC):%a %b %d %H:%M:%S UTC %Y}",
        f"nproc: {len(os.sched_getaffinity(0))}, {platform.platform()}",
        f"python {platform.python_version()}, {gunicorn}",
        f"load average before the run: {load}",
    ]


# ---------------------------------------------------------------------------- instance


def _title_words(title: str) -> list[str]:
    return [w for w in unicodedata.normalize("NFC", title).lower().split() if w.isalpha()]


def search_queries(records: list, n: int, rng: random.Random) -> list[str]:  # type: ignore[type-arg]
    """2-3 consecutive words of a title; every other one folded (typed without diacritics)."""
    from index.analysis import fold

    out = []
    while len(out) < n:
        words = _title_words(rng.choice(records).titles[0])
        if len(words) < 3:
            continue
        k = rng.randint(2, 3)
        start = rng.randint(0, len(words) - k)
        q = " ".join(words[start:start + k])
        out.append(fold(q) if len(out) % 2 else q)
    return out


def resolve_queries(codes: list[str], n: int, rng: random.Random) -> list[str]:
    """Half real NYU OpenURLs (with an ``inst`` or not), half ``rft.issn`` + ``rft.date``
    links to titles the knowledge base holds; only those that parse."""
    from resolver.openurl import CitationError, parse_openurl

    urls = real_openurls()
    issns = []
    for q in urls:
        try:
            c = parse_openurl(q)
        except CitationError:
            continue
        if c.issn and len(c.issn) == 9:
            issns.append(c.issn)
    real = []
    for q, _ip in workload(urls, codes, 4 * n, rng):
        try:
            parse_openurl(q)
        except CitationError:
            continue
        real.append(q)
    rng.shuffle(real)
    out = real[:n // 2]
    while len(out) < n:
        out.append(f"url_ver=Z39.88-2004&rft.issn={rng.choice(issns)}"
                   f"&rft.date={rng.randint(1990, 2025)}&inst={rng.choice(codes)}")
    rng.shuffle(out)
    return out


def build_instance(home: Path, n_records: int, n_queries: int, seed: int
                   ) -> tuple[list[tuple[str, str]], list[str]]:
    """Index, knowledge base and the normal clients' requests, checked in-process.

    Returns (kind, path) pairs that answer 2xx/3xx on an idle server (a real OpenURL that the
    resolver rightly refuses would otherwise count as a load error) and sample words for the
    hostile 4,000-character query.
    """
    from bench.search import generate
    from index import rebuild
    from index.analysis import fold
    from resolver import create_app

    rng = random.Random(seed)
    t = time.perf_counter()
    records = generate(n_records, seed=seed)
    print(f"generated {len(records)} records in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    rebuild(home / "index", records)
    print(f"index built in {time.perf_counter() - t:.1f} s "
          f"({len(records) / (time.perf_counter() - t):.0f} rec/s)", flush=True)
    app = create_app()
    codes = build_kb(app.extensions["lienhop.sessions"], real_openurls(), 2000, 4, 20, rng)
    qs = search_queries(records, n_queries, rng)
    rs = resolve_queries(codes, n_queries, rng)
    candidates = ([("search", "/search?q=" + quote(q)) for q in qs]
                  + [("api_search", "/api/search?q=" + quote(q)) for q in qs]
                  + [("resolve", "/resolve?" + q) for q in rs]
                  + [("resolve_api", "/resolve/api?" + q) for q in rs])
    client = app.test_client()
    kept, refused = [], {}
    t = time.perf_counter()
    for i, (kind, path) in enumerate(candidates):
        if kind.endswith("search") and i % len(qs) >= 20:  # queries of title words: a sample
            kept.append((kind, path))
            continue
        status = client.get(path, environ_base={"REMOTE_ADDR": HOST}).status_code
        if status < 400 or status >= 500:  # a 5xx on an idle server stays in: it is a bug
            kept.append((kind, path))
        else:
            refused[kind] = refused.get(kind, 0) + 1
    print(f"normal requests: {len(kept)}, resolver links checked in-process in "
          f"{time.perf_counter() - t:.1f} s (left out, 4xx on an idle server: "
          f"{refused or 'none'})", flush=True)
    rng.shuffle(kept)
    # ASCII words keep the 4,000-character hostile query under gunicorn's 4,094-byte
    # request line, so it reaches the app instead of being refused by gunicorn (414).
    words = sorted({w for r in records[:500] for w in _title_words(fold(r.titles[0]))
                    if w.isascii()})
    return kept, words


def start_gunicorn(port: int, args: argparse.Namespace, env: dict[str, str], log: Path
                   ) -> subprocess.Popen:  # type: ignore[type-arg]
    exe = Path(sys.executable).with_name("gunicorn")
    cmd = [str(exe), "-w", str(args.workers), "-k", args.worker_class, "--timeout", "30",
           "-b", f"{HOST}:{port}", "--chdir", str(ROOT), "--log-level", "warning"]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads)]
    with log.open("wb") as err:
        return subprocess.Popen(cmd + ["wsgi:app"], env=env, stdout=subprocess.DEVNULL,
                                stderr=err)


def check_alive(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Figures from a dead server would be meaningless: stop the run."""
    if proc.poll() is not None:
        raise SystemExit(f"gunicorn exited with {proc.returncode}: figures withdrawn")


def stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ------------------------------------------------------------------------------ clients


def send(port: int, method: str, path: str, timeout: float, source: str, body_size: int = 0,
         prefix: bytes = b"") -> int | str:
    """One request on its own connection from loopback address ``source``: the status, or
    the name of what went wrong.

    A body is streamed in 64 KB chunks; a server that answers (413) and closes before the
    end makes the send fail, and the answer is still read when it arrived.
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(source, 0))
    try:
        if body_size:
            conn.putrequest(method, path)
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
            conn.putheader("Content-Length", str(body_size))
            conn.endheaders()
            try:
                conn.send(prefix)
                left = body_size - len(prefix)
                while left > 0:
                    conn.send(CHUNK[:min(left, len(CHUNK))])
                    left -= len(CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            conn.request(method, path)
        r = conn.getresponse()
        r.read()
        return r.status
    except TimeoutError:
        return "timeout"
    except (OSError, http.client.HTTPException) as e:
        return type(e).__name__
    finally:
        conn.close()


def _ok(status: int | str) -> bool:
    return isinstance(status, int) and 200 <= status < 400


def _normal_thread(port: int, paths: list[tuple[str, str]], k: int, threads: int,
                   start: float, end: float, rate: float, timeout: float,
                   out: dict[str, Any]) -> None:
    i = k * 7919
    refused = 0
    source = normal_source(k)
    interval = 1.0 / rate if rate > 0 else 0.0
    next_at = start + interval * k / threads  # staggered: people do not click in step
    for _ in range(MAX_NORMAL_PER_THREAD):
        if interval:
            time.sleep(max(0.0, min(next_at, end) - time.time()))
        if time.time() >= end or refused >= 20:  # 20 refusals in a row: the server is gone
            break
        next_at = time.time() + interval
        kind, path = paths[i % len(paths)]
        i += 1
        t = time.perf_counter()
        status = send(port, "GET", path, timeout, source)
        ms = (time.perf_counter() - t) * 1000
        refused = refused + 1 if status == "ConnectionRefusedError" else 0
        row = out[kind]
        row["n"] += 1
        row["ms"].append(ms)
        if not _ok(status):
            row["errors"] += 1
            if status == 429:
                row["429"] += 1
            if len(row["samples"]) < 5:
                row["samples"].append(f"{status} {path[:100]}")
    out["last"] = max(out["last"], time.time())


def normal_clients(port: int, paths: list[tuple[str, str]], threads: int, start_at: float,
                   duration: float, rate: float, timeout: float, results: Any) -> None:
    """Run in its own process: ``threads`` clients from ``start_at`` for ``duration`` s,
    each at most ``rate`` requests/s (0: unpaced)."""
    out: dict[str, Any] = {k: {"n": 0, "errors": 0, "429": 0, "ms": [], "samples": []}
                           for k in NORMAL_KINDS}
    out["last"] = start_at
    time.sleep(max(0.0, start_at - time.time()))
    ts = [threading.Thread(target=_normal_thread,
                           args=(port, paths, k, threads, start_at, start_at + duration, rate,
                                 timeout, out))
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    results.put(("normal", out))


def hostile_request(kind: str, rng: random.Random, words: list[str]
                    ) -> tuple[str, str, int, bytes]:
    """(method, path, body size, body prefix) of one hostile request of ``kind``."""
    common = quote(" ".join(rng.sample(words, 2)))
    if kind == "suggest_dos":
        q = " ".join("".join(rng.choices(string.ascii_lowercase, k=19)) for _ in range(25))
        return "GET", "/api/search?q=" + quote(q), 0, b""
    if kind == "bad_year":
        year = rng.choice(["abc", "0", "-", "..", "12345678901234567890", "2020-abc",
                           "9999-0000", "-5", "1e30"])
        page = rng.choice(["/search", "/api/search"])
        return "GET", f"{page}?q=x&year={quote(year)}", 0, b""
    if kind == "deep_page":
        page = rng.choice(["99999999999999999999", "10000", "-1", "1e9", "abc"])
        size = rng.choice(["", "&size=100", "&size=1000000"])
        where = rng.choice(["/search", "/api/search"])
        return "GET", f"{where}?q={common}&page={page}{size}", 0, b""
    if kind in ("post_login", "post_delivery"):
        size = rng.randint(1_000_000, 5_000_000)
        if kind == "post_login":
            return "POST", "/admin/login", size, b"password=x&username="
        return "POST", "/resolve/delivery", size, b"name=x&email=a%40b.vn&kev=rft.issn%3D1&note="
    if kind == "garbage_openurl":
        junk = "".join(rng.choices(string.printable, k=rng.randint(10, 1000)))
        q = rng.choice([
            quote(junk, safe=""),
            "rft.date=99999999999999&rft.issn=XXXX-XXXX&rft.spage=-5&rft.epage=1e309",
            "rft_id=info:doi/" + quote(junk, safe="") + "&redirect=1",
            "url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&" + "rft.au=x&" * 400,
            "rft.isbn=" + "9" * rng.choice([3000, 9000]),  # 9000: past the request line
            "url_ver=Z39.88-2004&rft.issn=0028-0836&rft.date=9999-12&rft.volume=-1&inst="
            + quote(junk[:200], safe=""),
        ])
        return "GET", rng.choice(["/resolve?", "/resolve/api?"]) + q, 0, b""
    if kind == "long_q":
        q: list[str] = []
        while sum(len(w) + 1 for w in q) < 3950:
            q.append(rng.choice(words) if rng.random() < 0.7 else
                     "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 12))))
        return "GET", rng.choice(["/search?q=", "/api/search?q="]) + "+".join(q)[:4000], 0, b""
    path = rng.choice(["/search?q=%E0%A4%A", "/search?q=%ZZ%", "/api/search?q=%C3%28%FF",
                       "/resolve?rft.atitle=%FF%FE%00&rft.issn=%", "/search?q=ab%00cd",
                       "/record/%C0%AF", "/resolve/api?rft.jtitle=%ED%A0%80", "/search?%%%=%"])
    return "GET", path, 0, b""


def _hostile_thread(port: int, words: list[str], k: int, seed: int, end: float,
                    timeout: float, out: dict[str, Any]) -> None:
    rng = random.Random(seed + k)
    big = refused = 0
    i = k
    source = hostile_source(k)
    for _ in range(MAX_HOSTILE_PER_THREAD):
        if time.time() >= end or refused >= 20:
            break
        kind = HOSTILE_KINDS[i % len(HOSTILE_KINDS)]
        i += 1
        if kind.startswith("post_"):
            if big >= MAX_BIG_POSTS_PER_THREAD:
                continue
            big += 1
        method, path, size, prefix = hostile_request(kind, rng, words)
        t = time.perf_counter()
        status = send(port, method, path, timeout, source, size, prefix)
        out["ms"][kind].append((time.perf_counter() - t) * 1000)
        refused = refused + 1 if status == "ConnectionRefusedError" else 0
        hist = out[kind]
        hist[str(status)] = hist.get(str(status), 0) + 1
        if isinstance(status, int) and status >= 500 and len(out["samples"]) < 10:
            out["samples"].append(f"{status} {method} {path[:120]}")
    out["last"] = max(out["last"], time.time())


def hostile_clients(port: int, words: list[str], threads: int, seed: int, start_at: float,
                    duration: float, timeout: float, results: Any) -> None:
    """Run in its own process: ``threads`` hostile clients, same window as the normal ones."""
    out: dict[str, Any] = {k: {} for k in HOSTILE_KINDS}
    out["last"], out["samples"], out["ms"] = start_at, [], {k: [] for k in HOSTILE_KINDS}
    time.sleep(max(0.0, start_at - time.time()))
    ts = [threading.Thread(target=_hostile_thread,
                           args=(port, words, k, seed, start_at + duration, timeout, out))
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    results.put(("hostile", out))


# -------------------------------------------------------------------------------- phases


def run_phase(port: int, paths: list[tuple[str, str]], words: list[str], hostile: int,
              duration: float, args: argparse.Namespace) -> dict[str, Any]:
    """Both client processes in one window; they are stopped whatever happens."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 1.5  # time for the spawned interpreters to start
    procs = [ctx.Process(target=normal_clients, args=(port, paths, args.normal, start_at,
                                                     duration, args.normal_rate, args.timeout,
                                                     results))]
    if hostile:
        procs.append(ctx.Process(target=hostile_clients,
                                 args=(port, words, hostile, args.seed, start_at, duration,
                                       args.timeout, results)))
    out: dict[str, Any] = {"start": start_at}
    finished = False
    try:
        for p in procs:
            p.start()
        # A client process that dies (Ctrl-C, a crash) never answers: poll, not block.
        # Longest possible wait: the window, then one request per client at its timeout,
        # plus a big body at loopback speed.
        deadline = time.time() + 1.5 + duration + 2 * args.timeout + 30
        while len(out) <= len(procs):
            try:
                name, data = results.get(timeout=1.0)
                out[name] = data
            except queue.Empty:
                if time.time() > deadline:
                    raise TimeoutError("the client processes did not finish") from None
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a client process failed") from None
        finished = True
    finally:
        for p in procs:
            p.join(timeout=5 if finished else 0)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
    return out


def summarise(name: str, phase: dict[str, Any]) -> dict[str, Any]:
    normal = phase["normal"]
    elapsed = max(normal["last"] - phase["start"], 1e-9)
    n = sum(normal[k]["n"] for k in NORMAL_KINDS)
    errors = sum(normal[k]["errors"] for k in NORMAL_KINDS)
    ms = [x for k in NORMAL_KINDS for x in normal[k]["ms"]]
    rate = n / elapsed
    refused = sum(normal[k]["429"] for k in NORMAL_KINDS)
    print(f"\n== {name}")
    print(f"  normal : {n} requests in {elapsed:.1f} s = {rate:.1f} req/s, errors {errors} "
          f"(429: {refused}), p50 {pct(ms, 50) if ms else 0:.0f} ms, "
          f"p95 {pct(ms, 95) if ms else 0:.0f} ms")
    for k in NORMAL_KINDS:
        row = normal[k]
        lat = row["ms"] or [0.0]
        print(f"    {k:<12} {row['n'] / elapsed:7.1f} req/s  errors {row['errors']:<4} "
              f"p50 {pct(lat, 50):6.0f} ms  p95 {pct(lat, 95):6.0f} ms")
        for s in row["samples"]:
            print(f"      error: {s}")
    if "hostile" in phase:
        h = phase["hostile"]
        h_elapsed = max(h["last"] - phase["start"], 1e-9)
        total: dict[str, int] = {}
        for k in HOSTILE_KINDS:
            for status, c in h[k].items():
                total[status] = total.get(status, 0) + c
        hn = sum(total.values())
        print(f"  hostile: {hn} requests in {h_elapsed:.1f} s = {hn / h_elapsed:.1f} req/s, "
              f"status {dict(sorted(total.items()))}")
        for k in HOSTILE_KINDS:
            lat = h["ms"][k] or [0.0]
            print(f"    {k:<16} p50 {pct(lat, 50):6.0f} ms  p95 {pct(lat, 95):6.0f} ms  "
                  f"{dict(sorted(h[k].items()))}")
        limited = total.get("429", 0)
        print(f"  hostile 429 (rate limit): {limited} of {hn} requests "
              f"({100 * limited / max(hn, 1):.1f} %); answered otherwise: {hn - limited} = "
              f"{(hn - limited) / h_elapsed:.1f} req/s")
        print(f"  all    : {(n + hn) / max(elapsed, h_elapsed):.1f} req/s")
        fives = {s: c for s, c in total.items() if s.isdigit() and int(s) >= 500}
        if fives:
            print(f"  !!!!!!!! HOSTILE REQUESTS GOT 5xx: {fives} !!!!!!!!")
            for s in h["samples"]:
                print(f"  !!!!!!!! {s}")
    return {"rate": rate, "errors": errors, "all": (n + hn) / max(elapsed, h_elapsed)
            if "hostile" in phase else rate}


def gunicorn_log(log: Path) -> None:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    lines = text.splitlines()
    timeouts = sum("WORKER TIMEOUT" in line for line in lines)
    errors = [line for line in lines if "ERROR" in line or "level=error" in line.lower()]
    print(f"gunicorn log: {len(lines)} lines, {timeouts} worker timeouts, "
          f"{len(errors)} error lines")
    for line in errors[:5]:
        print(f"    {line[:200]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--duration", type=float, default=15, help="seconds per phase")
    ap.add_argument("--warm-up", type=float, default=3)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    ap.add_argument("--threads", type=int, default=4, help="per worker, with gthread")
    ap.add_argument("--normal", type=int, default=4,
                    help=f"normal client threads (at most {MAX_NORMAL_CLIENTS})")
    ap.add_argument("--hostile", type=int, default=8,
                    help=f"hostile client threads (at most {MAX_HOSTILE_CLIENTS})")
    ap.add_argument("--normal-rate", type=float, default=5.0,
                    help="requests/s per normal client, at most (a person in a busy library; "
                         "0: unpaced)")
    ap.add_argument("--rate-limit", type=float, default=10.0,
                    help="the server's LIENHOP_RATE_LIMIT, requests/s per client address "
                         "(production default 10; 0: off)")
    ap.add_argument("--rate-burst", type=int, default=40,
                    help="the server's LIENHOP_RATE_BURST (production default 40)")
    ap.add_argument("--queries", type=int, default=100, help="distinct queries per kind")
    ap.add_argument("--timeout", type=float, default=10, help="per socket operation, s")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1,000 records, 3 s phases, 1 s warm-up, 60 queries")
    args = ap.parse_args()
    if args.quick:
        args.records, args.duration, args.warm_up, args.queries = 1000, 3, 1, 60
    if not 1 <= args.normal <= MAX_NORMAL_CLIENTS or not 0 <= args.hostile <= MAX_HOSTILE_CLIENTS:
        ap.error(f"--normal 1..{MAX_NORMAL_CLIENTS}, --hostile 0..{MAX_HOSTILE_CLIENTS}: one "
                 "loopback source address each")
    if args.normal_rate < 0 or args.rate_limit < 0 or args.rate_burst < 0:
        ap.error("--normal-rate, --rate-limit and --rate-burst must not be negative")
    started = time.perf_counter()
    for line in machine_facts():
        print(line)
    print(f"gunicorn wsgi:app, {args.workers} {args.worker_class} workers"
          f"{f' x {args.threads} threads' if args.worker_class == 'gthread' else ''}, "
          f"--timeout 30; {args.normal} normal + {args.hostile} hostile clients, "
          f"{args.duration:g} s per phase; {args.records} records", flush=True)
    pace = f"at most {args.normal_rate:g} req/s each" if args.normal_rate else "unpaced"
    limit = (f"LIENHOP_RATE_LIMIT={args.rate_limit:g}/s per address (burst {args.rate_burst}, "
             f"per worker: up to {args.workers * args.rate_limit:g}/s in all)"
             if args.rate_limit else "LIENHOP_RATE_LIMIT=0 (off)")
    print(f"normal clients {pace}, from {normal_source(0)}..{normal_source(args.normal - 1)}; "
          f"hostile clients unpaced"
          + (f", from {hostile_source(0)}..{hostile_source(args.hostile - 1)}"
             if args.hostile else "")
          + f"; {limit}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="lienhop-bench-hostile-"))
    home = tmp / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update({"LIENHOP_HOME": str(home), "LIENHOP_ENV": "production",
                "LIENHOP_SECRET_KEY": "bench-hostile-secret", "LIENHOP_LOG_LEVEL": "WARNING"})
    # The in-process check of the normal requests sends hundreds from one address: unlimited.
    os.environ.update(env, LIENHOP_RATE_LIMIT="0")
    env.update({"LIENHOP_RATE_LIMIT": f"{args.rate_limit:g}",
                "LIENHOP_RATE_BURST": str(args.rate_burst)})
    proc = None
    try:
        paths, words = build_instance(home, args.records, args.queries, args.seed)
        port = _free_port()
        log = tmp / "gunicorn.log"
        proc = start_gunicorn(port, args, env, log)
        _wait(port)
        # Workers load the app and the index on their first requests: warm up until a
        # round passes without an error (at most 5 rounds).
        for _ in range(5):
            w = run_phase(port, paths, words, 0, args.warm_up, args)["normal"]
            errors = sum(w[k]["errors"] for k in NORMAL_KINDS)
            print(f"warm-up {args.warm_up:g} s: {sum(w[k]['n'] for k in NORMAL_KINDS)} "
                  f"requests, {errors} errors "
                  f"{[s for k in NORMAL_KINDS for s in w[k]['samples']][:3]}", flush=True)
            check_alive(proc)
            if not errors:
                break
        pids = set(_children(proc.pid))
        print(f"load average before phase 1: "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        phase = run_phase(port, paths, words, 0, args.duration, args)
        check_alive(proc)
        one = summarise("phase 1: normal clients alone", phase)
        rss = ", ".join(f"{rss_mb(c):.0f}" for c in sorted(pids))
        print(f"  worker RSS: {rss} MB", flush=True)
        phase = run_phase(port, paths, words, args.hostile, args.duration, args)
        check_alive(proc)
        two = summarise("phase 2: normal clients beside hostile clients", phase)
        now = set(_children(proc.pid))
        rss = ", ".join(f"{rss_mb(c):.0f}" for c in sorted(now))
        print(f"  worker RSS: {rss} MB; workers replaced during phase 2: {len(pids - now)}")
        print(f"load average after phase 2: "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        gunicorn_log(log)
        ratio = two["rate"] / one["rate"] if one["rate"] else 0.0
        share = args.normal / (args.normal + args.hostile)
        print(f"all requests/s, phase 1 -> 2: {one['all']:.1f} -> {two['all']:.1f}; for "
              f"reference, {args.normal} of {args.normal + args.hostile} clients that cost the "
              f"same per request would get {share:.2f} of the server")
        ok = ratio >= 0.5 and one["errors"] == 0 and two["errors"] == 0
        print(f"\nnormal req/s phase 2 / phase 1 = {two['rate']:.1f} / {one['rate']:.1f} = "
              f"{ratio:.2f}; normal errors {one['errors']} + {two['errors']}  ->  "
              f"{'PASS' if ok else 'FAIL'} (target: ratio >= 0.50 and 0 normal errors)")
        print(json.dumps({"ratio": round(ratio, 3), "phase1_rps": round(one["rate"], 1),
                          "phase2_rps": round(two["rate"], 1),
                          "normal_errors": one["errors"] + two["errors"], "pass": ok}))
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
