"""KBART import benchmark: a generated N-row package through the parser, the import and the
upload page behind gunicorn, with time and peak memory.

    .venv/bin/python bench/kbart_import.py [--rows 600000] [--database-url URL]
                                           [--skip-web] [--keep DIR]

The file is realistic for a large aggregator package: serials with print and online ISSNs
(right check digits, in no order, as in a file sorted by title), monographs with ISBN-13s,
Vietnamese and English titles, coverage dates, volumes, embargoes, URLs, publishers — about
170 bytes a row. Each stage runs in a child process of its own, so its peak RSS is its own:

* ``parse``: :class:`resolver.kb.kbart.KbartReader` over the file, nothing stored;
* ``import``: :func:`resolver.kb.importer.import_kbart` of the file into an empty package;
* ``reimport``: the same package from a second file where 1 % of the titles changed a
  date, 1 % are gone and 1 % are new (what a monthly KBART update looks like);
* ``web``: the upload page (``POST /admin/kb/upload``) under ``gunicorn --timeout 30``, one
  sync worker, as in production: the time until the page answers, what it says was loaded,
  and the worker's peak RSS.

The database is a fresh SQLite file unless ``--database-url`` names an empty PostgreSQL
database (its tables are created; the package ``bench`` is replaced). Only 127.0.0.1 is
contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = ("publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\t"
          "num_first_vol_online\tnum_first_issue_online\tdate_last_issue_online\t"
          "num_last_vol_online\tnum_last_issue_online\ttitle_url\tfirst_author\ttitle_id\t"
          "embargo_info\tcoverage_depth\tnotes\tpublisher_name\tpublication_type\n")
SUBJECTS = ("Vật lý", "Hóa học", "Y học", "Nông nghiệp", "Physics", "Computing", "Economics",
            "Thủy sản", "Materials Science", "Lịch sử")
#: a throw-away account on a throw-away instance
PASSWORD = secrets.token_urlsafe(16)


def _issn(n: int) -> str:
    from index.identifiers import issn_check

    body = f"{n:07d}"
    return f"{body[:4]}-{body[4:]}{issn_check(body)}"


def _isbn(n: int) -> str:
    from index.identifiers import isbn13_check

    body = f"978{n:09d}"
    return body + isbn13_check(body)


def _spread(n: int, modulus: int) -> int:
    """A distinct, scattered number for each ``n``: real files list titles by name, so
    their ISSNs and ISBNs come in no order (which an index feels)."""
    return (n * 2_654_435_761 + 97) % modulus


def _row(i: int, *, late: bool = False) -> str:
    rng = random.Random(i)  # the same row in both files, whatever the other rows do
    subject = SUBJECTS[i % len(SUBJECTS)]
    a, b = _spread(2 * i, 9_999_991), _spread(2 * i + 1, 9_999_991)
    if i % 4 == 3:  # a monograph
        return "\t".join((
            f"Giáo trình {subject} tập {i}", _isbn(a), _isbn(b), "", "", "", "",
            "", "", f"https://books.example.org/b/{i}", f"Nguyễn Văn {i % 97}", f"b{i}", "",
            "fulltext", "", "Nhà xuất bản Khoa học", "monograph")) + "\n"
    first = "2001" if late else rng.choice(("1990", "1995-01-01", "2000", "2005-03", ""))
    return "\t".join((
        f"Tạp chí {subject} số {i}" if i % 2 else f"Journal of {subject} {i}",
        _issn(a), _issn(b), first, rng.choice(("1", "12", "")), "1",
        rng.choice(("", "", "", "2015-12-31")), "", "",
        f"https://journals.example.org/j/{i}", "", f"j{i}",
        rng.choice(("", "", "", "P1Y", "R10Y", "P6M")), "fulltext", "",
        f"Publisher {i % 50}", "serial")) + "\n"


def write_files(rows: int, folder: Path) -> tuple[Path, Path]:
    """The package, and its update: 1 % changed, 1 % removed, 1 % added."""
    first, second = folder / "kbart-1.tsv", folder / "kbart-2.tsv"
    with first.open("w", encoding="utf-8") as a, second.open("w", encoding="utf-8") as b:
        a.write(HEADER)
        b.write(HEADER)
        for i in range(rows):
            a.write(_row(i))
            if i % 100 == 1:
                continue  # removed in the update
            b.write(_row(i, late=i % 100 == 2))  # changed: its first issue is 2001
        for i in range(rows, rows + rows // 100):
            b.write(_row(i))  # added
    return first, second


# --- the stages, each in a child process -----------------------------------------------------

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str, path: Path, url: str) -> dict[str, object]:
    from resolver import db
    from resolver.kb.importer import import_kbart
    from resolver.kb.kbart import KbartReader, RejectedRow

    t0, c0 = time.perf_counter(), time.process_time()
    out: dict[str, object] = {}
    if name == "parse":
        good = bad = 0
        with path.open("rb") as fh:
            reader = KbartReader(fh)
            for item in reader:
                if isinstance(item, RejectedRow):
                    bad += 1
                else:
                    good += 1
            reader.close()
        out.update(rows=good, rejected=bad)
    else:
        engine = db.make_engine(url)
        db.upgrade(engine)
        t0, c0 = time.perf_counter(), time.process_time()
        with path.open("rb") as fh, db.transaction(db.session_factory(engine)) as session:
            report = import_kbart(session, "bench", fh, source=path.name)
        out.update(rows=report.titles, added=report.n_added, changed=report.n_changed,
                   removed=report.n_removed, rejected=len(report.rejected))
        engine.dispose()
    out.update(wall=time.perf_counter() - t0, cpu=time.process_time() - c0,
               peak_mb=_peak_mb())
    return out


def run_stage(name: str, path: Path, url: str) -> dict[str, object]:
    res = subprocess.run([sys.executable, __file__, "--stage", name, "--file", str(path),
                          "--database-url", url], capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"stage {name} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- the upload page behind gunicorn ------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not m:
        raise SystemExit("no CSRF token on the page")
    return m.group(1)


def _worker_peak_mb(master: int) -> float:
    """VmHWM (peak RSS) of gunicorn's worker, the master's child."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", status, re.M):
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            return int(m.group(1)) / 1024 if m else 0.0
    return 0.0


def web(path: Path, url: str, home: Path) -> dict[str, object]:
    import requests

    from resolver import db
    from resolver.accounts.auth import create_user
    from resolver.accounts.models import AdminUser

    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.transaction(db.session_factory(engine)) as s:
        s.query(AdminUser).filter_by(username="bench").delete()
        create_user(s, "bench", PASSWORD)
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_HOME=str(home), LIENHOP_DATABASE_URL=url, LIENHOP_ENV="development",
               LIENHOP_LOG_LEVEL="WARNING")
    exe = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(exe), "-w", "1", "--timeout", "30", "-b", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT), "--log-level", "warning", "wsgi:app"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        for _ in range(300):
            try:
                page = http.get(base + "/admin/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer")
        http.post(base + "/admin/login", data={"username": "bench", "password": PASSWORD,
                                               "csrf_token": _token(page.text)}, timeout=30)
        form = http.get(base + "/admin/kb/upload?lang=en", timeout=30)
        data = path.read_bytes()
        t0 = time.perf_counter()
        try:
            res = http.post(base + "/admin/kb/upload?lang=en", timeout=120,
                            data={"code": "bench", "kind": "subscription",
                                  "csrf_token": _token(form.text)},
                            files={"file": (path.name, data, "text/tab-separated-values")})
            status, html = res.status_code, res.text
        except requests.ConnectionError as exc:  # the worker was killed at its timeout
            status, html = 0, str(exc)
        wall = time.perf_counter() - t0
        loaded = re.search(r'id="n-titles">(\d+)<', html)
        return {"status": status, "wall": wall, "rows": int(loaded.group(1)) if loaded else None,
                "peak_mb": _worker_peak_mb(proc.pid)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=600_000)
    p.add_argument("--database-url", default="")
    p.add_argument("--skip-web", action="store_true")
    p.add_argument("--keep", type=Path, help="keep the files and the database here")
    p.add_argument("--stage", help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.file, args.database_url)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lienhop-kbart-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        first, second = write_files(args.rows, folder)
        print(f"files: {args.rows:,} rows, {first.stat().st_size / 1e6:.0f} MB "
              f"({time.perf_counter() - t0:.0f} s to write); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        print(f"database: {url.split('@')[-1]}")
        for name, path in (("parse", first), ("import", first), ("reimport", second)):
            r = run_stage(name, path, url)
            rate = r["rows"] / r["wall"] if r["wall"] else 0  # type: ignore[operator]
            extra = ", ".join(f"{k} {r[k]:,}" for k in ("added", "changed", "removed")
                              if k in r)
            print(f"{name:>9}: {r['wall']:6.1f} s wall, {r['cpu']:6.1f} s CPU, "
                  f"{rate:8,.0f} rows/s, peak RSS {r['peak_mb']:5.0f} MB; rows {r['rows']:,}"
                  + (f"; {extra}" if extra else "") + f" (load {os.getloadavg()[0]:.1f})")
        if not args.skip_web:
            r = web(first, url, folder / "instance")  # the package holds the update by now
            print(f"      web: re-import, HTTP {r['status']} after {r['wall']:.1f} s (gunicorn "
                  f"timeout 30 s), page says {r['rows']} rows loaded, worker peak RSS "
                  f"{r['peak_mb']:.0f} MB (load {os.getloadavg()[0]:.1f})")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
