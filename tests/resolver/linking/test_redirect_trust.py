"""redirect=1 trusts only what the consortium vouches for, never a host harvested metadata names.

A member repository's records are harvested as they are: one that claims a DOI and an open
copy on a foreign host must not turn ``/resolve?...&redirect=1`` into a redirect there. Such
copies stay on the menu, where the user chooses them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from index import Record, open_index
from resolver import create_app, db
from resolver.registry.models import Institution, Repository
from resolver.settings import load_settings
from resolver.usage.models import ClickLog
from tests.support.kb_site import HYDROLOGY, PROXY, seed
from tests.support.pages import go_links

OWN_HOST = "repository.hueuni.edu.vn"
OWN_COPY = f"https://{OWN_HOST}/bitstream/123/9/own.pdf"
EVIL_COPY = "https://evil.example/paper.pdf"


def _record(n: int, doi: str, url: str, repository: str = "hue-dspace") -> Record:
    return Record(id=f"{repository}-{n}", oai_identifier=f"oai:x:{n}", repository=repository,
                  institution="hue", titles=[f"Paper {n}"], year=2020, doi=doi,
                  access="open", fulltext_links=[url])


RECORDS = [
    _record(1, "10.1234/x", EVIL_COPY),
    _record(2, "10.1234/own", OWN_COPY),
    # Parser differentials: each names the owning host somewhere, but a browser goes to evil.
    _record(3, "10.1234/userinfo", f"https://{OWN_HOST}@evil.example/paper.pdf"),
    _record(4, "10.1234/backslash", f"https://evil.example\\@{OWN_HOST}/paper.pdf"),
    _record(5, "10.1234/suffix", f"https://{OWN_HOST}.evil.example/paper.pdf"),
    # Another member's repository may not vouch for Hue's host, nor Hue's for its own.
    _record(6, "10.1234/other", OWN_COPY.replace("own.pdf", "other.pdf"), "ctu-ojs"),
    _record(7, "10.1234/unregistered", OWN_COPY.replace("own.pdf", "u.pdf"), "gone-repo"),
    # A host the consortium lists itself: an open platform of the knowledge base.
    _record(8, "10.1234/listed", "https://openscience.vn/article/8.pdf"),
]


@pytest.fixture
def trust_client(kb_env, monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_INDEX_DIR", str(tmp_path / "index"))
    ix = open_index(tmp_path / "index")
    with ix.writer() as w:
        w.add(RECORDS)
    app = create_app(load_settings())
    sessions = app.extensions["lienhop.sessions"]
    seed(sessions)
    with db.transaction(sessions) as s:
        hue = s.scalar(select(Institution).where(Institution.code == "hue"))
        ctu = s.scalar(select(Institution).where(Institution.code == "ctu"))
        s.add(Repository(code="hue-dspace", institution_id=hue.id, platform="dspace",
                         oai_url=f"https://{OWN_HOST}/server/oai/request"))
        s.add(Repository(code="ctu-ojs", institution_id=ctu.id, platform="ojs",
                         oai_url="https://sj.ctu.edu.vn/index.php/index/oai"))
    return app, app.test_client()


def _clicks(app) -> list[ClickLog]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(ClickLog)))


def _resolve(client, doi: str, extra: str = "&redirect=1"):  # type: ignore[no-untyped-def]
    return client.get(f"/resolve?url_ver=Z39.88-2004&rft_id=info:doi/{doi}{extra}")


def test_harvested_copy_on_a_foreign_host_is_offered_but_never_redirected_to(trust_client):
    app, client = trust_client
    res = _resolve(client, "10.1234/x")
    assert res.status_code == 200, res.headers.get("Location")
    assert "evil.example" not in res.headers.get("Location", "")
    assert _clicks(app) == []  # showing the menu is not a click
    # The menu still offers it: the user may choose to go there.
    destinations = [client.get(link).headers.get("Location", "")
                    for link in go_links(res.get_data(as_text=True))]
    assert EVIL_COPY in destinations


def test_harvested_copy_on_the_owning_repositorys_host_is_followed(trust_client):
    app, client = trust_client
    res = _resolve(client, "10.1234/own")
    assert res.status_code == 302 and res.headers["Location"] == OWN_COPY
    assert [c.kind for c in _clicks(app)] == ["open"]


@pytest.mark.parametrize("doi", ["10.1234/userinfo", "10.1234/backslash", "10.1234/suffix",
                                 "10.1234/other", "10.1234/unregistered"])
def test_hosts_that_only_look_like_the_owners_are_not_followed(trust_client, doi):
    _app, client = trust_client
    res = _resolve(client, doi)
    assert res.status_code == 200, res.headers.get("Location")


def test_a_host_the_consortium_lists_is_followed(trust_client):
    _app, client = trust_client
    res = _resolve(client, "10.1234/listed")
    assert res.status_code == 302
    assert res.headers["Location"] == "https://openscience.vn/article/8.pdf"


def test_kb_built_targets_are_followed_as_before(trust_client):
    _app, client = trust_client
    res = client.get("/resolve?" + HYDROLOGY + "&inst=hue&redirect=1")
    assert res.status_code == 302
    assert res.headers["Location"] == PROXY + "https://doi.org/10.1016/j.jhydrol.2019.01.001"
    # An open package of the knowledge base is KB-built too, for anyone.
    res = client.get("/resolve?genre=article&issn=5678-9017&date=2010&atitle=Things&redirect=1")
    assert res.status_code == 302
    assert res.headers["Location"] == "https://oajournals.example.org/things"


def test_the_api_lists_the_foreign_copy_too(trust_client):
    _app, client = trust_client
    body = client.get("/resolve/api?url_ver=Z39.88-2004&rft_id=info:doi/10.1234/x").get_json()
    opens = [t for t in body["targets"] if t["kind"] == "open" and t["available"]]
    locations = [client.get(t["url"].removeprefix("http://localhost")).headers["Location"]
                 for t in opens]
    assert EVIL_COPY in locations
