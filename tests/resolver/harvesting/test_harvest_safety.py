"""What the command line and the instance do when a harvest cannot do its whole job."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

import index
from resolver import db
from resolver.harvesting.models import HarvestRun
from resolver.registry.models import Repository
from resolver.settings import load_settings
from tests.support.harvesting import registry_for


def sessions():
    return db.session_factory(db.make_engine(load_settings().database_url))


def runs():
    with sessions()() as s:
        return s.scalars(select(HarvestRun).order_by(HarvestRun.id)).all()


def ix():
    return index.open_index(load_settings().index_dir, readonly=True)


def live(server):
    return [r for r in server.records if not r.deleted]


def test_a_partial_run_exits_non_zero(cli, server):
    rec = live(server)[0]
    server.upsert(dataclasses.replace(
        rec, metadata={"oai_dc": "<unknown xmlns='urn:x'><a>b</a></unknown>"}))
    res = cli.invoke("harvest", "hue-dspace")
    assert res.exit_code == 1, res.output
    assert "hue-dspace: partial:" in res.output and "1 failed" in res.output
    assert runs()[-1].status == "partial"


def test_a_full_run_refuses_a_mass_deletion_and_says_how_to_allow_it(cli, server):
    assert cli.invoke("harvest", "hue-dspace").exit_code == 0
    held = ix().count()
    for rec in live(server)[:3]:
        server.remove(rec.identifier)
    res = cli.invoke("harvest", "--full", "hue-dspace")
    assert res.exit_code == 1
    assert f"refused to remove 3 of {held} records" in res.output
    assert "--allow-mass-delete hue-dspace" in res.output
    assert ix().count() == held
    res = cli.invoke("harvest", "--full", "--allow-mass-delete", "hue-dspace")
    assert res.exit_code == 0, res.output
    assert ix().count() == held - 3


def test_allow_mass_delete_needs_full(cli):
    res = cli.invoke("harvest", "--allow-mass-delete", "hue-dspace")
    assert res.exit_code == 2 and "--full" in res.output


def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(cli, server):
    with sessions()() as s:
        repo_id = s.scalar(select(Repository.id).where(Repository.code == "hue-dspace"))
        s.add(HarvestRun(repository_id=repo_id, status="running", pages=7, added=12,
                         started_at=dt.datetime(2026, 1, 1)))
        s.commit()
    assert cli.invoke("harvest", "hue-dspace").exit_code == 0
    killed, new = runs()
    assert (killed.status, killed.pages, killed.added) == ("interrupted", 7, 12)
    assert killed.finished_at is not None and "interrupted" in killed.errors[-1]
    assert new.status == "ok"


def test_a_repository_pointing_at_a_private_address_is_refused(
        runner, server, tmp_path, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    reg = tmp_path / "reg.toml"
    reg.write_text(registry_for(server.url), encoding="utf-8")
    assert runner.invoke("registry", "import", str(reg)).exit_code == 0
    # the allowance withdrawn later (or a host name that now resolves to loopback)
    monkeypatch.delenv("LIENHOP_HARVEST_ALLOWED_NETWORKS")
    res = runner.invoke("harvest", "hue-dspace")
    assert res.exit_code == 1
    assert "127.0.0.1" in res.output and "LIENHOP_HARVEST_ALLOWED_NETWORKS" in res.output
    assert not [verb for verb, _ in server.requests]  # not one request reached it


def test_rebuild_keeps_every_record_the_harvest_accepted(cli, server):
    """A payload after a comment is valid XML the harvest reads; so must the rebuild."""
    rec = live(server)[0]
    payload = rec.metadata["oai_dc"]
    server.upsert(dataclasses.replace(rec, metadata={"oai_dc": f"<!-- DSpace -->{payload}"}))
    assert cli.invoke("harvest", "hue-dspace").exit_code == 0
    before = sorted(h.record.id for h in ix().search("", size=50).hits)
    res = cli.invoke("index", "rebuild")
    assert res.exit_code == 0, res.output
    assert sorted(h.record.id for h in ix().search("", size=50).hits) == before
    res = cli.invoke("oai", "sync")
    assert res.exit_code == 0 and "errors=0" in res.output


def test_the_demo_allows_its_own_loopback_endpoints_explicitly(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.delenv("LIENHOP_HARVEST_ALLOWED_NETWORKS", raising=False)
    res = runner.invoke("demo", "load")
    assert res.exit_code == 0, res.output
    assert ix().count() > 0


def test_the_registry_import_refuses_a_private_oai_url(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.delenv("LIENHOP_HARVEST_ALLOWED_NETWORKS", raising=False)
    reg = tmp_path / "reg.toml"
    reg.write_text(registry_for("http://169.254.169.254/latest/meta-data"), encoding="utf-8")
    res = runner.invoke("registry", "import", str(reg))
    assert res.exit_code == 2 and "169.254.169.254" in res.output
    assert "nothing was changed" in res.output
