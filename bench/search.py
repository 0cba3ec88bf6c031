"""Search benchmark: lienhop's engines (Whoosh, tantivy) against SQLite FTS5, same records.

    .venv/bin/python bench/search.py --records 100000 \\
        [--engines lienhop-whoosh,lienhop-tantivy,fts5] [--known-items 200 --lookalikes 200]

The corpus is written once (``records.jsonl`` in the work directory, streamed: a million
records never sit in memory) from bench/vi_records.py's generated Vietnamese records, with
the known-item corpus of bench/known_items.py spread through it: ``--known-items`` targets,
each among ``--lookalikes`` look-alike records. Then, for each engine, one child process
rebuilds an index from that file (build rate, peak RSS of the build) and a second child
opens it read-only as a web worker would and runs the queries (RSS once warm, peak RSS,
latencies and the search process's CPU per query, known-item MRR), so each engine's
memory is its own. ``--keep`` keeps the indexes; ``--reuse-index`` then searches them again
without building (to compare two checkouts of the code on one index, run each checkout's
bench/search.py with the same ``--work``, alternately).

Queries: 200 fixed by the seed (folded, accented, phrases, fielded, facet-filtered; every
one with facet counts, 20 a page), then the known-item queries (10 written forms a target,
top 10, no facets) whose mean reciprocal rank is reported by form, then the resolver's
known-item ``lookup`` (lienhop engines; p50/p95 by kind): by DOI, ISBN and handle of a
sample of records (the sampled records are given an ISBN and a handle), and by exact title
+ year of the sample and of the known-item targets (each among its look-alikes).

Engines: ``lienhop-whoosh`` (alias ``lienhop``), ``lienhop-tantivy`` (skipped, with the
reason, while ``index`` has no tantivy engine), ``plain`` (Whoosh's StandardAnalyzer, the
issue 4 baseline) and ``fts5`` (``unicode61 remove_diacritics 2`` over text folded in
Python, bm25 order).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.known_items import FORMS, TOP, KnownItems, reciprocal_rank  # noqa: E402
from bench.vi_records import (  # noqa: E402, F401  (generate: bench/web.py, suggest.py)
    OLD_STYLE,
    WORD,
    base_records,
    generate,
    read_jsonl,
    write_jsonl,
)
from index import Record, open_index, rebuild  # noqa: E402
from index.analysis import fold  # noqa: E402

ALIASES = {"lienhop": "lienhop-whoosh"}


def make_queries(records: list[Record], seed: int = 7) -> list[dict]:
    """200 queries: (q, filters, year_range) in the lienhop language."""
    rng = random.Random(seed)
    qs: list[dict] = []
    kinds = ["folded", "accented", "phrase", "fielded", "facet"] * 40
    for kind in kinds:
        r = rng.choice(records)
        words = WORD.findall(unicodedata.normalize("NFC", r.title))
        k = rng.randint(2, 3)
        start = rng.randint(0, max(0, len(words) - k))
        chunk = " ".join(words[start:start + k]).lower()
        entry: dict = {"kind": kind, "filters": None, "year_range": None}
        if kind == "folded":
            entry["q"] = fold(chunk)
        elif kind == "accented":
            entry["q"] = chunk
        elif kind == "phrase":
            entry["q"] = f'"{chunk}"'
        elif kind == "fielded":
            choice = rng.randrange(3)
            if choice == 0:
                entry["q"] = f'author:"{r.creators[0]}"'
            elif choice == 1:
                entry["q"] = f"title:{words[start]} {fold(words[min(start + 1, len(words) - 1)])}"
            else:
                entry["q"] = f"{fold(chunk)} year:2010-2020"
        else:
            entry["q"] = fold(chunk)
            entry["filters"] = {"access": ["open"], "type": [r.type]}
            entry["year_range"] = (2000, 2025)
        qs.append(entry)
    return qs


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def proc_status_kb(key: str) -> int:
    """``VmRSS`` / ``VmHWM`` (peak RSS) of this process, in kB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ------------------------------------------------------------------------ corpus


def known_item_plan(n: int, k: int, per_target: int) -> tuple[int, int]:
    """(targets, look-alikes each) that fit in half of ``n`` records."""
    if k * (per_target + 1) <= n // 2:
        return k, per_target
    if (fits := (n // 2) // (per_target + 1)) >= 1:
        return fits, per_target
    return (1, n // 2 - 1) if k and n // 2 >= 2 else (0, 0)


def corpus(n: int, seed: int, known: KnownItems | None, known_queries: list[dict],
           targets: list[Record] | None = None) -> Iterator[Record]:
    """``n`` records: the generated ones with the known-item groups spread evenly through
    them (so they land in every build batch); appends the known-item queries (and to
    ``targets`` the known-item targets) as it goes."""
    size = known.size() if known else 0
    base = base_records(n - size, seed)
    groups = known.groups() if known else iter(())
    pending: list[Record] = []
    for pos in range(n):
        if size and (pos + 1) * size // n > pos * size // n:
            if not pending:
                records, queries = next(groups)
                pending = records[::-1]
                known_queries.extend(queries)
                if targets is not None and queries:
                    targets += [r for r in records if r.id == queries[0]["target"]]
            yield pending.pop()
        else:
            yield next(base)


def isbn13(n: int) -> str:
    """A valid ISBN-13 (978-604: Vietnam) numbered ``n``, hyphenated."""
    body = f"978604{n % 1_000_000:06d}"
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
    return f"{body[:3]}-{body[3:6]}-{body[6:]}-{check}"


def lookup_cases(sampled: list[Record], targets: list[Record]) -> list[dict]:
    """The known-item lookups timed: ``kind``, the ``lookup`` arguments, the id expected."""
    cases: list[dict] = []
    for r in sampled[:100]:
        if r.doi:
            cases.append({"kind": "doi", "args": {"doi": f"https://doi.org/{r.doi}"},
                          "expect": r.id})
    for r in sampled[:100]:
        cases.append({"kind": "isbn", "args": {"isbn": r.isbn[0]}, "expect": r.id})
        cases.append({"kind": "handle", "args": {"handle": f"hdl:{r.handle}"}, "expect": r.id})
    for r in sampled[:100] + targets[:100]:
        cases.append({"kind": "title+year", "args": {"title": r.title, "year": r.year},
                      "expect": r.id})
    return cases


def write_corpus(work: Path, args: argparse.Namespace) -> dict:
    """records.jsonl and queries.json in ``work`` (reused when made with the same options)."""
    k, per = known_item_plan(args.records, args.known_items, args.lookalikes)
    meta = {"records": args.records, "seed": args.seed, "known_items": k, "lookalikes": per,
            "lookups": 1}
    meta_path = work / "corpus.json"
    if meta_path.exists() and json.loads(meta_path.read_text())["options"] == meta:
        return json.loads(meta_path.read_text())
    t = time.perf_counter()
    sample_rng = random.Random(args.seed + 1)
    wanted = sorted(sample_rng.randrange(args.records) for _ in range(400))
    sampled: list[Record] = []
    known_queries: list[dict] = []
    targets: list[Record] = []
    known = KnownItems(k, per, seed=args.seed + 14) if k else None

    def tapped() -> Iterator[Record]:
        at = 0
        for pos, rec in enumerate(corpus(args.records, args.seed, known, known_queries,
                                         targets)):
            if at < len(wanted) and wanted[at] == pos:  # looked up by identifier too
                rec.isbn = [isbn13(pos)]
                rec.handle = f"11148/{pos}"
            while at < len(wanted) and wanted[at] == pos:
                sampled.append(rec)
                at += 1
            yield rec

    count = write_jsonl(tapped(), work / "records.jsonl")
    queries = make_queries(sampled)
    lookups = lookup_cases(list({r.id: r for r in sampled}.values()), targets)
    (work / "queries.json").write_text(json.dumps({"main": queries, "known": known_queries,
                                                   "lookup": lookups}, ensure_ascii=False))
    out = {"options": meta, "count": count, "generate_s": time.perf_counter() - t,
           "file_bytes": (work / "records.jsonl").stat().st_size}
    meta_path.write_text(json.dumps(out))
    return out


# ------------------------------------------------------------------------ engines


class Searcher(Protocol):
    def run(self, q: dict) -> int:
        """One page of 20 with facet counts; returns the total."""
        ...

    def top(self, text: str) -> list[list[str]]:
        """The top :data:`TOP` hits of a plain query, each as its record ids."""
        ...

    def lookup(self, args: dict) -> list[str] | None:
        """The ids ``SearchIndex.lookup`` finds (None: the engine has no lookup)."""
        ...


def engine_argument() -> bool:
    return "engine" in inspect.signature(open_index).parameters and \
        "engine" in inspect.signature(rebuild).parameters


def tantivy_missing() -> str | None:
    """Why lienhop-tantivy cannot run here, or None."""
    if not engine_argument():
        return "index.open_index/rebuild take no engine argument yet"
    if importlib.util.find_spec("index.tantivy_engine") is None:
        return "index has no tantivy_engine package yet"
    if importlib.util.find_spec("tantivy") is None:
        return "the tantivy package is not installed"
    return None


class LienhopSearcher:
    def __init__(self, path: Path):
        self.ix = open_index(path, readonly=True)

    def run(self, q: dict) -> int:
        return self.ix.search(q["q"], filters=q["filters"], year_range=q["year_range"],
                              facets=True).total

    def next_page(self, q: dict) -> int:
        """Page 2 of a query searched before (a reader paging on)."""
        return self.ix.search(q["q"], filters=q["filters"], year_range=q["year_range"],
                              facets=True, page=2).total

    def top(self, text: str) -> list[list[str]]:
        res = self.ix.search(text, size=TOP, facets=False)
        return [h.member_ids or [h.record.id] for h in res.hits]

    def lookup(self, args: dict) -> list[str] | None:
        return [r.id for r in self.ix.lookup(**args, limit=10)]


def lienhop_build(engine: str) -> Callable[[Iterable[Record], Path], None]:
    def build(records: Iterable[Record], path: Path) -> None:
        if engine_argument():
            rebuild(path, records, batch=10000, engine=engine)
        else:
            rebuild(path, records, batch=10000)
    return build


def plain_build(records: Iterable[Record], path: Path) -> None:
    from whoosh import fields, index
    from whoosh.analysis import StandardAnalyzer

    path.mkdir()
    sa = StandardAnalyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), title=fields.TEXT(analyzer=sa, stored=True),
        creators=fields.TEXT(analyzer=sa), subjects=fields.TEXT(analyzer=sa),
        abstract=fields.TEXT(analyzer=sa), institution=fields.ID(sortable=True),
        type=fields.ID(sortable=True), language=fields.ID(sortable=True),
        access=fields.ID(sortable=True), year=fields.NUMERIC(int, sortable=True))
    ix = index.create_in(str(path), schema)
    w = ix.writer(limitmb=256)
    for r in records:
        w.add_document(id=r.id, title=r.title, creators=" ; ".join(r.creators),
                       subjects=" ; ".join(r.subjects), abstract=r.abstract,
                       institution=r.institution, type=r.type, language=r.language,
                       access=r.access, year=r.year or 0)
    w.commit(optimize=True)


class PlainSearcher:
    def __init__(self, path: Path):
        from whoosh import index, sorting
        from whoosh.qparser import MultifieldParser

        ix = index.open_dir(str(path))
        self.parser = MultifieldParser(["title", "creators", "subjects", "abstract"],
                                       ix.schema)
        self.searcher = ix.searcher()
        self.groups = [sorting.FieldFacet(f) for f in ("institution", "type", "language",
                                                        "access")]
        self.groups.append(sorting.RangeFacet("year", 1990, 2030, 10))

    def run(self, q: dict) -> int:
        from whoosh import query

        text = q["q"].replace("author:", "creators:").replace("subject:", "subjects:")
        text = re.sub(r"year:(\d{4})-(\d{4})", r"year:[\1 TO \2]", text)
        qq = self.parser.parse(text)
        parts = [qq]
        for name, values in (q["filters"] or {}).items():
            parts.append(query.Or([query.Term(name, v) for v in values]))
        if q["year_range"]:
            parts.append(query.NumericRange("year", *q["year_range"]))
        final = query.And(parts) if len(parts) > 1 else qq
        res = self.searcher.search(final, limit=20, groupedby={
            f"f{i}": g for i, g in enumerate(self.groups)})
        for i in range(len(self.groups)):
            res.groups(f"f{i}")
        return len(res)

    def top(self, text: str) -> list[list[str]]:
        res = self.searcher.search(self.parser.parse(text), limit=TOP)
        return [[hit["id"]] for hit in res]

    def lookup(self, args: dict) -> list[str] | None:
        return None


def _fts_query(q: str) -> str:
    """Lienhop query language → FTS5 MATCH (folded; fields map to columns)."""
    q = re.sub(r"year:\S+", "", q)
    out = []
    for m in re.finditer(r'(\w+:)?"([^"]*)"|(\w+:)?(\S+)', q):
        field = (m.group(1) or m.group(3) or "").rstrip(":")
        text = m.group(2) if m.group(2) is not None else m.group(4)
        col = {"author": "creators", "title": "title", "subject": "subjects"}.get(field)
        toks = re.findall(r"\w+", fold(text))
        if not toks:
            continue
        phrase = '"' + " ".join(toks) + '"'
        if m.group(2) is None:
            expr = " AND ".join(f'"{t}"' for t in toks)
            out.append(f"{col}:({expr})" if col else f"({expr})")
        else:
            out.append(f"{col}:{phrase}" if col else phrase)
    return " AND ".join(out)


def fts5_build(records: Iterable[Record], path: Path) -> None:
    path.mkdir()
    db = sqlite3.connect(path / "fts.sqlite")
    db.executescript("""
        CREATE VIRTUAL TABLE t USING fts5(title, creators, subjects, abstract,
            tokenize='unicode61 remove_diacritics 2');
        CREATE TABLE m(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, institution TEXT,
            type TEXT, language TEXT, access TEXT, year INT);
    """)
    with db:
        for n, r in enumerate(records, 1):
            db.execute("INSERT INTO t(rowid, title, creators, subjects, abstract) "
                       "VALUES (?,?,?,?,?)",
                       (n, fold(r.title), fold(" ; ".join(r.creators)),
                        fold(" ; ".join(r.subjects)), fold(r.abstract)))
            db.execute("INSERT INTO m VALUES (?,?,?,?,?,?,?,?)",
                       (n, r.id, r.title, r.institution, r.type, r.language, r.access,
                        r.year))
        db.execute("CREATE INDEX m_year ON m(year)")
    db.close()


class Fts5Searcher:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(path / "fts.sqlite")

    def run(self, q: dict) -> int:
        match = _fts_query(q["q"])
        where, args = ["t MATCH ?"], [match]
        m = re.search(r"year:(\d{4})-(\d{4})", q["q"])
        yr = (int(m.group(1)), int(m.group(2))) if m else q["year_range"]
        if yr:
            where.append("m.year BETWEEN ? AND ?")
            args += list(yr)
        for name, values in (q["filters"] or {}).items():
            where.append(f"m.{name} IN ({','.join('?' * len(values))})")
            args += values
        sql_where = " AND ".join(where)
        base = f"FROM t JOIN m ON m.rowid = t.rowid WHERE {sql_where}"
        self.db.execute(f"SELECT m.id, m.title {base} ORDER BY bm25(t) LIMIT 20",
                        args).fetchall()
        total = self.db.execute(f"SELECT count(*) {base}", args).fetchone()[0]
        for col in ("institution", "type", "language", "access", "year / 10"):
            self.db.execute(f"SELECT {col}, count(*) {base} GROUP BY 1", args).fetchall()
        return total

    def top(self, text: str) -> list[list[str]]:
        rows = self.db.execute("SELECT m.id FROM t JOIN m ON m.rowid = t.rowid WHERE t MATCH ?"
                               " ORDER BY bm25(t) LIMIT ?", (_fts_query(text), TOP))
        return [[rid] for (rid,) in rows]

    def lookup(self, args: dict) -> list[str] | None:
        return None


#: name → (build(records, path), open(path) → Searcher, why it cannot run here or None)
ENGINES: dict[str, tuple[Callable[[Iterable[Record], Path], None], Callable[[Path], Searcher],
                         Callable[[], str | None]]] = {
    "lienhop-whoosh": (lienhop_build("whoosh"), LienhopSearcher, lambda: None),
    "lienhop-tantivy": (lienhop_build("tantivy"), LienhopSearcher, tantivy_missing),
    "plain": (plain_build, PlainSearcher, lambda: None),
    "fts5": (fts5_build, Fts5Searcher, lambda: None),
}


# ------------------------------------------------------------------------ child processes


class Timed:
    """An iterator that adds up the time spent producing its items (reading the archive)."""

    def __init__(self, items: Iterable[Record]):
        self.items, self.seconds, self.count = iter(items), 0.0, 0

    def __iter__(self) -> Iterator[Record]:
        return self

    def __next__(self) -> Record:
        t = time.perf_counter()
        try:
            item = next(self.items)
        finally:
            self.seconds += time.perf_counter() - t
        self.count += 1
        return item


def child_build(name: str, work: Path) -> dict:
    build = ENGINES[name][0]
    path = work / name
    shutil.rmtree(path, ignore_errors=True)
    records = Timed(read_jsonl(work / "records.jsonl"))
    cpu, t = time.process_time(), time.perf_counter()
    build(records, path)
    wall = time.perf_counter() - t
    return {"records": records.count, "build_s": wall, "read_s": records.seconds,
            "build_cpu_s": time.process_time() - cpu, "size": dir_size(path),
            "build_peak_kb": proc_status_kb("VmHWM")}


def child_search(name: str, work: Path) -> dict:
    queries = json.loads((work / "queries.json").read_text())
    t = time.perf_counter()
    searcher = ENGINES[name][1](work / name)
    open_s = time.perf_counter() - t
    main = queries["main"]
    # Warm caches (columns, tables made once per index, OS page cache), as a worker after a
    # while — with searches that are not measured, so no count a snapshot keeps for a
    # search (index/tantivy_engine/snapshot.py) serves a measured one: each is measured as
    # a first search.
    for q in queries["known"][:10]:
        searcher.run({"q": q["q"], "filters": None, "year_range": None})
    warm_kb = proc_status_kb("VmRSS")
    lat, cpu, zero = [], [], 0
    for q in main:
        c, t = time.process_time(), time.perf_counter()
        total = searcher.run(q)
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        zero += total == 0
    next_cpu = []
    if hasattr(searcher, "next_page"):  # page 2 of each query, in the same order
        for q in main:
            c = time.process_time()
            searcher.next_page(q)
            next_cpu.append((time.process_time() - c) * 1000)
    known_lat, rr = [], []
    for q in queries["known"]:
        t = time.perf_counter()
        hits = searcher.top(q["q"])
        known_lat.append((time.perf_counter() - t) * 1000)
        rr.append(reciprocal_rank(hits, q["relevant"]))
    lookups: dict[str, dict[str, list]] = {}
    for case in queries.get("lookup", []):
        t = time.perf_counter()
        found = searcher.lookup(case["args"])
        ms = (time.perf_counter() - t) * 1000
        if found is None:
            break
        by = lookups.setdefault(case["kind"], {"lat": [], "found": []})
        by["lat"].append(ms)
        by["found"].append(case["expect"] in found)
    return {"open_s": open_s, "lat": lat, "cpu": cpu, "next_cpu": next_cpu,
            "kinds": [q["kind"] for q in main],
            "zero": zero,
            "known_lat": known_lat, "rr": rr, "forms": [q["form"] for q in queries["known"]],
            "lookups": lookups, "warm_kb": warm_kb, "search_peak_kb": proc_status_kb("VmHWM")}


def run_child(step: str, name: str, work: Path) -> dict | None:
    out = work / f"{name}.{step}.json"
    out.unlink(missing_ok=True)
    rc = subprocess.call([sys.executable, __file__, "--child", step, "--engines", name,
                          "--work", str(work)])
    if rc != 0 or not out.exists():
        print(f"{name}: {step} failed (exit {rc}); its output is above", flush=True)
        return None
    return json.loads(out.read_text())


# ------------------------------------------------------------------------ report


def mrr_by_form(r: dict) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for form, x in zip(r["forms"], r["rr"], strict=True):
        by.setdefault(form, []).append(x)
    return {f: statistics.mean(by[f]) for f in FORMS if f in by}


def print_engine(name: str, r: dict) -> None:
    n, lat = r["records"], r["lat"]
    print(f"{name}: build {r['build_s']:.1f} s = {n / r['build_s']:.0f} rec/s from the archive "
          f"({n / max(1e-9, r['build_s'] - r['read_s']):.0f} rec/s without its "
          f"{r['read_s']:.1f} s of reading; {r['build_cpu_s']:.0f} CPU s), "
          f"size {r['size'] / 1e6:.1f} MB, build peak RSS {r['build_peak_kb'] / 1024:.0f} MB")
    print(f"  queries: p50 {percentile(lat, 50):.1f} ms  p95 {percentile(lat, 95):.1f} ms  "
          f"max {max(lat):.1f} ms  mean {statistics.mean(lat):.1f} ms  "
          f"zero-hit {r['zero']}/{len(lat)}; worker RSS warm {r['warm_kb'] / 1024:.0f} MB, "
          f"peak {r['search_peak_kb'] / 1024:.0f} MB (open {r['open_s']:.2f} s)")
    if r.get("cpu"):  # CPU of this process alone: what the load average does not blur
        cpu = r["cpu"]
        print(f"  queries, CPU: p50 {percentile(cpu, 50):.1f} ms  p95 {percentile(cpu, 95):.1f} ms"
              f"  mean {statistics.mean(cpu):.1f} ms")
    if r.get("next_cpu"):
        nxt = r["next_cpu"]
        print(f"  page 2 of each query, CPU: p50 {percentile(nxt, 50):.1f} ms  "
              f"p95 {percentile(nxt, 95):.1f} ms")
    by_kind: dict[str, list[float]] = {}
    for kind, ms in zip(r["kinds"], lat, strict=True):
        by_kind.setdefault(kind, []).append(ms)
    print("  p95 by kind: " + "  ".join(f"{k} {percentile(v, 95):.0f}"
                                        for k, v in by_kind.items()))
    if r["rr"]:
        kl = r["known_lat"]
        print(f"  known items: MRR {statistics.mean(r['rr']):.3f} over {len(r['rr'])} "
              f"queries, found in top {TOP} {sum(x > 0 for x in r['rr'])}; "
              f"p50 {percentile(kl, 50):.1f} ms p95 {percentile(kl, 95):.1f} ms")
        print("  MRR by form: " + "  ".join(f"{f} {v:.3f}" for f, v in mrr_by_form(r).items()))
    if r.get("lookups"):
        print("  lookup (p50 / p95, found): " + "  ".join(
            f"{kind} {percentile(v['lat'], 50):.2f} / {percentile(v['lat'], 95):.2f} ms "
            f"{sum(v['found'])}/{len(v['found'])}" for kind, v in r["lookups"].items()))
    print(f"  load average before {r['load_before']}, after {r['load_after']}", flush=True)


def print_table(rows: dict[str, dict]) -> None:
    print("\n| engine | records | build rec/s (archive / without reading) | size | p50 | p95 "
          "| CPU p50 / p95 | worker RSS warm / peak | build peak RSS | MRR "
          "| load before → after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        n, lat = r["records"], r["lat"]
        mrr = f"{statistics.mean(r['rr']):.3f}" if r["rr"] else "—"
        cpu = (f"{percentile(r['cpu'], 50):.1f} / {percentile(r['cpu'], 95):.1f} ms"
               if r.get("cpu") else "—")
        print(f"| {name} | {n:,} | {n / r['build_s']:,.0f} / "
              f"{n / max(1e-9, r['build_s'] - r['read_s']):,.0f} | {r['size'] / 1e6:,.0f} MB | "
              f"{percentile(lat, 50):.1f} ms | {percentile(lat, 95):.1f} ms | {cpu} | "
              f"{r['warm_kb'] / 1024:,.0f} / {r['search_peak_kb'] / 1024:,.0f} MB | "
              f"{r['build_peak_kb'] / 1024:,.0f} MB | {mrr} | "
              f"{r['load_before']} → {r['load_after']} |")
    kinds = list(dict.fromkeys(k for r in rows.values() for k in r.get("lookups", {})))
    if kinds:
        print("\n| engine | " + " | ".join(f"lookup {k} p50 / p95" for k in kinds) + " |")
        print("|---|" + "---|" * len(kinds))
        for name, r in rows.items():
            lk = r.get("lookups", {})
            print(f"| {name} | " + " | ".join(
                f"{percentile(lk[k]['lat'], 50):.2f} / {percentile(lk[k]['lat'], 95):.2f} ms"
                if k in lk else "—" for k in kinds) + " |")
    forms = [f for f in FORMS if any(f in r["forms"] for r in rows.values())]
    if forms:
        print("\n| engine | " + " | ".join(forms) + " |")
        print("|---|" + "---|" * len(forms))
        for name, r in rows.items():
            by = mrr_by_form(r)
            print(f"| {name} | " + " | ".join(f"{by.get(f, 0):.3f}" for f in forms) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--engines", default="lienhop-whoosh,lienhop-tantivy,fts5",
                    help="comma-separated: " + ", ".join([*ENGINES, *ALIASES]))
    ap.add_argument("--known-items", type=int, default=200,
                    help="known-item targets (fewer when they would exceed half the records)")
    ap.add_argument("--lookalikes", type=int, default=200, help="look-alikes per target")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, help="work directory (default: a new temporary one;"
                    " a corpus made there with the same options is reused)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory and the indexes built in it")
    ap.add_argument("--reuse-index", action="store_true",
                    help="search the indexes a run with --keep left in --work instead of "
                    "building them again (their build figures are that run's)")
    ap.add_argument("--child", choices=["build", "search"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    names = [ALIASES.get(e, e) for e in args.engines.split(",") if e]
    unknown = [e for e in names if e not in ENGINES]
    if unknown:
        ap.error(f"unknown engine(s) {', '.join(unknown)}; choose from "
                 f"{', '.join([*ENGINES, *ALIASES])}")
    if args.child:
        (name,) = names
        result = child_build(name, args.work) if args.child == "build" \
            else child_search(name, args.work)
        (args.work / f"{name}.{args.child}.json").write_text(json.dumps(result))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="lienhop-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}; "
          f"work directory {work}; load average {loadavg()}", flush=True)
    rows: dict[str, dict] = {}
    try:
        meta = write_corpus(work, args)
        o = meta["options"]
        print(f"corpus: {meta['count']:,} records ({o['known_items']} known-item targets with "
              f"{o['lookalikes']} look-alikes each), {meta['file_bytes'] / 1e6:.0f} MB of JSON "
              f"lines, made in {meta['generate_s']:.1f} s", flush=True)
        for name in names:
            why = ENGINES[name][2]()
            if why:
                print(f"{name}: skipped — {why}", flush=True)
                continue
            before = loadavg()
            kept = work / f"{name}.build.json"
            if args.reuse_index and (work / name).is_dir() and kept.exists():
                built = json.loads(kept.read_text())
            else:
                built = run_child("build", name, work)
            searched = run_child("search", name, work) if built else None
            if not args.keep:
                shutil.rmtree(work / name, ignore_errors=True)
            if built and searched:
                rows[name] = built | searched | {"load_before": before,
                                                 "load_after": loadavg()}
                print_engine(name, rows[name])
        if rows:
            print_table(rows)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
