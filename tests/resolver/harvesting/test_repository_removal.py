"""Removing a repository takes its records out of search (and the home page's counts) and
announces them as deleted by lienhop's OAI-PMH provider; disabling it instead keeps them."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from sqlalchemy import select

import index
from resolver import create_app
from resolver.harvesting.removal import is_record_of, remove_repository_records
from resolver.harvesting.run import JobContext, harvest
from resolver.oai.models import OaiItem
from resolver.registry.models import Repository
from resolver.settings import load_settings
from tests.support.accounts import add_user
from tests.support.admin import AdminClient, FakeQueue, load_registry

pytestmark = pytest.mark.usefixtures("cheap_hashes")

LIVE_RECORDS = 5  # the demo hue-dspace set: 6 items, one of them deleted
OAI = "{http://www.openarchives.org/OAI/2.0/}"


@pytest.fixture
def web(lienhop_env, db_url, monkeypatch, server):  # type: ignore[no-untyped-def]
    """The admin app over an instance whose hue-dspace was harvested for real."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    app = create_app(load_settings())
    sessions = app.extensions["lienhop.sessions"]
    load_registry(sessions, hue_url=server.url)
    add_user(sessions, "boss")
    app.extensions["lienhop.queue"] = FakeQueue()
    [report] = harvest(JobContext(app.config["LIENHOP"], sessions), ["hue-dspace"])
    assert report.status == "ok"
    client = AdminClient(app)
    assert client.login("boss").status_code == 302
    return client


def searchable(web) -> int:  # type: ignore[no-untyped-def]
    """Records the site counts (/healthz reads what the home page reads)."""
    return int(web.get("/healthz").get_json()["checks"]["index"]["records"])


def oai_headers(web) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """identifier -> "deleted" or "" for every item lienhop's provider lists."""
    xml = web.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc").get_data()
    root = etree.fromstring(xml)
    return {h.findtext(f"{OAI}identifier"): h.get("status", "")
            for h in root.iter(f"{OAI}header")}


def test_removing_a_repository_removes_its_records_everywhere(web):
    assert searchable(web) == LIVE_RECORDS
    assert list(oai_headers(web).values()).count("") == LIVE_RECORDS
    home = web.get("/?lang=en").get_data(as_text=True)
    asked = web.post("/admin/repositories/hue-dspace/delete?lang=en").get_data(as_text=True)
    assert f"Its records ({LIVE_RECORDS}) are removed from search" in asked
    assert searchable(web) == LIVE_RECORDS  # asking changed nothing
    done = web.post("/admin/repositories/hue-dspace/delete", {"confirm": "yes"},
                    form_page="/admin/repositories/hue-dspace/edit")
    assert done.status_code == 302
    flashed = web.get(done.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "records removed from search: 6" in flashed  # the archive's deleted one too
    assert searchable(web) == 0
    headers = oai_headers(web)
    assert len(headers) == LIVE_RECORDS and set(headers.values()) == {"deleted"}
    after = web.get("/?lang=en").get_data(as_text=True)
    assert home != after and "Đại học Huế" in after
    assert web.get("/search?q=*").status_code == 200
    with web.app.extensions["lienhop.sessions"]() as s:
        assert s.scalar(select(Repository).where(Repository.code == "hue-dspace")) is None
        assert s.scalar(select(OaiItem).where(OaiItem.deleted.is_(False))) is None
    # the audit log says how many went
    assert re.search(r"records_removed.{0,20}6", web.get("/admin/audit").get_data(
        as_text=True))


def test_disabling_instead_keeps_the_records(web):
    asked = web.post("/admin/repositories/hue-dspace/delete?lang=en").get_data(as_text=True)
    assert "only stop harvesting hue-dspace" in asked
    action = re.search(r'<form method="post" action="([^"]+)" class="alternative">', asked)
    assert action and action.group(1) == "/admin/repositories/hue-dspace/disable"
    assert web.post(action.group(1), {}).status_code == 302
    with web.app.extensions["lienhop.sessions"]() as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        assert repo is not None and repo.enabled is False
    assert searchable(web) == LIVE_RECORDS
    assert list(oai_headers(web).values()).count("") == LIVE_RECORDS


def test_a_repository_with_a_harvest_under_way_is_not_removed(web):
    queued = web.post("/admin/repositories/hue-dspace/harvest", {"kind": "incremental"})
    job_url = queued.headers["Location"]
    res = web.post("/admin/repositories/hue-dspace/delete", {"confirm": "yes"})
    assert res.status_code == 302 and res.headers["Location"] == job_url
    assert searchable(web) == LIVE_RECORDS


def test_record_ids_belong_to_their_repository_only():
    rid = index.record.make_record_id("hue-dspace", "oai:x:1")
    assert is_record_of(rid, "hue-dspace")
    assert not is_record_of(rid, "hue") and not is_record_of(rid, "dspace")
    assert not is_record_of("hue-dspace", "hue")


def test_without_an_archive_the_index_says_which_records(web, tmp_path):
    settings = web.app.config["LIENHOP"]
    import shutil

    shutil.rmtree(settings.archive_dir)  # an instance whose archive was lost
    removed = remove_repository_records(settings, web.app.extensions["lienhop.sessions"],
                                        "hue-dspace")
    assert removed == LIVE_RECORDS
    assert index.open_index(settings.index_dir, readonly=True).count() == 0
