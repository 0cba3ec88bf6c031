"""A rebuild from raw items and the name of the function making Records of them (index/
convert.py: the tantivy engine runs it in its worker processes) gives the index the Records
themselves give, reports every item that makes none in its place, and fails whole (the old
index kept, the workers ended) when a worker dies or the function breaks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index import index_engine, open_index, rebuild
from index.api import PROGRESS_EVERY
from index.record import Record
from tests.index.test_rebuild import _answers, _records

CONVERT = "lienhop_test_raw:convert"


@pytest.fixture
def converter(tmp_path_factory, monkeypatch):  # type: ignore[no-untyped-def]
    """``lienhop_test_raw:convert`` importable here and in worker processes (they get this
    process's sys.path)."""
    where = tmp_path_factory.mktemp("convert")
    (where / "lienhop_test_raw.py").write_text(textwrap.dedent('''
        import os
        import time

        #: the items this process made Records of
        HERE = []

        def convert(item):
            kind, value = item
            in_a_worker = os.getpid() != int(os.environ["LIENHOP_TEST_REBUILDING_PID"])
            if not in_a_worker:
                HERE.append(item)
            if kind == "record":
                return value
            if kind == "broken":
                return f"t {value}: XMLSyntaxError: not well-formed"
            if kind == "slow":  # a worker slower than the rebuilding process
                if in_a_worker:
                    time.sleep(0.02)
                return value
            if kind == "die":
                if in_a_worker:
                    os._exit(3)
                return value
            raise KeyError(value)  # "bug": the function itself is broken
    '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(where))
    monkeypatch.setenv("LIENHOP_TEST_REBUILDING_PID", str(os.getpid()))
    return CONVERT


def _raw(records: list[Record], broken_every: int) -> tuple[list[tuple[str, object]], list[str]]:
    """The records as raw items, a broken one before every ``broken_every``-th; the
    messages the broken ones give, in order."""
    items: list[tuple[str, object]] = []
    messages = []
    for i, rec in enumerate(records):
        if i % broken_every == broken_every - 1:
            items.append(("broken", f"oai:bad:{i}"))
            messages.append(f"t oai:bad:{i}: XMLSyntaxError: not well-formed")
        items.append(("record", rec))
    return items, messages


def test_raw_items_index_as_their_records_do(tmp_path, engine, converter):  # type: ignore[no-untyped-def]
    records = _records(160)
    rebuild(tmp_path / "records", records, batch=40, procs=0, engine=engine)
    expected = _answers(open_index(tmp_path / "records", readonly=True))
    items, messages = _raw(records, broken_every=23)
    # procs 0: everything in this process; 1: a worker after the first batch, which makes
    # the Records of all items but the first batch's (and tells their failures back).
    for procs in (0, 1) if engine == "tantivy" else (None,):
        failures: list[str] = []
        path = tmp_path / f"raw-{procs}"
        rebuild(path, iter(items), batch=40, procs=procs, engine=engine, convert=converter,
                failed=failures.append)
        assert failures == messages
        rebuilt = open_index(path, readonly=True)
        assert rebuilt.count() == len(records) - 15
        assert _answers(rebuilt) == expected


def test_a_rebuild_from_raw_items_reports_progress_in_records(tmp_path, engine, converter):  # type: ignore[no-untyped-def]
    n = 2 * PROGRESS_EVERY + 5
    records = [Record(id=f"p{i}", oai_identifier=f"oai:{i}", repository="t", institution="x",
                      titles=[f"Bản ghi {i}"]) for i in range(n)]
    items, messages = _raw(records, broken_every=97)
    seen: list[int] = []
    failures: list[str] = []
    rebuild(tmp_path / "ix", items, engine=engine, batch=500, progress=seen.append,
            convert=converter, failed=failures.append)
    assert seen == [PROGRESS_EVERY, 2 * PROGRESS_EVERY, n]  # broken items are not records
    assert failures == messages
    assert open_index(tmp_path / "ix", readonly=True).count() == n


def test_the_rebuilding_process_takes_chunks_while_the_worker_is_behind(  # type: ignore[no-untyped-def]
        tmp_path, converter, monkeypatch):
    """With the worker slower than this process, this process prepares chunks itself
    instead of waiting: the same index, the failures in their places."""
    import lienhop_test_raw  # type: ignore[import-not-found]

    from index.tantivy_engine import prepare

    monkeypatch.setattr(prepare, "CHUNK", 10)
    monkeypatch.setattr(prepare, "AHEAD", 2)
    records = _records(160)
    rebuild(tmp_path / "records", records, batch=40, procs=0, engine="tantivy")
    expected = _answers(open_index(tmp_path / "records", readonly=True))
    items, messages = _raw(records, broken_every=23)
    items = [("slow", value) if kind == "record" else (kind, value) for kind, value in items]
    lienhop_test_raw.HERE.clear()
    failures: list[str] = []
    rebuild(tmp_path / "raw", items, batch=40, procs=1, engine="tantivy", convert=converter,
            failed=failures.append)
    assert failures == messages
    assert _answers(open_index(tmp_path / "raw", readonly=True)) == expected
    # the first batch, then chunks taken while the worker was behind
    here = [items.index(item) for item in lienhop_test_raw.HERE]
    assert here == sorted(here) and len(here) > 40 + 1 and here[-1] > 60


def _processes() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _is_worker(pid: int) -> bool:
    try:
        return b"index.tantivy_engine.prepare" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _workers() -> list[int]:
    """This process's children that are rebuild workers."""
    return _workers_of(os.getpid())


@pytest.mark.parametrize("trouble, says", [("die", "a rebuild worker ended (exit 3)"),
                                           ("bug", "KeyError")])
def test_a_broken_worker_fails_the_rebuild_and_keeps_the_old_index(  # type: ignore[no-untyped-def]
        tmp_path, converter, trouble, says):
    path = tmp_path / "ix"
    records = _records(160)
    rebuild(path, records[:60], batch=40, engine="tantivy")
    before = _answers(open_index(path, readonly=True))
    listing = sorted(p.name for p in path.iterdir())
    items: list[tuple[str, object]] = [("record", r) for r in records]
    items.insert(120, (trouble, "r0120"))  # well beyond the first batch: in a worker
    with pytest.raises(RuntimeError, match=re.escape(says)):
        rebuild(path, items, batch=40, procs=1, engine="tantivy", convert=converter,
                failed=[].append)
    assert sorted(p.name for p in path.iterdir()) == listing  # no half-built generation
    assert _answers(open_index(path, readonly=True)) == before
    assert _workers() == []


_KILLED = """
import os, sys
os.environ["LIENHOP_TEST_REBUILDING_PID"] = str(os.getpid())
from index import rebuild
from index.record import Record
items = (("slow", Record(id=f"k{i}", oai_identifier=f"oai:k:{i}", repository="t",
                         institution="x", titles=[f"Bản ghi {i}"])) for i in range(10**6))
rebuild(sys.argv[1], items, batch=10, procs=1, engine="tantivy", convert=sys.argv[2],
        failed=print)
"""


def _state(pid: int) -> str:
    """A process's state letter (Z: ended, not yet reaped); "" when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2:].split()[0]


def _workers_of(parent: int) -> list[int]:
    return [pid for pid in _processes() if _parent(pid) == parent and _is_worker(pid)]


def test_the_workers_end_when_the_rebuilding_process_is_killed(tmp_path, converter):  # type: ignore[no-untyped-def]
    """SIGKILL of a rebuild from raw items: its worker ends too (its stdin closes)."""
    script = tmp_path / "killed.py"
    script.write_text(_KILLED, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "ix"), converter],
                             env=env, stdout=subprocess.DEVNULL)
    try:
        workers: list[int] = []
        for _ in range(600):  # the worker starts after the first batch
            if workers := _workers_of(child.pid):
                break
            assert child.poll() is None
            time.sleep(0.1)
        assert workers
    finally:
        child.kill()
        child.wait()
    for _ in range(600):
        if all(_state(pid) in ("", "Z") for pid in workers):
            break
        time.sleep(0.1)
    assert all(_state(pid) in ("", "Z") for pid in workers)
    assert index_engine(tmp_path / "ix") is None  # nothing swapped in


def test_a_failure_nobody_is_told_of_stops_the_rebuild(tmp_path, engine, converter):  # type: ignore[no-untyped-def]
    path = tmp_path / "ix"
    old = _records(30)
    rebuild(path, old, engine=engine)
    with pytest.raises(ValueError, match="oai:bad:3"):
        rebuild(path, [("record", r) for r in _records(50)] + [("broken", "oai:bad:3")],
                batch=20, engine=engine, convert=converter)
    assert open_index(path, readonly=True).count() == len({r.id for r in old})
