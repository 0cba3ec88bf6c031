"""harvest_repository / harvest_many end to end against the devserver."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from harvesters.archive import RawArchive
from harvesters.client import OAIClient
from harvesters.devserver import DevRecord, OAIDevServer, utc_now_seconds
from harvesters.http import Transport, TransportConfig
from harvesters.runner import (
    HarvestState,
    JsonFileCheckpointStore,
    MemoryCheckpointStore,
    MemorySink,
    RepositoryConfig,
    WriterSink,
    harvest_many,
    harvest_repository,
)
from index.record import make_record_id


@pytest.fixture
def repo(server):
    return RepositoryConfig("hue", "Đại học Huế", server.url)


@pytest.fixture
def env(tmp_path, fast_transport):
    sink, store = MemorySink(), MemoryCheckpointStore()
    archive = RawArchive(tmp_path / "archive")

    def factory(r):
        return OAIClient(r.oai_url, transport=fast_transport, repository=r.code)

    def run(repo, **kw):
        kw.setdefault("client_factory", factory)
        return harvest_repository(repo, sink=sink, state=store, archive=archive, **kw)

    return sink, store, archive, run


def oai_ids(sink):
    return sorted(r.oai_identifier for r in sink.records.values())


def test_first_harvest(repo, env, records, server):
    sink, store, archive, run = env
    report = run(repo)
    assert (report.status, report.pages, report.added, report.updated) == ("ok", 3, 25, 0)
    assert oai_ids(sink) == sorted(r.identifier for r in records)
    st = store.load("hue")
    assert not st.in_progress and st.granularity == "seconds"
    assert st.deleted_record == "persistent"
    assert st.high_water == report.high_water and report.high_water.endswith("Z")
    with archive.open("hue") as a:
        assert a.count() == 25
    rec = sink.records[make_record_id("hue", records[0].identifier)]
    assert rec.institution == "Đại học Huế" and rec.language == "vie"


def test_incremental_uses_high_water_minus_overlap(repo, env, server, records, dc_xml):
    sink, store, _, run = env
    run(repo)
    changed = replace(records[3], datestamp=utc_now_seconds(),
                      metadata={"oai_dc": dc_xml(3, title="Tiêu đề đã sửa")})
    new = DevRecord("oai:dlib.hueuni.edu.vn:123456789/999", utc_now_seconds(),
                    {"oai_dc": dc_xml(999)})
    server.upsert(changed, new)
    server.requests.clear()
    report = run(repo)
    assert (report.status, report.added, report.updated) == ("ok", 1, 1)
    hw = store.load("hue").high_water
    sent_from = server.requests[1][1]["from"]
    assert sent_from < hw  # one hour of overlap before the previous run's start
    assert sink.records[make_record_id("hue", records[3].identifier)].title == "Tiêu đề đã sửa"
    assert len(sink.records) == 26


def test_incremental_day_granularity_overlap(tmp_path, fast_transport, make_records):
    sink, store = MemorySink(), MemoryCheckpointStore()
    with OAIDevServer(make_records(5), granularity="day") as srv:
        repo = RepositoryConfig("d", "D", srv.url)
        factory = lambda r: OAIClient(r.oai_url, transport=fast_transport)  # noqa: E731
        harvest_repository(repo, sink=sink, state=store, client_factory=factory)
        srv.requests.clear()
        harvest_repository(repo, sink=sink, state=store, client_factory=factory)
        hw = store.load("d").high_water
        assert len(srv.requests[1][1]["from"]) == 10  # day granularity
        assert srv.requests[1][1]["from"] < hw[:10]


def test_deleted_headers_delete(repo, env, server, records):
    sink, store, archive, run = env
    run(repo)
    server.delete(records[0].identifier)
    report = run(repo)
    assert report.deleted == 1
    assert make_record_id("hue", records[0].identifier) not in sink.records
    with archive.open("hue") as a:
        assert a.get(records[0].identifier)[0].deleted


def test_full_reharvest_reconciles_silent_deletions(repo, env, server, records):
    sink, store, archive, run = env
    run(repo)
    server.remove(records[5].identifier)  # vanished without a tombstone (DSpace)
    server.remove(records[6].identifier)
    assert run(repo).deleted == 0  # an incremental run cannot know
    report = run(repo, full=True)
    assert report.status == "ok" and report.deleted == 2 and report.updated == 23
    assert len(sink.records) == 23
    assert store.load("hue").last_full


def test_bad_records_are_counted_and_the_run_goes_on(repo, env, server, caplog):
    sink, store, archive, run = env
    server.upsert(DevRecord("oai:dlib.hueuni.edu.vn:123456789/x", "2024-03-01T00:00:30Z",
                            {"oai_dc": "<unknown xmlns='urn:x'><a>b</a></unknown>"}))
    server.inject("broken_record", resumption=True)
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        report = run(repo)
    assert report.status == "partial" and report.failed == 2
    assert len(sink.records) == 24
    assert "repository=hue identifier=oai:dlib.hueuni.edu.vn:123456789/x" in caplog.text
    assert "event=crosswalk_failed" in caplog.text and "event=record_failed" in caplog.text
    assert any("123456789/x" in e for e in report.errors)


def test_full_run_keeps_records_that_are_listed_but_broken(repo, env, server, records):
    sink, store, archive, run = env
    run(repo)
    server.inject("broken_record", resumption=True)  # the first record of page 2 breaks
    report = run(repo, full=True)
    assert report.failed == 1 and report.deleted == 0
    assert len(sink.records) == 25


def test_bad_resumption_token_restarts_from_last_datestamp(repo, env, server, records):
    sink, store, _, run = env
    server.inject("expire_token", resumption=True)
    report = run(repo)
    assert report.status == "ok" and report.restarts == 1
    restart = [p for v, p in server.requests if "from" in p]
    assert restart == [{"verb": "ListRecords", "metadataPrefix": "oai_dc",
                        "from": records[9].datestamp}]
    assert len(sink.records) == 25


def test_tokens_that_always_expire_still_make_progress(repo, env, server):
    sink, store, _, run = env
    server.inject("expire_token", times=99, resumption=True)
    report = run(repo, max_restarts=1)
    assert report.status == "ok" and report.restarts == 2 and len(sink.records) == 25


def test_restart_without_progress_gives_up(env, fast_transport, make_records):
    sink, store, _, run = env
    same = [replace(r, datestamp="2024-03-01T00:00:00Z") for r in make_records(25)]
    with OAIDevServer(same, page_size=10) as srv:
        srv.inject("expire_token", times=99, resumption=True)
        report = run(RepositoryConfig("same", "S", srv.url), max_restarts=2)
    assert report.status == "failed" and "badResumptionToken" in report.errors[0]
    assert report.restarts == 3
    assert store.load("same").in_progress  # the next run resumes, nothing is lost


def test_failed_run_resumes_from_checkpoint(repo, tmp_path, server, records):
    sink, store = MemorySink(), JsonFileCheckpointStore(tmp_path / "state")
    impatient = Transport(TransportConfig(delay=0, max_retries=1), sleep=lambda s: None)
    factory = lambda r: OAIClient(r.oai_url, transport=impatient)  # noqa: E731
    server.inject("unavailable", times=2, verb="ListRecords", resumption=True)
    first = harvest_repository(repo, sink=sink, state=store, client_factory=factory)
    assert first.status == "failed" and first.pages == 1
    st = store.load("hue")
    assert st.in_progress and st.token and st.pages == 1
    server.requests.clear()
    second = harvest_repository(repo, sink=sink, state=store, client_factory=factory)
    assert second.status == "ok" and second.resumed and second.pages == 2
    assert "resumptionToken" in server.requests[1][1]  # no restart from scratch
    assert len(sink.records) == 25 and not store.load("hue").in_progress


def test_checkpoint_saved_after_every_page(repo, env, server):
    sink, store, _, run = env
    seen = []

    def progress(report):
        st = store.load("hue")
        seen.append((report.pages, st.pages, bool(st.token), len(sink.records)))

    run(repo, progress=progress)
    assert seen == [(1, 1, True, 10), (2, 2, True, 20), (3, 3, False, 25)]


def test_transport_faults_mid_run(repo, env, server):
    sink, _, _, run = env
    server.inject("unavailable", retry_after="2", resumption=True)
    server.inject("drop", resumption=True)
    server.inject("illegal_chars", times=3)
    assert run(repo).status == "ok" and len(sink.records) == 25


def test_html_instead_of_identify_fails_cleanly(repo, env, server):
    _, store, _, run = env
    server.inject("html")
    report = run(repo)
    assert report.status == "failed" and "HTML" in report.errors[0]


def test_sets_are_harvested_in_turn(server, env):
    sink, store, _, run = env
    repo = RepositoryConfig("hue", "HU", server.url,
                            sets=["com_123456789_1", "com_123456789_7"])
    report = run(repo)
    assert report.status == "ok" and len(sink.records) == 25
    assert sorted({p.get("set") for v, p in server.requests if "set" in p}) == [
        "com_123456789_1", "com_123456789_7"]


def test_explicit_from(repo, env, server):
    sink, _, _, run = env
    report = run(repo, from_="2024-03-01T00:20:00Z")
    assert report.added == 5


def test_json_store_roundtrip(tmp_path):
    store = JsonFileCheckpointStore(tmp_path)
    assert store.load("x") is None
    st = HarvestState("x", high_water="2024-01-01T00:00:00Z", token="abc", run_id="r")
    store.save(st)
    assert store.load("x") == st
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_writer_sink_adapts_a_writer_factory(repo, server, fast_transport):
    calls = []

    class Writer:
        def add(self, records):
            calls.append(("add", len(records)))

        def delete(self, ids):
            calls.append(("delete", len(ids)))

    @contextlib.contextmanager
    def writer():
        yield Writer()
        calls.append(("commit",))

    report = harvest_repository(
        repo, sink=WriterSink(writer), state=MemoryCheckpointStore(),
        client_factory=lambda r: OAIClient(r.oai_url, transport=fast_transport),
    )
    assert report.status == "ok"
    assert calls == [("add", 10), ("commit",), ("add", 10), ("commit",), ("add", 5), ("commit",)]


def test_harvest_many(tmp_path, fast_transport, make_records):
    servers = [OAIDevServer(make_records(15, start=i * 100), page_size=4).start()
               for i in range(3)]
    try:
        repos = [RepositoryConfig(f"r{i}", f"I{i}", s.url) for i, s in enumerate(servers)]
        repos.append(RepositoryConfig("dead", "X", "http://127.0.0.1:9/oai"))
        sink = MemorySink()
        reports = harvest_many(
            repos, sink=sink, state=MemoryCheckpointStore(), archive=RawArchive(tmp_path),
            max_workers=2,
            client_factory=lambda r: OAIClient(
                r.oai_url, repository=r.code,
                transport=Transport(TransportConfig(delay=0, max_retries=1),
                                    sleep=lambda s: None)),
        )
    finally:
        for s in servers:
            s.stop()
    assert [r.status for r in reports] == ["ok", "ok", "ok", "failed"]
    assert len(sink.records) == 45


# --------------------------------------------------------------------------- kill -9
# The harvest runs in a subprocess with the JSON-file checkpoint store, the raw archive and a
# SQLite sink keyed by record id that also logs every delivery.  It is killed with SIGKILL at
# three points: while waiting for page 3 (killed from outside), inside the sink commit of
# page 2 before the transaction commits, and right after that commit (before the checkpoint).

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, os, signal, sqlite3, sys
    from harvesters.archive import RawArchive
    from harvesters.client import OAIClient
    from harvesters.http import Transport, TransportConfig
    from harvesters.runner import JsonFileCheckpointStore, RepositoryConfig, harvest_repository

    url, work, kill_at = sys.argv[1], sys.argv[2], sys.argv[3]

    class SqliteSink:
        """Keyed by record id (upsert), plus an append-only log of every delivery."""

        def __init__(self, path):
            self.db = sqlite3.connect(path)
            self.db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, doc TEXT)")
            self.db.execute("CREATE TABLE IF NOT EXISTS deliveries (id TEXT)")
            self.db.commit()
            self.commits = 0

        def add(self, records):
            for r in records:
                self.db.execute("INSERT OR REPLACE INTO records VALUES (?, ?)",
                                (r.id, json.dumps(r.to_dict(), ensure_ascii=False)))
                self.db.execute("INSERT INTO deliveries VALUES (?)", (r.id,))

        def delete(self, ids):
            self.db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in ids])

        def commit(self):
            self.commits += 1
            if kill_at == "before_sink_commit" and self.commits == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            self.db.commit()
            if kill_at == "after_sink_commit" and self.commits == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    transport = Transport(TransportConfig(delay=0, read_timeout=60))
    report = harvest_repository(
        RepositoryConfig("hue", "Đại học Huế", url),
        sink=SqliteSink(os.path.join(work, "sink.sqlite3")),
        state=JsonFileCheckpointStore(os.path.join(work, "state")),
        archive=RawArchive(os.path.join(work, "archive")),
        client_factory=lambda r: OAIClient(r.oai_url, transport=transport, repository=r.code),
    )
    print(json.dumps({"status": report.status, "resumed": report.resumed,
                      "pages": report.pages, "added": report.added}))
''')


def _run(url: str, work: Path, kill_at: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, url, str(work), kill_at],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize(
    ("kill_at", "deliveries"),
    [("held_request", 60), ("before_sink_commit", 60), ("after_sink_commit", 70)],
)
def test_kill_nine_and_restart_loses_and_duplicates_nothing(tmp_path, make_records, kill_at,
                                                            deliveries):
    records = make_records(60)
    with OAIDevServer(records, page_size=10) as server:
        if kill_at == "held_request":
            server.inject("hold", verb="ListRecords", resumption=True, skip=1)
        proc = _run(server.url, tmp_path, kill_at)
        if kill_at == "held_request":
            assert server.holding.wait(30), proc.communicate(timeout=5)
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        server.release()

        state = json.loads((tmp_path / "state" / "hue.json").read_text())
        assert state["run_id"] is not None  # killed mid-run

        again = _run(server.url, tmp_path, "never")
        out, err = again.communicate(timeout=60)
        assert again.returncode == 0, err
    report = json.loads(out)
    assert report["status"] == "ok" and report["resumed"] is True
    assert report["pages"] < 6  # resumed from the checkpoint, not from scratch

    db = sqlite3.connect(tmp_path / "sink.sqlite3")
    ids = [json.loads(d)["oai_identifier"] for (d,) in db.execute("SELECT doc FROM records")]
    assert sorted(ids) == sorted(r.identifier for r in records)  # no loss, no duplicate row
    (n,) = db.execute("SELECT COUNT(*) FROM deliveries").fetchone()
    assert n == deliveries  # at most the interrupted page was delivered twice, idempotently
    state = json.loads((tmp_path / "state" / "hue.json").read_text())
    assert state["run_id"] is None and state["high_water"]
    archive = sqlite3.connect(tmp_path / "archive" / "hue.sqlite3")
    assert archive.execute("SELECT COUNT(*) FROM records").fetchone() == (60,)
