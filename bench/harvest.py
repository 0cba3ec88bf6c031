"""Benchmark the OAI-PMH harvester end to end against the local demo OAI-PMH server.

    .venv/bin/python bench/harvest.py --n 10000
    .venv/bin/python bench/harvest.py --n 100000 --index /tmp/ix   # into the real index
    .venv/bin/python bench/harvest.py --n 100000 --index tmp --engine tantivy
    .venv/bin/python bench/harvest.py --index tmp --commit-records 0  # commit every page

The demo server runs in a child process (so its memory and CPU are not counted against the
harvester) and serves N synthetic Vietnamese oai_dc records, 100 per page.  Two figures:

* ``lienhop``: harvest_repository = fetch + sanitising parse + crosswalk + sink (a counting
  sink by default, the real index with ``--index``, of either engine with ``--engine``: a
  directory that holds an index keeps its own);
* ``sickle``: a plain ``sickle.Sickle(...).ListRecords`` loop over the same pages, which
  only parses: the ceiling.

Peak RSS is ``ru_maxrss`` of this process; the sickle run goes second so its figure is a
"peak so far".  The lienhop run also samples its RSS after each commit: the figures at each
quarter of the run show whether memory stays flat as the index grows.  ``--tracemalloc``
also reports the Python-heap peak of the lienhop run.  The load average before and after
is printed: compare figures only within one run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvesters.client import OAIClient  # noqa: E402
from harvesters.demo_server import DevRecord, OAIDevServer  # noqa: E402
from harvesters.http import Transport, TransportConfig  # noqa: E402
from harvesters.runner import RepositoryConfig, harvest_repository  # noqa: E402
from harvesters.sinks import WriterSink  # noqa: E402
from harvesters.state import MemoryCheckpointStore  # noqa: E402

_TITLES = [
    "Nghiên cứu ảnh hưởng của biến đổi khí hậu đến sản xuất lúa ở Đồng bằng sông Cửu Long",
    "Ứng dụng học sâu trong nhận dạng chữ viết tay tiếng Việt",
    "Đánh giá chất lượng nước sông Hương đoạn chảy qua thành phố Huế",
    "Tổng hợp vật liệu nano bạc và khả năng kháng khuẩn",
    "Quản lý thư viện số tại các trường đại học Việt Nam: thực trạng và giải pháp",
]
_NAMES = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thu Hương",
          "Đỗ Quang Vinh", "Võ Thị Mỹ Dung"]
_SUBJECTS = ["Nông nghiệp", "Trí tuệ nhân tạo", "Môi trường", "Hóa học", "Thư viện học"]
_TYPES = ["Luận văn thạc sĩ", "Bài báo khoa học", "Luận án tiến sĩ", "Sách", "Báo cáo"]


def synthetic(n: int, clustered: bool = False) -> list[DevRecord]:
    """N records shaped like a Vietnamese university DSpace's oai_dc (~1.3 kB payload each).

    Each is its own work but every 50th, a second copy of the one before it (the same
    title, year and first author, other identifiers): a union catalogue's duplicates.
    ``clustered``: the stress test of cluster resolution this benchmark used to be, every
    120th record the same work (clusters of n/120 copies, each commit visiting them all)."""
    out = []
    for i in range(n):
        w = i - 1 if i % 50 == 1 else i  # the work this record is a copy of
        title = f"{_TITLES[w % 5]} – giai đoạn {2000 + w % 24}, tập {w}"
        if clustered:
            w, title = i, f"{_TITLES[i % 5]} – giai đoạn {2000 + i % 24}"
        dc = (
            '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{title}</dc:title>"
            f"<dc:creator>{_NAMES[w % 6]}</dc:creator>"
            f"<dc:contributor>{_NAMES[(i + 2) % 6]}</dc:contributor>"
            f"<dc:subject>{_SUBJECTS[i % 5]}</dc:subject>"
            f"<dc:subject>{_SUBJECTS[(i + 1) % 5]}</dc:subject>"
            "<dc:description>Luận văn khảo sát thực trạng, phân tích các yếu tố tác động và đề"
            " xuất giải pháp phù hợp với điều kiện kinh tế – xã hội của địa phương trong bối"
            " cảnh hội nhập quốc tế và chuyển đổi số.</dc:description>"
            "<dc:publisher>Trường Đại học Khoa học, Đại học Huế</dc:publisher>"
            f"<dc:date>{2000 + w % 24}-0{1 + i % 9}-1{i % 10}</dc:date>"
            f"<dc:type>{_TYPES[i % 5]}</dc:type>"
            f"<dc:identifier>http://hdl.handle.net/123456789/{i}</dc:identifier>"
            f"<dc:identifier>https://doi.org/10.26459/hueuni-jns.v{i % 130}.{i}</dc:identifier>"
            "<dc:language>vi</dc:language><dc:rights>Open Access</dc:rights>"
            "</oai_dc:dc>"
        )
        stamp = f"2024-{1 + i // 300000 % 12:02d}-{1 + i // 10000 % 28:02d}T" \
                f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
        out.append(DevRecord(f"oai:dlib.hueuni.edu.vn:123456789/{i}", stamp, {"oai_dc": dc},
                             sets=("com_123456789_1",)))
    return out


def _serve(n: int, page_size: int, clustered: bool, conn) -> None:  # child process
    with OAIDevServer(synthetic(n, clustered), page_size=page_size, gzip=False) as server:
        conn.send(server.url)
        conn.recv()  # until the parent says stop


class CountingSink:
    def __init__(self) -> None:
        self.added = self.deleted = self.commits = 0

    def add(self, records) -> None:  # noqa: ANN001
        self.added += len(records)

    def delete(self, ids) -> None:  # noqa: ANN001
        self.deleted += len(ids)

    def commit(self) -> None:
        self.commits += 1


class Sampled:
    """A sink whose commits also record (records so far, RSS now)."""

    def __init__(self, sink) -> None:  # noqa: ANN001
        self.sink, self.added, self.commits = sink, 0, 0
        self.samples: list[tuple[int, tuple[float, float]]] = []

    def add(self, records) -> None:  # noqa: ANN001
        self.added += len(records)
        self.sink.add(records)

    def delete(self, ids) -> None:  # noqa: ANN001
        self.sink.delete(ids)

    def commit(self) -> None:
        self.sink.commit()
        self.commits += 1
        self.samples.append((self.added, _rss_now_mb()))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mb() -> tuple[float, float]:
    """(RSS, of which anonymous memory) now: the rest is index files mapped by tantivy or
    Whoosh, pages the kernel takes back when it needs them."""
    found = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon"):
                found[key] = int(line.split()[1]) / 1024
    return found.get("VmRSS", 0.0), found.get("RssAnon", 0.0)


def _quarters(samples: list[tuple[int, tuple[float, float]]]) -> str:
    """RSS (anonymous memory) after the commits nearest each quarter of the run."""
    if not samples:
        return "no commits"
    total = samples[-1][0]
    picks = []
    for q in (1, 2, 3, 4):
        want = total * q / 4
        n, (rss, anon) = min(samples, key=lambda s: abs(s[0] - want))
        picks.append(f"{n:,}: {rss:.0f} MB ({anon:.0f})")
    return ", ".join(picks)


def run_lienhop(url: str, index_dir: str | None, engine: str | None, trace: bool,
                commit_records: int) -> dict:
    sink = CountingSink()
    target = "counting sink"
    if index_dir:
        from index import index_engine, open_index

        ix = open_index(index_dir, engine=engine)
        sink = WriterSink(ix.writer)
        target = f"{index_engine(index_dir)} index at {index_dir}"
        if engine and index_engine(index_dir) != engine:
            print(f"note: {index_dir} holds a {index_engine(index_dir)} index; using it")
    sampled = Sampled(sink)
    transport = Transport(TransportConfig(delay=0))
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    report = harvest_repository(
        RepositoryConfig("bench", "Đại học Huế", url),
        sink=sampled, state=MemoryCheckpointStore(),
        client_factory=lambda r: OAIClient(r.oai_url, transport=transport, repository=r.code),
        commit_records=commit_records,
    )
    elapsed = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()
    return {"target": target, "status": report.status, "records": report.added,
            "failed": report.failed, "pages": report.pages, "commits": sampled.commits,
            "seconds": elapsed, "rss_mb": _rss_mb(), "heap_mb": heap,
            "rss_by_quarter": _quarters(sampled.samples)}


def run_sickle(url: str) -> dict:
    from sickle import Sickle

    t0 = time.perf_counter()
    count = 0
    for _record in Sickle(url).ListRecords(metadataPrefix="oai_dc"):
        count += 1
    return {"records": count, "seconds": time.perf_counter() - t0, "rss_mb": _rss_mb()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="records served (default 10000)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--index", metavar="DIR",
                        help="index into the real index at DIR (\"tmp\": a new temp dir)")
    parser.add_argument("--engine", choices=["whoosh", "tantivy"],
                        help="engine of a new index at DIR (default: LIENHOP_INDEX_ENGINE's"
                             " default, Whoosh)")
    parser.add_argument("--commit-records", type=int, default=2000,
                        help="commit the sink every N records (0: every page; default 2000)")
    parser.add_argument("--clustered", action="store_true",
                        help="every 120th record the same work (the old data: a stress test of"
                             " cluster resolution)")
    parser.add_argument("--no-sickle", action="store_true", help="skip the Sickle ceiling")
    parser.add_argument("--tracemalloc", action="store_true", help="also report heap peak")
    args = parser.parse_args(argv)
    if args.engine and not args.index:
        parser.error("--engine needs --index")

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(args.n, args.page_size, args.clustered, child),
                       daemon=True)
    t0 = time.perf_counter()
    proc.start()
    url = parent.recv()
    print(f"demo server: {args.n} records{' (clustered)' if args.clustered else ''},"
          f" {args.page_size}/page at {url} "
          f"(built in {time.perf_counter() - t0:.1f}s, separate process)")
    print(f"baseline RSS {_rss_mb():.0f} MB; load average {_load()}")
    try:
        index_dir = args.index
        if index_dir == "tmp":
            index_dir = tempfile.mkdtemp(prefix="lienhop-bench-ix-")
        ours = run_lienhop(url, index_dir, args.engine, args.tracemalloc, args.commit_records)
        rate = ours["records"] / ours["seconds"]
        heap = f", heap peak {ours['heap_mb']:.0f} MB" if ours["heap_mb"] is not None else ""
        print(f"lienhop  ({ours['target']}): {ours['records']} records ({ours['failed']} failed)"
              f" in {ours['pages']} pages, {ours['commits']} commits, {ours['seconds']:.2f}s"
              f" = {rate:,.0f} records/s,"
              f" peak RSS {ours['rss_mb']:.0f} MB{heap}, status={ours['status']}")
        print(f"         RSS (anonymous) after the commit nearest each quarter:"
              f" {ours['rss_by_quarter']}")
        if not args.no_sickle:
            ceiling = run_sickle(url)
            rate_s = ceiling["records"] / ceiling["seconds"]
            print(f"sickle   (parse only): {ceiling['records']} records in"
                  f" {ceiling['seconds']:.2f}s = {rate_s:,.0f} records/s,"
                  f" peak RSS so far {ceiling['rss_mb']:.0f} MB")
            print(f"lienhop / sickle = {rate / rate_s:.2f}")
    finally:
        parent.send("stop")
        proc.join(timeout=10)
        print(f"load average after: {_load()}")
    return 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
