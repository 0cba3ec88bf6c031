"""`lienhop harvest` and `lienhop index rebuild` against a live OAI-PMH endpoint on 127.0.0.1."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

import index
from harvesters.state import Checkpoint
from resolver import db
from resolver.harvesting.models import HarvestRun
from resolver.harvesting.run import SqlCheckpointStore
from resolver.registry.models import Repository
from resolver.settings import load_settings


def runs():
    settings = load_settings()
    with db.session_factory(db.make_engine(settings.database_url))() as s:
        return s.scalars(select(HarvestRun).order_by(HarvestRun.id)).all()


def ix():
    return index.open_index(load_settings().index_dir, readonly=True)


def test_sql_checkpoint_store_round_trip(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    from resolver.registry.models import Institution

    with db.transaction(sessions) as s:
        s.add(Institution(code="hue", name_vi="Đại học Huế",
                          repositories=[Repository(code="hue-dspace", oai_url="http://x/oai")]))
    store = SqlCheckpointStore(sessions)
    assert store.load("hue-dspace") is None
    state = Checkpoint(repository="hue-dspace", high_water="2024-05-01T00:00:00Z",
                       token="abc", pages=3, granularity="seconds")
    store.save(state)
    assert store.load("hue-dspace") == state
    store.save(dataclasses.replace(state, token=None, pages=4))
    assert store.load("hue-dspace").pages == 4
    with pytest.raises(KeyError):
        store.load("nowhere")


def test_harvest_indexes_records_and_records_the_run(cli, server):
    res = cli.invoke("harvest", "hue-dspace")
    assert res.exit_code == 0, res.output
    assert ("hue-dspace: ok: 3 pages, 5 added, 0 updated, 1 deleted, 0 withdrawn, 0 failed"
            in res.output)
    [run] = runs()
    assert (run.status, run.pages, run.added, run.deleted, run.failed) == ("ok", 3, 5, 1, 0)
    assert run.finished_at is not None and run.high_water
    assert ix().count() == 5
    hit = ix().search("thu vien so dai hoc hue").hits[0]
    assert hit.record.title.startswith("Nghiên cứu xây dựng thư viện số")
    assert hit.record.institution == "hue"


def test_incremental_run_sees_only_changes(cli, server):
    cli.invoke("harvest", "hue-dspace")
    [rec] = [r for r in server.records if r.identifier.endswith("hue/101")]
    changed = rec.metadata["oai_dc"].replace("Nghiên cứu xây dựng", "Xây dựng lại")
    server.upsert(dataclasses.replace(rec, datestamp="2099-01-01T00:00:00Z",
                                      metadata={"oai_dc": changed}))
    res = cli.invoke("harvest", "hue-dspace")
    assert res.exit_code == 0, res.output
    second = runs()[-1]
    assert second.added == 0 and second.updated >= 1
    assert second.updated < 5  # incremental: not everything again
    assert ix().count() == 5
    assert ix().search("xay dung lai").hits[0].record.title.startswith("Xây dựng lại")


def test_full_reharvest_removes_what_the_repository_no_longer_lists(cli, server):
    cli.invoke("harvest", "hue-dspace")
    gone = next(r for r in server.records if r.identifier.endswith("hue/104"))
    server.remove(gone.identifier)  # DSpace forgets hard-deleted items: no tombstone
    res = cli.invoke("harvest", "--full", "hue-dspace")
    assert res.exit_code == 0, res.output
    assert runs()[-1].deleted >= 1 and runs()[-1].full is True
    assert ix().count() == 4
    assert ix().search("du bao lu song Huong").total == 0


def test_rebuild_from_archive_gives_the_same_index(cli, server):
    cli.invoke("harvest", "hue-dspace")
    before = sorted(h.record.id for h in ix().search("", size=50).hits)
    server.stop()  # no network needed
    res = cli.invoke("index", "rebuild")
    assert res.exit_code == 0, res.output
    assert "5 records, 0 failed" in res.output
    assert sorted(h.record.id for h in ix().search("", size=50).hits) == before


def test_failed_run_exits_non_zero_and_is_recorded(cli, server):
    server.stop()
    res = cli.invoke("harvest", "hue-dspace")
    assert res.exit_code == 1
    [run] = runs()
    assert run.status == "failed" and run.errors


def test_usage_errors(cli):
    assert cli.invoke("harvest").exit_code == 2
    assert cli.invoke("harvest", "--all", "hue-dspace").exit_code == 2
    res = cli.invoke("harvest", "nowhere")
    assert res.exit_code == 1 and "no such repository: nowhere" in res.output
    assert cli.invoke("harvest", "--from", "yesterday", "hue-dspace").exit_code == 2
