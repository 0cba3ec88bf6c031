"""Benchmark the OAI-PMH harvester end to end against the local demo OAI-PMH server.

    .venv/bin/python bench/harvest.py --n 10000
    .venv/bin/python bench/harvest.py --n 100000 --index /tmp/ix   # into the real index
    .venv/bin/python bench/harvest.py --index tmp --commit-records 0  # commit every page

The demo server runs in a child process (so its memory and CPU are not counted against the
harvester) and serves N synthetic Vietnamese oai_dc records, 100 per page.  Two figures:

* ``lienhop``: harvest_repository = fetch + sanitising parse + crosswalk + sink (a counting
  sink by default, the real index with ``--index`` when ``index.open_index`` exists);
* ``sickle``: a plain ``sickle.Sickle(...).ListRecords`` loop over the same pages, which
  only parses: the ceiling.

Peak RSS is ``ru_maxrss`` of this process; the sickle run goes second so its figure is a
"peak so far".  ``--tracemalloc`` also reports the Python-heap peak of the lienhop run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
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


def synthetic(n: int) -> list[DevRecord]:
    """N records shaped like a Vietnamese university DSpace's oai_dc (~1.3 kB payload each)."""
    out = []
    for i in range(n):
        dc = (
            '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{_TITLES[i % 5]} – giai đoạn {2000 + i % 24}</dc:title>"
            f"<dc:creator>{_NAMES[i % 6]}</dc:creator>"
            f"<dc:contributor>{_NAMES[(i + 2) % 6]}</dc:contributor>"
            f"<dc:subject>{_SUBJECTS[i % 5]}</dc:subject>"
            f"<dc:subject>{_SUBJECTS[(i + 1) % 5]}</dc:subject>"
            "<dc:description>Luận văn khảo sát thực trạng, phân tích các yếu tố tác động và đề"
            " xuất giải pháp phù hợp với điều kiện kinh tế – xã hội của địa phương trong bối"
            " cảnh hội nhập quốc tế và chuyển đổi số.</dc:description>"
            "<dc:publisher>Trường Đại học Khoa học, Đại học Huế</dc:publisher>"
            f"<dc:date>{2000 + i % 24}-0{1 + i % 9}-1{i % 10}</dc:date>"
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


def _serve(n: int, page_size: int, conn) -> None:  # child process
    with OAIDevServer(synthetic(n), page_size=page_size, gzip=False) as server:
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


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_lienhop(url: str, index_dir: str | None, trace: bool, commit_records: int) -> dict:
    sink = CountingSink()
    target = "counting sink"
    if index_dir:
        try:
            from index import open_index  # type: ignore[attr-defined]
        except ImportError:
            print("index.open_index not available; using the counting sink")
        else:
            ix = open_index(index_dir)
            sink = WriterSink(ix.writer)
            target = f"index at {index_dir}"
    transport = Transport(TransportConfig(delay=0))
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    report = harvest_repository(
        RepositoryConfig("bench", "Đại học Huế", url),
        sink=sink, state=MemoryCheckpointStore(),
        client_factory=lambda r: OAIClient(r.oai_url, transport=transport, repository=r.code),
        commit_records=commit_records,
    )
    elapsed = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()
    return {"target": target, "status": report.status, "records": report.added,
            "failed": report.failed, "pages": report.pages, "commits": sink.commits,
            "seconds": elapsed,
            "rss_mb": _rss_mb(), "heap_mb": heap}


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
    parser.add_argument("--commit-records", type=int, default=2000,
                        help="commit the sink every N records (0: every page; default 2000)")
    parser.add_argument("--no-sickle", action="store_true", help="skip the Sickle ceiling")
    parser.add_argument("--tracemalloc", action="store_true", help="also report heap peak")
    args = parser.parse_args(argv)

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(args.n, args.page_size, child), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    url = parent.recv()
    print(f"demo server: {args.n} records, {args.page_size}/page at {url} "
          f"(built in {time.perf_counter() - t0:.1f}s, separate process)")
    print(f"baseline RSS {_rss_mb():.0f} MB")
    try:
        index_dir = args.index
        if index_dir == "tmp":
            index_dir = tempfile.mkdtemp(prefix="lienhop-bench-ix-")
        ours = run_lienhop(url, index_dir, args.tracemalloc, args.commit_records)
        rate = ours["records"] / ours["seconds"]
        heap = f", heap peak {ours['heap_mb']:.0f} MB" if ours["heap_mb"] is not None else ""
        print(f"lienhop  ({ours['target']}): {ours['records']} records ({ours['failed']} failed)"
              f" in {ours['pages']} pages, {ours['commits']} commits, {ours['seconds']:.2f}s"
              f" = {rate:,.0f} records/s,"
              f" peak RSS {ours['rss_mb']:.0f} MB{heap}, status={ours['status']}")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
