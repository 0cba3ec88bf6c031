"""A writer process killed (SIGKILL) in the middle of a commit leaves the previous commit
readable and the index writable; rebuild swaps atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index import open_index, rebuild
from tests.support.catalogue import ids, rec

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from index import Record, open_index
    # Pause at the moment a file is renamed into place so the parent can kill us there:
    # Whoosh's TOC (the commit's last step; new segment files are already written by
    # then); with tantivy, the session's spelling table, saved after every document went
    # to tantivy's writer and before tantivy writes its segments and meta.json.
    real_rename, real_replace = os.rename, os.replace
    def slow_rename(a, b, *args, _real=real_rename, **kw):
        print("IN_COMMIT", flush=True)
        time.sleep(30)
        return _real(a, b, *args, **kw)
    def slow_replace(a, b, *args, **kw):
        return slow_rename(a, b, *args, _real=real_replace, **kw)
    ix = open_index({path!r})
    with ix.writer() as w:
        w.add(Record(id=f"new{{i}}", oai_identifier=str(i), repository="t", institution="x",
                     titles=[f"Bản ghi mới {{i}}"]) for i in range(500))
        os.rename, os.replace = slow_rename, slow_replace
""")


def test_sigkill_during_commit_keeps_previous_commit(tmp_path, engine):
    path = tmp_path / "ix"
    ix = open_index(path, engine=engine)
    with ix.writer() as w:
        w.add([rec("old", "Bản ghi cũ đã lưu")])
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path))],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "IN_COMMIT"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    ro = open_index(path, readonly=True)
    assert ro.count() == 1 and ids(ro.search("ban ghi")) == ["old"]
    # The kernel released the dead writer's lock: the next writer gets in at once.
    with ix.writer(timeout=2) as w:
        w.add([rec("after", "Bản ghi sau sự cố")])
    assert ro.count() == 2


def test_rebuild_swaps_atomically_and_readers_follow(tmp_path, engine):
    path = tmp_path / "ix"
    ix = open_index(path, engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Cũ")])
    ro = open_index(path, readonly=True)
    assert ro.count() == 1
    rebuild(path, (rec(f"r{i}", f"Tài liệu {i}") for i in range(30)), batch=7)
    assert ro.count() == 30 and ro.get("a") is None
    assert len([p for p in path.iterdir() if p.name.startswith("g-")]) == 1


def test_failed_rebuild_leaves_live_index(tmp_path, engine):
    path = tmp_path / "ix"
    ix = open_index(path, engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Cũ")])

    def broken():
        yield rec("x", "Mới")
        raise RuntimeError("archive unreadable")

    with pytest.raises(RuntimeError):
        rebuild(path, broken())
    assert open_index(path, readonly=True).get("a") is not None
    assert len([p for p in path.iterdir() if p.name.startswith("g-")]) == 1
