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

from harvesters.archive import RawArchive, RepositoryArchive
from harvesters.client import OAIClient
from harvesters.demo_server import DevRecord, OAIDevServer, utc_now_seconds
from harvesters.http import Transport, TransportConfig
from harvesters.page import PageRecord
from harvesters.runner import RepositoryConfig, harvest_many, harvest_repository
from harvesters.sinks import MemorySink, WriterSink
from harvesters.state import Checkpoint, JsonFileCheckpointStore, MemoryCheckpointStore
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


def test_commit_records_zero_commits_and_checkpoints_every_page(repo, env, server):
    sink, store, _, run = env
    seen = []

    def progress(report):
        st = store.load("hue")
        seen.append((report.pages, st.pages, bool(st.token), len(sink.records)))

    run(repo, progress=progress, commit_records=0)
    assert seen == [(1, 1, True, 10), (2, 2, True, 20), (3, 3, False, 25)]
    assert sink.commits == 3


def test_batched_progress_fires_every_page_and_checkpoint_trails_the_sink(repo, env, server):
    sink, store, _, run = env
    seen = []

    def progress(report):
        st = store.load("hue")
        seen.append((report.pages, report.added, st.pages, len(sink.records)))

    report = run(repo, progress=progress, commit_records=15)
    # committed (and checkpointed) once 20 records were pending, then at the end of the list
    assert seen == [(1, 10, 0, 0), (2, 20, 2, 20), (3, 25, 2, 20)]
    assert report.status == "ok" and sink.commits == 2 and len(sink.records) == 25
    assert not store.load("hue").in_progress


def test_batching_cuts_sink_commits(tmp_path, fast_transport, make_records):
    sink, store = MemorySink(), MemoryCheckpointStore()
    with OAIDevServer(make_records(100), page_size=10) as srv:
        report = harvest_repository(
            RepositoryConfig("b", "B", srv.url), sink=sink, state=store,
            archive=RawArchive(tmp_path), commit_records=50,
            client_factory=lambda r: OAIClient(r.oai_url, transport=fast_transport),
        )
    assert (report.status, report.pages, report.added) == ("ok", 10, 100)
    assert sink.commits == 2  # after pages 5 and 10, not after each of the 10 pages
    assert len(sink.records) == 100


def test_commits_after_commit_seconds(tmp_path, fast_transport, make_records):
    sink, store = MemorySink(), MemoryCheckpointStore()
    now = [0.0]
    checkpointed = []

    def progress(report):
        checkpointed.append(store.load("t").pages)
        now[0] += 10.0  # each page "takes" ten seconds

    with OAIDevServer(make_records(100), page_size=10) as srv:
        report = harvest_repository(
            RepositoryConfig("t", "T", srv.url), sink=sink, state=store,
            commit_records=10_000, commit_seconds=25.0, clock=lambda: now[0], progress=progress,
            client_factory=lambda r: OAIClient(r.oai_url, transport=fast_transport),
        )
    assert report.status == "ok" and len(sink.records) == 100
    assert checkpointed == [0, 0, 0, 4, 4, 4, 7, 7, 7, 10]
    assert sink.commits == 3


def test_failure_between_pages_commits_what_was_processed(repo, tmp_path, server, records):
    sink, store = MemorySink(), JsonFileCheckpointStore(tmp_path / "state")
    archive = RawArchive(tmp_path / "archive")
    impatient = Transport(TransportConfig(delay=0, max_retries=1), sleep=lambda s: None)
    factory = lambda r: OAIClient(r.oai_url, transport=impatient)  # noqa: E731
    server.inject("unavailable", times=2, verb="ListRecords", resumption=True, skip=1)
    first = harvest_repository(repo, sink=sink, state=store, archive=archive,
                               client_factory=factory)
    assert first.status == "failed" and (first.pages, first.added) == (2, 20)
    st = store.load("hue")
    assert (st.pages, len(sink.records), sink.commits) == (2, 20, 1) and st.token
    second = harvest_repository(repo, sink=sink, state=store, archive=archive,
                                client_factory=factory)
    assert second.status == "ok" and second.resumed
    assert (second.pages, second.added, second.updated) == (1, 5, 0)
    assert len(sink.records) == 25


def test_exception_mid_page_commits_only_complete_pages(repo, env, server, records,
                                                        monkeypatch):
    sink, store, archive, run = env
    broken = records[22].identifier
    original = PageRecord.xml

    def xml(self):
        if self.identifier == broken:
            raise RuntimeError("boom")
        return original(self)

    monkeypatch.setattr(PageRecord, "xml", xml)
    first = run(repo)
    assert first.status == "failed" and "boom" in first.errors[0]
    st = store.load("hue")
    assert st.pages == 2 and st.token and len(sink.records) == 20
    assert st.last_datestamp == records[19].datestamp  # nothing of page 3 leaked into it
    with archive.open("hue") as a:
        assert a.count() == 20
    monkeypatch.setattr(PageRecord, "xml", original)
    second = run(repo)
    assert second.status == "ok" and (second.added, second.updated) == (5, 0)
    assert len(sink.records) == 25


def test_torn_page_commits_nothing_more(repo, env, server, records, monkeypatch):
    sink, store, archive, run = env
    broken = records[22].identifier
    original = RepositoryArchive.put

    def put(self, header, *args, **kwargs):
        if header.identifier == broken:
            raise sqlite3.OperationalError("disk I/O error")
        return original(self, header, *args, **kwargs)

    monkeypatch.setattr(RepositoryArchive, "put", put)
    first = run(repo)
    assert first.status == "failed"
    # records 20 and 21 are in the archive's transaction: committing it would keep half a
    # page, so the whole batch is left to the next run
    st = store.load("hue")
    assert st.in_progress and st.pages == 0 and not st.token
    assert sink.commits == 0 and not sink.records
    with archive.open("hue") as a:
        assert a.count() == 0
    monkeypatch.setattr(RepositoryArchive, "put", original)
    second = run(repo)
    assert second.status == "ok" and second.resumed
    assert (second.added, second.updated) == (25, 0) and len(sink.records) == 25


def test_resumed_full_run_reconciles_only_what_vanished(repo, tmp_path, server, records):
    sink, store = MemorySink(), JsonFileCheckpointStore(tmp_path / "state")
    archive = RawArchive(tmp_path / "archive")
    impatient = Transport(TransportConfig(delay=0, max_retries=1), sleep=lambda s: None)
    factory = lambda r: OAIClient(r.oai_url, transport=impatient)  # noqa: E731
    harvest_repository(repo, sink=sink, state=store, archive=archive, client_factory=factory)
    server.remove(records[24].identifier)
    server.inject("unavailable", times=2, verb="ListRecords", resumption=True, skip=1)
    kw = dict(sink=sink, state=store, archive=archive, client_factory=factory, full=True)
    assert harvest_repository(repo, **kw).status == "failed"
    report = harvest_repository(repo, **kw)
    assert report.status == "ok" and report.resumed and report.deleted == 1
    assert len(sink.records) == 24


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
    st = Checkpoint("x", high_water="2024-01-01T00:00:00Z", token="abc", run_id="r")
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

    def run(**kw):
        calls.clear()
        return harvest_repository(
            repo, sink=WriterSink(writer), state=MemoryCheckpointStore(),
            client_factory=lambda r: OAIClient(r.oai_url, transport=fast_transport), **kw,
        )

    assert run(commit_records=0).status == "ok"
    assert calls == [("add", 10), ("commit",), ("add", 10), ("commit",), ("add", 5), ("commit",)]
    assert run().status == "ok"
    assert calls == [("add", 25), ("commit",)]  # one writer for the whole batch


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
# SQLite sink keyed by record id that also logs every committed delivery.  60 records, 10 per
# page.  It is killed with SIGKILL while waiting for a page (from outside), inside the second
# sink commit before the transaction commits, and right after it (before the checkpoint):
# committing every page (commit_records=0: sink commits after pages 1 and 2), and in batches
# (commit_records=25: sink commits after pages 3 and 6, so at a kill while waiting for page 5
# page 4 is processed but not committed).

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, os, signal, sqlite3, sys
    from harvesters.archive import RawArchive
    from harvesters.client import OAIClient
    from harvesters.http import Transport, TransportConfig
    from harvesters.runner import RepositoryConfig, harvest_repository
    from harvesters.state import JsonFileCheckpointStore

    url, work, kill_at, commit_records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

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
        commit_records=commit_records,
    )
    print(json.dumps({"status": report.status, "resumed": report.resumed,
                      "pages": report.pages, "added": report.added,
                      "updated": report.updated}))
''')


def _run(url: str, work: Path, kill_at: str, commit_records: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, url, str(work), kill_at, str(commit_records)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize(
    ("commit_records", "kill_at", "checkpointed", "deliveries"),
    [
        # per page: the checkpoint follows every page
        (0, "held_request", 2, 60),
        (0, "before_sink_commit", 1, 60),
        (0, "after_sink_commit", 1, 70),
        # batched: pages 4 (and 5, 6) processed but uncommitted are fetched again
        (25, "held_request", 3, 60),
        (25, "before_sink_commit", 3, 60),
        (25, "after_sink_commit", 3, 90),
    ],
)
def test_kill_nine_and_restart_loses_and_duplicates_nothing(
    tmp_path, make_records, commit_records, kill_at, checkpointed, deliveries
):
    records = make_records(60)
    with OAIDevServer(records, page_size=10) as server:
        if kill_at == "held_request":
            # hold the request for page 3 (per page) or page 5 (batched: page 4 pending)
            server.inject("hold", verb="ListRecords", resumption=True,
                          skip=1 if commit_records == 0 else 3)
        proc = _run(server.url, tmp_path, kill_at, commit_records)
        if kill_at == "held_request":
            assert server.holding.wait(30), proc.communicate(timeout=5)
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        server.release()

        state = json.loads((tmp_path / "state" / "hue.json").read_text())
        assert state["run_id"] is not None  # killed mid-run
        assert state["pages"] == checkpointed

        again = _run(server.url, tmp_path, "never", commit_records)
        out, err = again.communicate(timeout=60)
        assert again.returncode == 0, err
    report = json.loads(out)
    assert report["status"] == "ok" and report["resumed"] is True
    # resumed from the checkpoint, not from scratch; and the archive was rolled back with
    # it, so what the restart delivers counts as new, as it would have the first time
    assert report["pages"] == 6 - checkpointed
    assert (report["added"], report["updated"]) == (60 - 10 * checkpointed, 0)

    db = sqlite3.connect(tmp_path / "sink.sqlite3")
    ids = [json.loads(d)["oai_identifier"] for (d,) in db.execute("SELECT doc FROM records")]
    assert sorted(ids) == sorted(r.identifier for r in records)  # no loss, no duplicate row
    (n,) = db.execute("SELECT COUNT(*) FROM deliveries").fetchone()
    assert n == deliveries  # only the uncheckpointed batch was delivered twice, idempotently
    (distinct,) = db.execute("SELECT COUNT(DISTINCT id) FROM deliveries").fetchone()
    assert distinct == 60
    state = json.loads((tmp_path / "state" / "hue.json").read_text())
    assert state["run_id"] is None and state["high_water"]
    archive = sqlite3.connect(tmp_path / "archive" / "hue.sqlite3")
    assert archive.execute("SELECT COUNT(*) FROM records").fetchone() == (60,)


def test_last_change_in_a_batch_wins(repo, server, records, fast_transport):
    # One batch holds a page where a record is deleted and a later page where it is back
    # (a re-listing after a token restart can do that): the sink must end with it live.
    client = OAIClient(server.url, transport=fast_transport)
    back = records[0]
    server.delete(back.identifier)
    deleted = list(client.list_records("oai_dc"))
    server.upsert(replace(back, datestamp=utc_now_seconds()))
    restored = list(client.list_records("oai_dc"))
    assert deleted[-1].records[-1].deleted and not restored[-1].records[-1].deleted

    class Replay:
        def identify(self):
            return client.identify()

        def list_records(self, *args, **kwargs):
            yield from [*deleted, restored[-1]]

    for commit_records in (0, 2000):
        sink = MemorySink()
        report = harvest_repository(repo, sink=sink, state=MemoryCheckpointStore(),
                                    client_factory=lambda r: Replay(),
                                    commit_records=commit_records)
        assert report.status == "ok" and report.deleted == 1
        assert make_record_id("hue", back.identifier) in sink.records
        assert len(sink.records) == 25
