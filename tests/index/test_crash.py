"""A writer process killed (SIGKILL) in the middle of a commit leaves the previous commit
readable and the index writable — also when tantivy itself is writing its segments or
merging them; rebuild swaps atomically."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
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


# -- kill -9 inside tantivy's own commit and merge (Rust: no Python hook can pause it there,
# so the parent watches the generation directory and stops the writer with SIGSTOP the
# moment tantivy is writing segment files, checks where it stands, then kills it).

TANTIVY_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from index import Record, open_index
    words = "thư viện số đại học nghiên cứu nông nghiệp Hòa Bình thuỷ lợi miền Trung".split()
    ix = open_index({path!r})
    with ix.writer() as w:  # tantivy commits, then merges, as the block ends
        w.add(Record(id=f"{prefix}{{i}}", oai_identifier=str(i), repository="t",
                     institution="x", titles=[f"Bản ghi mới {{i}}"],
                     abstract=" ".join(words[(i * k) % len(words)] + str(k % 50)
                                       for k in range(150)))
              for i in range({n}))
""")


def _segment_ids(gen: Path) -> set[str]:
    """The segments a generation's committed meta.json names (file-name form)."""
    meta = json.loads((gen / "meta.json").read_text())
    return {s["segment_id"].replace("-", "") for s in meta["segments"]}


def _segment_files(gen: Path) -> set[str]:
    return {p.name for p in gen.iterdir() if p.name[:32].isalnum() and len(p.name) > 33}


def _kill_while_tantivy_writes(path: Path, n: int, prefix: str, *, after_commit: bool) -> None:
    """Run a writer adding ``n`` records; SIGSTOP it as soon as tantivy creates segment
    files that meta.json does not name — before its commit replaced meta.json, or (with
    ``after_commit``) after, while it merges — check that, and SIGKILL it."""
    gen = path / (path / "CURRENT").read_text().strip()
    meta_before = (gen / "meta.json").read_bytes()
    child = subprocess.Popen([sys.executable, "-c", TANTIVY_CHILD.format(
        root=str(ROOT), path=str(path), n=n, prefix=prefix)])
    stopped = False
    try:
        while child.poll() is None:
            committed = (gen / "meta.json").read_bytes() != meta_before
            if committed == after_commit:
                try:
                    named = _segment_ids(gen)
                    unnamed = {f for f in _segment_files(gen) if f[:32] not in named}
                except (OSError, ValueError):  # meta.json being replaced: look again
                    continue
                if unnamed:
                    os.kill(child.pid, signal.SIGSTOP)
                    stopped = True
                    break
            time.sleep(0.0005)
        assert stopped, "the writer finished before tantivy was caught writing"
        # Stopped: nothing moves now. Is tantivy where we wanted it?
        assert ((gen / "meta.json").read_bytes() != meta_before) == after_commit
        named = _segment_ids(gen)
        assert {f for f in _segment_files(gen) if f[:32] not in named}
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None and not stopped:
            child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL


def _new_writer_works(path: Path, expected: int) -> None:
    ix = open_index(path)
    # The kernel released the dead writer's locks (ours and tantivy's own).
    with ix.writer(timeout=2) as w:
        w.add([rec("after", "Bản ghi sau sự cố")])
    ro = open_index(path, readonly=True)
    assert ro.count() == expected + 1
    assert ids(ro.search("ban ghi sau su co")) == ["after"]


def test_sigkill_inside_tantivys_commit_keeps_previous_commit(tmp_path):
    path = tmp_path / "ix"
    with open_index(path, engine="tantivy").writer() as w:
        w.add([rec("old", "Bản ghi cũ đã lưu")])
    _kill_while_tantivy_writes(path, 4000, "new", after_commit=False)
    ro = open_index(path, readonly=True)
    assert ro.count() == 1 and ids(ro.search("ban ghi")) == ["old"]
    _new_writer_works(path, 1)


def test_sigkill_while_tantivy_merges_keeps_the_commit(tmp_path):
    path = tmp_path / "ix"
    ix = open_index(path, engine="tantivy")
    for s in range(7):  # seven segments: the eighth commit makes tantivy merge them
        with ix.writer() as w:
            w.add([rec(f"s{s}-{i}", f"Tài liệu {s} {i}", abstract="Thư viện số " * 40)
                   for i in range(400)])
    _kill_while_tantivy_writes(path, 400, "new", after_commit=True)
    ro = open_index(path, readonly=True)
    assert ro.count() == 8 * 400  # the commit had been written: the merge was not
    assert ro.get("new7") is not None and ro.get("s0-0") is not None
    assert ro.search("tai lieu").total == 7 * 400
    _new_writer_works(path, 8 * 400)
