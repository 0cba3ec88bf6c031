"""Benchmark a full ``lienhop index rebuild`` from the raw archive, as an operator runs it.

    .venv/bin/python bench/rebuild.py --records 10000
    .venv/bin/python bench/rebuild.py --records 1000000 --engine tantivy --keep /tmp/h7/1m

Issue #14's target: a full rebuild of 1M records from the raw archive in at most 20 minutes
(tantivy, the 2-core machine).  Three steps, each timed on its own:

1. **an instance**: a registry of ``--repos`` member repositories (one institution each),
   applied with ``lienhop registry import`` (which also creates the database);
2. **the raw archive**: N synthetic records, N/k per repository, written exactly as a harvest
   stores them: each batch is an OAI-PMH ``ListRecords`` page parsed by the harvester's own
   parser (``harvesters.page.parse_page``) and every record's ``PageRecord.xml()`` put into the
   repository's archive (``harvesters.archive``), one commit per page, the repositories in
   parallel processes.  Half the repositories serve ``oai_dc`` shaped like ``bench/harvest.py``'s
   ``synthetic()`` records (Vietnamese DSpace theses and articles, ~1.3 kB, every 50th record a
   second copy of the one before), the other half the same records as DSpace ``dim``;
3. **the rebuild**: ``lienhop index rebuild --engine ENGINE`` as a subprocess (the ``lienhop``
   command is ``python -m resolver.cli``), ``LIENHOP_HOME`` the temporary instance,
   ``LIENHOP_ENV=development``.  Wall clock, records/s, the peak RSS of its whole process tree
   (the command and its preparing workers, sampled from /proc twice a second; "anon" is the
   part that is not mapped index files), the index size on disk.

Then the rebuilt index is opened with ``index.open_index`` and counted and searched.  The load
average is printed before and after: compare figures only within one run.  Without ``--keep``
the instance is a temporary directory removed at the end.

To compare two versions of the code on one archive, alternated in one session (the machine's
load changes from minute to minute), keep an instance once and rebuild it again with each
checkout (``git worktree add /tmp/old HEAD``), each rebuild run by that checkout's code::

    .venv/bin/python bench/rebuild.py --records 100000 --keep /tmp/rb
    .venv/bin/python bench/rebuild.py --reuse /tmp/rb --code /tmp/old --code . --rounds 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harvest import _NAMES, _SUBJECTS, _TITLES, _TYPES  # noqa: E402
from harvesters.archive import RawArchive  # noqa: E402
from harvesters.page import parse_page  # noqa: E402

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RUN_ID = "bench-rebuild"
_DESCRIPTION = (
    "Luận văn khảo sát thực trạng, phân tích các yếu tố tác động và đề xuất giải pháp phù hợp"
    " với điều kiện kinh tế – xã hội của địa phương trong bối cảnh hội nhập quốc tế và chuyển"
    " đổi số.")
_PUBLISHERS = ["Trường Đại học Khoa học, Đại học Huế", "Đại học Quốc gia Hà Nội",
               "Trường Đại học Cần Thơ", "Đại học Quốc gia Thành phố Hồ Chí Minh",
               "Trường Đại học Đà Lạt", "Trường Đại học Vinh", "Trường Đại học Trà Vinh",
               "Học viện Nông nghiệp Việt Nam"]


# --- the records ------------------------------------------------------------------------

def _fields(i: int, repo: int) -> dict[str, object]:
    """Record ``i`` of the whole run (in repository ``repo``): ``synthetic()``'s values, with
    identifiers unique across repositories."""
    w = i - 1 if i % 50 == 1 else i  # the work this record is a copy of
    return {
        "title": f"{_TITLES[w % 5]} – giai đoạn {2000 + w % 24}, tập {w}",
        "creator": _NAMES[w % 6], "contributor": _NAMES[(i + 2) % 6],
        "subjects": (_SUBJECTS[i % 5], _SUBJECTS[(i + 1) % 5]),
        "publisher": _PUBLISHERS[repo % len(_PUBLISHERS)],
        "date": f"{2000 + w % 24}-0{1 + i % 9}-1{i % 10}", "type": _TYPES[i % 5],
        "handle": f"http://hdl.handle.net/{10000 + repo}/{i}",
        "doi": f"https://doi.org/10.{26459 + repo}/lienhop-bench.v{i % 130}.{i}",
    }


def oai_dc(f: dict[str, object]) -> str:
    subjects = "".join(f"<dc:subject>{escape(s)}</dc:subject>" for s in f["subjects"])  # type: ignore[attr-defined]
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{f['title']}</dc:title><dc:creator>{f['creator']}</dc:creator>"
        f"<dc:contributor>{f['contributor']}</dc:contributor>{subjects}"
        f"<dc:description>{_DESCRIPTION}</dc:description>"
        f"<dc:publisher>{f['publisher']}</dc:publisher><dc:date>{f['date']}</dc:date>"
        f"<dc:type>{f['type']}</dc:type><dc:identifier>{f['handle']}</dc:identifier>"
        f"<dc:identifier>{f['doi']}</dc:identifier>"
        "<dc:language>vi</dc:language><dc:rights>Open Access</dc:rights></oai_dc:dc>")


def dim(f: dict[str, object]) -> str:
    def field(element: str, qualifier: str | None, value: object) -> str:
        q = f' qualifier="{qualifier}"' if qualifier else ""
        lang = ' language="vi"' if element in ("title", "subject", "description") else ""
        return f'<dim:field mdschema="dc" element="{element}"{q}{lang}>{value}</dim:field>'

    return (
        '<dim:dim xmlns:dim="http://www.dspace.org/xmlns/dspace/dim"'
        ' xmlns:doc="http://www.lyncode.com/xoai"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://www.dspace.org/xmlns/dspace/dim'
        ' http://www.dspace.org/schema/dim.xsd">'
        + field("contributor", "author", f["creator"])
        + field("contributor", "advisor", f["contributor"])
        + field("date", "accessioned", "2024-05-01T03:12:44Z")
        + field("date", "available", "2024-05-01T03:12:44Z")
        + field("date", "issued", f["date"])
        + field("identifier", "uri", f["handle"])
        + field("identifier", "doi", f["doi"])
        + field("description", "abstract", _DESCRIPTION)
        + field("language", "iso", "vi")
        + field("publisher", None, f["publisher"])
        + field("rights", None, "Open Access")
        + "".join(field("subject", None, s) for s in f["subjects"])  # type: ignore[attr-defined]
        + field("title", None, f["title"])
        + field("type", None, f["type"])
        + "</dim:dim>")


def page_body(repo: int, code: str, prefix: str, first: int, count: int) -> bytes:
    """One ``ListRecords`` response of records ``first .. first+count-1``."""
    render = dim if prefix == "dim" else oai_dc
    records = []
    for i in range(first, first + count):
        stamp = (f"2024-{1 + i // 300000 % 12:02d}-{1 + i // 10000 % 28:02d}T"
                 f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z")
        records.append(
            f"<record><header><identifier>oai:{code}.example.edu.vn:{10000 + repo}/{i}"
            f"</identifier><datestamp>{stamp}</datestamp><setSpec>com_{10000 + repo}_1"
            f"</setSpec></header><metadata>{render(_fields(i, repo))}</metadata></record>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
        "<responseDate>2026-11-26T00:00:00Z</responseDate>"
        f'<request verb="ListRecords" metadataPrefix="{prefix}">'
        f"https://{code}.example.edu.vn/oai/request</request>"
        f"<ListRecords>{''.join(records)}<resumptionToken/></ListRecords></OAI-PMH>"
    ).encode()


# --- the instance -----------------------------------------------------------------------

def repositories(k: int) -> list[tuple[int, str, str]]:
    """``(number, code, metadata prefix)``: half oai_dc, half dim."""
    return [(r, f"bench{r + 1}-dspace", "dim" if r % 2 else "oai_dc") for r in range(k)]


def registry_toml(repos: list[tuple[int, str, str]]) -> str:
    parts = []
    for r, code, prefix in repos:
        parts.append(
            f'[[institution]]\ncode = "bench{r + 1}"\nname_vi = "Trường Đại học thử {r + 1}"\n'
            f'name_en = "Bench University {r + 1}"\nstatus = "member"\nsince = 2010-01-01\n\n'
            f'[[institution.repository]]\ncode = "{code}"\n'
            f'name = "Kho tài liệu số thử {r + 1} (DSpace)"\nplatform = "dspace"\n'
            f'oai_url = "https://{code}.example.edu.vn/oai/request"\n'
            f'metadata_prefix = "{prefix}"\nsets = []\nschedule = "daily"\n')
    return "\n".join(parts)


def lienhop_env(home: Path, code: Path = ROOT) -> dict[str, str]:
    """The environment of a ``lienhop`` command on ``home`` running the checkout ``code``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_HOME=str(home), LIENHOP_ENV="development",
               PYTHONPATH=str(code) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def lienhop(*args: str) -> list[str]:
    """The ``lienhop`` command, run by this interpreter (as ``lienhop demo run`` does)."""
    return [sys.executable, "-m", "resolver.cli", *args]


# --- writing the archive ----------------------------------------------------------------

def write_repository(archive_dir: str, repo: int, code: str, prefix: str, first: int,
                     count: int, batch: int) -> tuple[str, int, float]:
    """Archive ``count`` records of one repository, a parsed page per commit."""
    t0 = time.perf_counter()
    written = 0
    with RawArchive(archive_dir).open(code) as arch:
        for start in range(first, first + count, batch):
            page = parse_page(page_body(repo, code, prefix, start,
                                        min(batch, first + count - start)), repository=code)
            for pr in page.records:
                if pr.header is None or pr.problem:
                    raise RuntimeError(f"{code}: unreadable synthetic record: {pr.problem}")
                arch.put(pr.header, prefix, pr.xml(), run_id=RUN_ID)
                written += 1
            arch.commit()
    return code, written, time.perf_counter() - t0


def write_archive(archive_dir: Path, repos: list[tuple[int, str, str]], n: int, batch: int,
                  workers: int) -> int:
    share, extra = divmod(n, len(repos))
    jobs, first = [], 0
    for r, code, prefix in repos:
        count = share + (1 if r < extra else 0)
        jobs.append((str(archive_dir), r, code, prefix, first, count, batch))
        first += count
    total = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for code, written, seconds in pool.map(write_repository, *zip(*jobs, strict=True)):
            total += written
            print(f"  {code}: {written:,} records in {seconds:.1f} s", flush=True)
    return total


# --- watching the rebuild ---------------------------------------------------------------

def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of one process in kB; zeros if it is gone."""
    found = {"VmRSS": 0, "RssAnon": 0}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key = line.split(":", 1)[0]
                if key in found:
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found["VmRSS"], found["RssAnon"]


class TreeSampler(threading.Thread):
    """The peak RSS (and anonymous RSS) of a process tree, sampled every ``interval`` s, and
    the CPU time of each of its processes (as last seen: a worker's last half second may be
    missed)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_anon = self.peak_procs = 0
        self.cpu: dict[int, float] = {}
        self.stopped = threading.Event()

    def cpu_line(self) -> str:
        """CPU seconds of the rebuilding process and of the others (its workers)."""
        main = self.cpu.get(self.pid, 0.0)
        others = sorted((s for p, s in self.cpu.items() if p != self.pid), reverse=True)
        return (f"CPU {main:.1f} s in the rebuilding process, "
                f"{sum(others):.1f} s in {len(others)} others "
                f"({', '.join(f'{s:.1f}' for s in others[:4])})")

    def run(self) -> None:
        while not self.stopped.is_set():
            pids = _tree(self.pid)
            rss = anon = 0
            for pid in pids:
                r, a = _rss_kb(pid)
                rss, anon = rss + r, anon + a
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_s(pid))
            self.peak_rss, self.peak_anon = max(self.peak_rss, rss), max(self.peak_anon, anon)
            self.peak_procs = max(self.peak_procs, len(pids))
            self.stopped.wait(self.interval)


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_rebuild(home: Path, engine: str, code: Path = ROOT) -> tuple[float, TreeSampler, int]:
    env = lienhop_env(home, code)
    t0 = time.perf_counter()
    proc = subprocess.Popen(lienhop("index", "rebuild", "--engine", engine), env=env,
                            cwd=code, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        print(f"  [{time.perf_counter() - t0:7.1f} s] {line.rstrip()}", flush=True)
    code = proc.wait()
    elapsed = time.perf_counter() - t0
    sampler.stopped.set()
    sampler.join()
    return elapsed, sampler, code


def check_index(index_dir: Path) -> None:
    from index import index_engine, open_index

    ix = open_index(index_dir, readonly=True)
    t0 = time.perf_counter()
    res = ix.search("thư viện số")
    took = time.perf_counter() - t0
    print(f"check: {index_engine(index_dir)} index, {ix.count():,} records; "
          f"'thư viện số' → {res.total:,} works ({took * 1000:.0f} ms), first: "
          f"{res.hits[0].record.titles[0] if res.hits else '-'}")
    hits = ix.lookup(doi="https://doi.org/10.26459/lienhop-bench.v0.0")
    print(f"check: DOI lookup of record 0 → {[r.id for r in hits]}")


def archived(archive_dir: Path) -> int:
    """The live records of an instance's archive."""
    total = 0
    for path in sorted(archive_dir.glob("*.sqlite3")):
        with RawArchive(archive_dir).open(path.stem) as a:
            total += a.count()
    return total


def rebuild_and_report(home: Path, engine: str, written: int, code: Path) -> int:
    load_before = load()
    print(f"rebuild ({code}): load before {load_before}", flush=True)
    elapsed, sampler, exit_code = run_rebuild(home, engine, code)
    index_dir = home / "index"
    print(f"rebuild ({code}): exit {exit_code}, {elapsed:.1f} s wall = "
          f"{written / elapsed:,.0f} rec/s; peak RSS of the process tree "
          f"{sampler.peak_rss / 1024:,.0f} MB (anon {sampler.peak_anon / 1024:,.0f} MB, up to "
          f"{sampler.peak_procs} processes); index {du_mb(index_dir):,.0f} MB; "
          f"load {load_before} → {load()}; {sampler.cpu_line()}", flush=True)
    if exit_code == 0:
        check_index(index_dir)
    return exit_code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--engine", choices=["tantivy", "whoosh"], default="tantivy")
    ap.add_argument("--repos", type=int, default=8, help="member repositories (default 8)")
    ap.add_argument("--batch", type=int, default=500, help="records per archived page")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="processes writing the archive")
    ap.add_argument("--keep", type=Path, default=None,
                    help="build the instance in this (new) directory and keep it")
    ap.add_argument("--reuse", type=Path, default=None,
                    help="rebuild the instance kept in this directory (no new archive)")
    ap.add_argument("--code", type=Path, action="append", default=None,
                    help="the checkout whose code runs the rebuild (default this one); "
                         "given several times, each rebuilds in turn")
    ap.add_argument("--rounds", type=int, default=1, help="rebuilds per checkout, alternated")
    args = ap.parse_args()
    codes = [c.resolve() for c in args.code or [ROOT]]

    if args.reuse:
        home = args.reuse.resolve()
        written = archived(home / "archive")
        print(f"instance {home} (kept); {written:,} archived records; engine {args.engine}; "
              f"{os.cpu_count()} CPUs; load {load()}", flush=True)
        failed = 0
        for _ in range(args.rounds):
            for code in codes:
                failed += rebuild_and_report(home, args.engine, written, code) != 0
        return 1 if failed else 0

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        home = args.keep.resolve()
    else:
        home = Path(tempfile.mkdtemp(prefix="lienhop-rebuild-"))
    try:
        print(f"instance {home}; {args.records:,} records in {args.repos} repositories; "
              f"engine {args.engine}; {os.cpu_count()} CPUs; load {load()}", flush=True)
        repos = repositories(args.repos)
        registry = home / "registry.toml"
        registry.write_text(registry_toml(repos), encoding="utf-8")
        t0 = time.perf_counter()
        subprocess.run(lienhop("registry", "import", str(registry)), env=lienhop_env(home),
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"registry: {time.perf_counter() - t0:.1f} s", flush=True)

        archive_dir = home / "archive"
        load_before = load()
        t0 = time.perf_counter()
        written = write_archive(archive_dir, repos, args.records, args.batch, args.workers)
        took = time.perf_counter() - t0
        print(f"archive: {written:,} records in {took:.1f} s = {written / took:,.0f} rec/s, "
              f"{du_mb(archive_dir):,.0f} MB; load {load_before} → {load()}", flush=True)

        exit_code = 0
        for _ in range(args.rounds):
            for code in codes:
                exit_code = max(exit_code, rebuild_and_report(home, args.engine, written, code))
        return exit_code
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
