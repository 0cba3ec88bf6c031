"""Where storage matters: open copies from our own index, and the resolver on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from index import Record, open_index
from resolver import create_app, db
from resolver.registry.models import Institution, Repository
from resolver.settings import load_settings
from resolver.usage.models import ClickLog
from tests.support.kb_site import HYDROLOGY, seed

OA_URL = "https://repository.hueuni.edu.vn/bitstream/123/45/groundwater.pdf"


def _index(path: Path) -> None:
    ix = open_index(path)
    with ix.writer() as w:
        w.add([
            Record(id="hue-dspace-1", oai_identifier="oai:hue:1", repository="hue-dspace",
                   institution="hue", titles=["Groundwater in the Mekong delta"], year=2019,
                   doi="10.1016/j.jhydrol.2019.01.001", access="open",
                   fulltext_links=[OA_URL]),
            # Same title, other year, restricted: neither is an open copy of the citation.
            Record(id="hue-dspace-2", oai_identifier="oai:hue:2", repository="hue-dspace",
                   institution="hue", titles=["Groundwater in the Mekong delta"], year=2001,
                   access="open", fulltext_links=["https://repository.example/other.pdf"]),
            Record(id="hue-dspace-3", oai_identifier="oai:hue:3", repository="hue-dspace",
                   institution="hue", titles=["A closed thesis"], year=2019,
                   isbn=["9786046200000"], access="restricted",
                   fulltext_links=["https://repository.example/closed.pdf"]),
        ])


@pytest.fixture
def both_client(kb_env, db_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    monkeypatch.setenv("LIENHOP_INDEX_DIR", str(tmp_path / "index"))
    _index(tmp_path / "index")
    app = create_app(load_settings())
    seed(app.extensions["lienhop.sessions"])
    # The repository the records came from: redirect=1 may follow copies on its own host.
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        hue = s.scalar(select(Institution).where(Institution.code == "hue"))
        s.add(Repository(code="hue-dspace", institution_id=hue.id,
                         oai_url="https://repository.hueuni.edu.vn/oai/request"))
    return app, app.test_client()


def test_open_copy_from_our_index_comes_first_among_open_copies(both_client):
    _app, client = both_client
    body = client.get("/resolve/api?" + HYDROLOGY + "&inst=nasati&lang=en").get_json()
    opens = [t for t in body["targets"] if t["kind"] == "open"]
    assert opens[0]["reason"] == "Free copy in the consortium's own index"
    assert len([t for t in opens if "own index" in t["reason"]]) == 1  # not the namesake
    loc = client.get(opens[0]["url"].removeprefix("http://localhost")).headers["Location"]
    assert loc == OA_URL
    # Not entitled to ScienceDirect, so redirect=1 goes to the open copy.
    res = client.get("/resolve?" + HYDROLOGY + "&inst=nasati&redirect=1")
    assert res.status_code == 302 and res.headers["Location"] == OA_URL


def test_restricted_index_records_are_not_open_copies(both_client):
    _app, client = both_client
    body = client.get("/resolve/api?genre=book&isbn=9786046200000&title=A%20closed%20thesis"
                      ).get_json()
    for t in body["targets"]:
        if t["url"]:
            loc = client.get(t["url"].removeprefix("http://localhost")).headers["Location"]
            assert "repository.example/closed" not in loc


def test_resolve_click_and_delivery_on_each_database(both_client):
    app, client = both_client
    res = client.get("/resolve?" + HYDROLOGY + "&redirect=1",
                     environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert res.status_code == 302 and "doi.org" in res.headers["Location"]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        [click] = s.scalars(select(ClickLog)).all()
        assert (click.institution, click.package, click.kind) == ("hue", "sd", "fulltext")
