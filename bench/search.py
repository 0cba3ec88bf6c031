"""Search benchmark: lienhop index vs a plain Whoosh schema vs SQLite FTS5.

    .venv/bin/python bench/search.py --records 100000 [--engines lienhop,plain,fts5]

Records are generated from ../shared/data/vi-corpus (a syllable bigram chain trained on
its Vietnamese and English text, so adjacency and frequency look like real abstracts),
with ~5 % copies of the same work at another institution (same DOI), ~5 % titles in old
tone placement and ~2 % in NFD. The 200 queries are fixed by the seed: folded, accented,
phrases, fielded and facet-filtered; every query also asks for facet counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import Record, open_index, rebuild  # noqa: E402
from index.analysis import fold  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "vi-corpus" / "records.jsonl"
INSTITUTIONS = [
    "Đại học Quốc gia Hà Nội", "Đại học Bách khoa Hà Nội", "Đại học Huế", "Đại học Cần Thơ",
    "Đại học Đà Nẵng", "Đại học Quốc gia TP. Hồ Chí Minh", "Đại học Thái Nguyên",
    "Viện Hàn lâm KH&CN Việt Nam", "Đại học Kinh tế Quốc dân", "Đại học Tôn Đức Thắng",
    "Đại học Vinh", "Đại học Nông Lâm Huế", "Học viện Nông nghiệp Việt Nam",
    "Đại học Y Hà Nội", "Đại học Sư phạm Hà Nội", "Trung tâm Thông tin KH&CN Quốc gia",
]
TYPES = ["article"] * 6 + ["thesis"] * 2 + ["dissertation", "book", "report", "conference paper"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLES = ["Văn", "Thị", "Minh", "Hữu", "Đức", "Thanh", "Ngọc", "Quốc", "Xuân", "Hoàng"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hòa", "Hùng", "Lan", "Linh", "Long",
         "Mai", "Nam", "Nga", "Phong", "Quân", "Sơn", "Thảo", "Thủy", "Trang", "Tuấn", "Việt"]
OLD_STYLE = {"hòa": "hoà", "Hòa": "Hoà", "thủy": "thuỷ", "khỏe": "khoẻ", "tùy": "tuỳ",
             "hóa": "hoá", "Hóa": "Hoá", "họa": "hoạ", "xóa": "xoá"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


# ------------------------------------------------------------------------ data


class Chain:
    """Syllable bigram chain: realistic neighbours and a Zipf-like frequency."""

    def __init__(self, texts: list[str], rng: random.Random):
        self.rng = rng
        self.next: dict[str, list[str]] = {}
        self.starts: list[str] = []
        for t in texts:
            words = _WORD.findall(unicodedata.normalize("NFC", t))
            if not words:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, words[1:], strict=False):
                self.next.setdefault(a.lower(), []).append(b.lower())
        self.vocab = [w for ws in self.next.values() for w in ws]

    def sentence(self, n: int) -> list[str]:
        w = self.rng.choice(self.starts)
        out = [w]
        for _ in range(n - 1):
            nxt = self.next.get(w.lower())
            w = self.rng.choice(nxt) if nxt and self.rng.random() > 0.08 else \
                self.rng.choice(self.vocab)
            out.append(w)
        return out


def generate(n: int, seed: int = 42) -> list[Record]:
    rng = random.Random(seed)
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    vi = Chain([r["title"] + ". " + (r["abstract"] or "") for r in rows if r["language"] == "vi"],
               rng)
    en = Chain([r["title"] + ". " + (r["abstract"] or "") for r in rows if r["language"] == "en"],
               rng)
    subjects = sorted({s for r in rows for s in r["subjects"]})[:60] + [
        "Khoa học máy tính", "Nông nghiệp", "Y học", "Kinh tế", "Giáo dục", "Môi trường"]
    out: list[Record] = []
    i = 0
    while len(out) < n:
        i += 1
        lang_vi = rng.random() < 0.7
        ch = vi if lang_vi else en
        title_words = ch.sentence(rng.randint(8, 16))
        if rng.random() < 0.05:
            title_words = [OLD_STYLE.get(w, w) for w in title_words]
        title = " ".join(title_words)
        title = title[0].upper() + title[1:]
        if rng.random() < 0.02:
            title = unicodedata.normalize("NFD", title)
        abstract = ". ".join(" ".join(ch.sentence(rng.randint(10, 25)))
                             for _ in range(rng.randint(5, 9)))
        creators = [f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"
                    for _ in range(rng.randint(1, 4))]
        year = rng.choices(range(1990, 2026), weights=[1 + k for k in range(36)])[0]
        inst = rng.choice(INSTITUTIONS)
        rec = Record(
            id=f"bench-{i:07d}", oai_identifier=f"oai:bench:{i}", repository="bench",
            institution=inst, titles=[title], creators=creators,
            subjects=rng.sample(subjects, rng.randint(1, 3)), abstract=abstract, year=year,
            type=rng.choice(TYPES), language="vie" if lang_vi else "eng",
            access="open" if rng.random() < 0.6 else "restricted",
            doi=f"10.{rng.randint(1000, 9999)}/b{i}" if rng.random() < 0.5 else None,
        )
        out.append(rec)
        if rec.doi and rng.random() < 0.1 and len(out) < n:  # same work, another member
            dup = Record.from_dict(rec.to_dict())
            dup.id, dup.oai_identifier = rec.id + "-dup", rec.oai_identifier + "-dup"
            dup.institution = rng.choice([x for x in INSTITUTIONS if x != inst])
            out.append(dup)
    return out


def make_queries(records: list[Record], seed: int = 7) -> list[dict]:
    """200 queries: (q, filters, year_range) in the lienhop language."""
    rng = random.Random(seed)
    qs: list[dict] = []
    kinds = ["folded", "accented", "phrase", "fielded", "facet"] * 40
    for kind in kinds:
        r = rng.choice(records)
        words = _WORD.findall(unicodedata.normalize("NFC", r.title))
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


# ------------------------------------------------------------------------ engines


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def time_queries(run: Callable[[dict], int], queries: list[dict]) -> tuple[list[float], int]:
    for q in queries[:10]:  # warm caches (columns, OS page cache)
        run(q)
    lat, zero = [], 0
    for q in queries:
        t = time.perf_counter()
        total = run(q)
        lat.append((time.perf_counter() - t) * 1000)
        zero += total == 0
    return lat, zero


def bench_lienhop(records: list[Record], queries: list[dict], work: Path) -> dict:
    path = work / "lienhop"
    t = time.perf_counter()
    rebuild(path, records, batch=10000)
    build = time.perf_counter() - t
    ix = open_index(path, readonly=True)

    def run(q: dict) -> int:
        return ix.search(q["q"], filters=q["filters"], year_range=q["year_range"],
                         facets=True).total

    lat, zero = time_queries(run, queries)
    return {"build_s": build, "size": dir_size(path), "lat": lat, "zero": zero}


def bench_plain(records: list[Record], queries: list[dict], work: Path) -> dict:
    from whoosh import fields, index, query, sorting
    from whoosh.analysis import StandardAnalyzer
    from whoosh.qparser import MultifieldParser

    path = work / "plain"
    path.mkdir()
    sa = StandardAnalyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), title=fields.TEXT(analyzer=sa, stored=True),
        creators=fields.TEXT(analyzer=sa), subjects=fields.TEXT(analyzer=sa),
        abstract=fields.TEXT(analyzer=sa), institution=fields.ID(sortable=True),
        type=fields.ID(sortable=True), language=fields.ID(sortable=True),
        access=fields.ID(sortable=True), year=fields.NUMERIC(int, sortable=True))
    ix = index.create_in(str(path), schema)
    t = time.perf_counter()
    w = ix.writer(limitmb=256)
    for r in records:
        w.add_document(id=r.id, title=r.title, creators=" ; ".join(r.creators),
                       subjects=" ; ".join(r.subjects), abstract=r.abstract,
                       institution=r.institution, type=r.type, language=r.language,
                       access=r.access, year=r.year or 0)
    w.commit(optimize=True)
    build = time.perf_counter() - t
    parser = MultifieldParser(["title", "creators", "subjects", "abstract"], schema)
    searcher = ix.searcher()
    groups = [sorting.FieldFacet(f) for f in ("institution", "type", "language", "access")]
    groups.append(sorting.RangeFacet("year", 1990, 2030, 10))

    def run(q: dict) -> int:
        text = q["q"].replace("author:", "creators:").replace("subject:", "subjects:")
        text = re.sub(r"year:(\d{4})-(\d{4})", r"year:[\1 TO \2]", text)
        qq = parser.parse(text)
        parts = [qq]
        for name, values in (q["filters"] or {}).items():
            parts.append(query.Or([query.Term(name, v) for v in values]))
        if q["year_range"]:
            parts.append(query.NumericRange("year", *q["year_range"]))
        final = query.And(parts) if len(parts) > 1 else qq
        res = searcher.search(final, limit=20, groupedby={f"f{i}": g
                                                          for i, g in enumerate(groups)})
        for i in range(len(groups)):
            res.groups(f"f{i}")
        return len(res)

    lat, zero = time_queries(run, queries)
    return {"build_s": build, "size": dir_size(path), "lat": lat, "zero": zero}


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


def bench_fts5(records: list[Record], queries: list[dict], work: Path) -> dict:
    path = work / "fts.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE VIRTUAL TABLE t USING fts5(title, creators, subjects, abstract,
            tokenize='unicode61 remove_diacritics 2');
        CREATE TABLE m(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, institution TEXT,
            type TEXT, language TEXT, access TEXT, year INT);
    """)
    t = time.perf_counter()
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
    build = time.perf_counter() - t

    def run(q: dict) -> int:
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
        db.execute(f"SELECT m.id, m.title {base} ORDER BY bm25(t) LIMIT 20", args).fetchall()
        total = db.execute(f"SELECT count(*) {base}", args).fetchone()[0]
        for col in ("institution", "type", "language", "access", "year / 10"):
            db.execute(f"SELECT {col}, count(*) {base} GROUP BY 1", args).fetchall()
        return total

    lat, zero = time_queries(run, queries)
    db.close()
    return {"build_s": build, "size": path.stat().st_size, "lat": lat, "zero": zero}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--engines", default="lienhop,plain,fts5")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    t = time.perf_counter()
    records = generate(args.records)
    queries = make_queries(records)
    print(f"generated {len(records)} records, {len(queries)} queries in "
          f"{time.perf_counter() - t:.1f} s; {platform.platform()}, {os.cpu_count()} cpus")
    work = Path(tempfile.mkdtemp(prefix="lienhop-bench-"))
    engines = {"lienhop": bench_lienhop, "plain": bench_plain, "fts5": bench_fts5}
    rows = {}
    try:
        for name in args.engines.split(","):
            r = engines[name](records, queries, work)
            rows[name] = r
            lat = r["lat"]
            print(f"{name:8} build {r['build_s']:7.1f} s = {len(records) / r['build_s']:7.0f} rec/s"
                  f"  size {r['size'] / 1e6:7.1f} MB  p50 {percentile(lat, 50):7.1f} ms"
                  f"  p95 {percentile(lat, 95):7.1f} ms  max {max(lat):7.1f} ms"
                  f"  mean {statistics.mean(lat):6.1f} ms  zero-hit {r['zero']}/{len(lat)}",
                  flush=True)
            by_kind: dict[str, list[float]] = {}
            for q, ms in zip(queries, lat, strict=True):
                by_kind.setdefault(q["kind"], []).append(ms)
            print("         " + "  ".join(f"{k} p95 {percentile(v, 95):.0f}"
                                          for k, v in by_kind.items()), flush=True)
        if "lienhop" in rows and "plain" in rows:
            ratio = percentile(rows["plain"]["lat"], 95) / percentile(rows["lienhop"]["lat"], 95)
            print(f"plain/lienhop p95 ratio: {ratio:.1f}x")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
