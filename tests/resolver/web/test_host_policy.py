"""Absolute URLs never follow the request's Host header once LIENHOP_BASE_URL is set, and
LIENHOP_TRUSTED_HOSTS turns other hosts away with a 400 in the reader's language."""

from __future__ import annotations

import re

import pytest

from resolver import create_app
from resolver.settings import load_settings
from tests.support.sample import THESIS, add_institutions, build_index

EVIL = "evil.example"
HYDROLOGY = ("url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Groundwater&rft.jtitle=Hydrology"
             "&rft.issn=0022-1694&rft.date=2019&rft_id=info:doi/10.1016/j.jhydrol.2019.01.001")


def make_site(monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    for key, value in env.items():
        monkeypatch.setenv(f"LIENHOP_{key}", value)
    app = create_app(load_settings())
    build_index(app.config["LIENHOP"].index_dir)
    add_institutions(app)
    return app


@pytest.fixture
def pinned(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    return make_site(monkeypatch, BASE_URL="https://lienhop.vn").test_client()


PAGES = ["/", "/search?q=thu+vien", f"/record/{THESIS.id}", "/opensearch.xml",
         "/oai?verb=Identify", "/oai?verb=Nonsense", "/sitemap.xml", "/robots.txt",
         "/api/search?q=thu+vien", f"/api/records/{THESIS.id}", "/resolve/api?" + HYDROLOGY,
         "/resolve?" + HYDROLOGY]


def test_a_forged_host_appears_in_no_url(pinned):
    for url in PAGES:
        res = pinned.get(url, headers={"Host": EVIL})
        assert res.status_code == 200, (url, res.status_code)
        assert EVIL not in res.get_data(as_text=True), url
        assert EVIL not in str(res.headers), url


def test_absolute_urls_use_the_base_url(pinned):
    get = lambda url: pinned.get(url, headers={"Host": EVIL}).get_data(as_text=True)  # noqa: E731
    assert "https://lienhop.vn/search" in get("/opensearch.xml")
    assert "<baseURL>https://lienhop.vn/oai</baseURL>" in get("/oai?verb=Identify")
    assert ">https://lienhop.vn/oai</request>" in get("/oai?verb=Identify")
    assert f'href="https://lienhop.vn/record/{THESIS.id}"' in get(f"/record/{THESIS.id}")
    api = pinned.get("/api/search?q=thu+vien", headers={"Host": EVIL}).get_json()
    assert api["results"] and all(r["url"].startswith("https://lienhop.vn/record/")
                                  for r in api["results"])
    targets = pinned.get("/resolve/api?" + HYDROLOGY, headers={"Host": EVIL}).get_json()
    urls = [t["url"] for t in targets["targets"] if t["url"]]
    assert urls and all(u.startswith("https://lienhop.vn/go/") for u in urls)
    assert "<loc>https://lienhop.vn/</loc>" in get("/sitemap.xml")


def test_relative_links_stay_relative(pinned):
    html = pinned.get("/", headers={"Host": EVIL}).get_data(as_text=True)
    assert 'href="/search/advanced"' in html or 'href="/advanced"' in html
    assert 'action="/search"' in html


def test_a_base_url_with_a_path_prefix(lienhop_env, monkeypatch):
    client = make_site(monkeypatch, BASE_URL="https://thuvien.example.edu.vn/lienhop/"
                       ).test_client()
    xml = client.get("/oai?verb=Identify").get_data(as_text=True)
    assert "<baseURL>https://thuvien.example.edu.vn/lienhop/oai</baseURL>" in xml
    # mounted under the same prefix by the proxy (SCRIPT_NAME): no doubled prefix
    xml = client.get("/oai?verb=Identify", environ_overrides={"SCRIPT_NAME": "/lienhop"}
                     ).get_data(as_text=True)
    assert "<baseURL>https://thuvien.example.edu.vn/lienhop/oai</baseURL>" in xml


def test_without_a_base_url_links_follow_the_request_as_before(client):
    xml = client.get("/oai?verb=Identify", base_url="http://lienhop.test").get_data(as_text=True)
    assert "<baseURL>http://lienhop.test/oai</baseURL>" in xml


def test_urls_can_be_built_outside_a_request(lienhop_env, monkeypatch):
    from flask import url_for

    app = make_site(monkeypatch, BASE_URL="https://lienhop.vn")
    with app.app_context():
        assert url_for("record.show", record_id="x") == "https://lienhop.vn/record/x"


# --- trusted hosts --------------------------------------------------------------------------

@pytest.fixture
def guarded(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    return make_site(monkeypatch, BASE_URL="https://lienhop.vn",
                     TRUSTED_HOSTS="www.lienhop.vn, .thuvien.vn localhost").test_client()


def test_another_host_gets_a_400_in_the_readers_language(guarded):
    for url in ["/", "/api/search?q=x", "/admin/login", "/no/such/page", "/static/lienhop.css"]:
        res = guarded.get(url, headers={"Host": EVIL})
        assert res.status_code == 400, url
        body = res.get_data(as_text=True)
        assert EVIL not in body
        if url.startswith("/api/"):
            assert res.is_json and res.get_json()["error"]
        else:
            assert "Địa chỉ không xác định" in body
    res = guarded.get("/?lang=en", headers={"Host": EVIL})
    assert res.status_code == 400 and "Unknown address" in res.get_data(as_text=True)
    assert res.headers["X-Frame-Options"] == "DENY"


def test_a_post_to_another_host_gets_the_same_400(guarded):
    res = guarded.post("/admin/login", data={"username": "x"}, headers={"Host": EVIL})
    assert res.status_code == 400 and "Địa chỉ không xác định" in res.get_data(as_text=True)
    # ... also with a body over the limit: the host is refused first
    res = guarded.post("/admin/login", data={"username": "x" * (2 * 1024 * 1024)},
                       headers={"Host": EVIL})
    assert res.status_code == 400 and "Địa chỉ không xác định" in res.get_data(as_text=True)


def test_listed_hosts_and_the_base_url_host_are_served(guarded):
    for host in ["www.lienhop.vn", "lienhop.vn", "lienhop.vn:443", "opac.thuvien.vn",
                 "localhost:5000"]:
        assert guarded.get("/", headers={"Host": host}).status_code == 200, host


def test_trusted_hosts_without_a_base_url(lienhop_env, monkeypatch):
    client = make_site(monkeypatch, TRUSTED_HOSTS="lienhop.vn").test_client()
    assert client.get("/", headers={"Host": "lienhop.vn"}).status_code == 200
    assert client.get("/", headers={"Host": EVIL}).status_code == 400


def test_no_trusted_hosts_serves_any_host(client):
    assert client.get("/", headers={"Host": EVIL}).status_code == 200


def test_bad_host_header_is_a_400_not_a_500(guarded):
    res = guarded.get("/", headers={"Host": "bad host\\name"})
    assert res.status_code == 400


def test_the_page_for_another_host_links_nowhere(guarded):
    html = guarded.get("/", headers={"Host": EVIL}).get_data(as_text=True)
    assert not re.search(r"https?://", html)
