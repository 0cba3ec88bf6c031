"""Hostile and broken input: a clean 400 or a safe page, never a 500, never an open redirect."""

from __future__ import annotations

import pytest

from tests.support.kb_site import HYDROLOGY
from tests.support.pages import csrf_token, go_links

EVIL = "evil.example"


def test_script_in_atitle_is_escaped_everywhere(kb_client):
    q = HYDROLOGY.replace("Groundwater%20in%20the%20Mekong%20delta",
                          "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E%3Cimg%20src%3Dx%3E")
    html = kb_client.get("/resolve?" + q + "&inst=hue").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    res = kb_client.get("/resolve/delivery?" + q)
    assert res.status_code == 200
    assert "<script>alert(1)" not in res.get_data(as_text=True)


@pytest.mark.parametrize("rft_id", [
    "http://evil.example/", "https%3A%2F%2Fevil.example%2Fpdf", "//evil.example",
    "javascript:alert(1)",
])
def test_rft_id_never_becomes_a_redirect_target(kb_app, kb_client, rft_id):
    base = f"url_ver=Z39.88-2004&rft.atitle=Free%20paper&rft.jtitle=Anything&rft_id={rft_id}"
    for extra in ("&redirect=1", "&redirect=1&inst=hue", "&inst=hue"):
        res = kb_client.get("/resolve?" + base + extra)
        assert res.status_code in (200, 302)
        assert EVIL not in res.headers.get("Location", "")
        html = res.get_data(as_text=True)
        for link in go_links(html):
            assert EVIL not in kb_client.get(link).headers.get("Location", "")
        assert f'href="http://{EVIL}' not in html and f"href='http://{EVIL}" not in html
    body = kb_client.get("/resolve/api?" + base + "&inst=hue").get_json()
    for t in body["targets"]:
        if t["url"]:
            loc = kb_client.get(t["url"].removeprefix("http://localhost")).headers["Location"]
            assert EVIL not in loc


def test_100_kb_query_string_is_a_clean_400(kb_client):
    huge = HYDROLOGY + "&rft.atitle=" + "A" * 100_000
    for path in ("/resolve?", "/resolve/api?", "/resolve/delivery?"):
        res = kb_client.get(path + huge)
        assert res.status_code == 400, path
    page = kb_client.get("/resolve?" + huge).get_data(as_text=True)
    assert "OpenURL" in page
    assert kb_client.get("/resolve/api?" + huge).get_json()["error"]
    posted = kb_client.post("/resolve", data=huge,
                            content_type="application/x-www-form-urlencoded")
    assert posted.status_code == 400


@pytest.mark.parametrize("query", [
    "", "foo=bar", "%%%%", "rft.atitle=", "url_ver=Z39.88-2004&rft_val_fmt=x",
    "%FF%FE%00", "rft.date=2019&rft.volume=12", "a" * 5000, "&&&&==&=&",
    "rft_id=info:doi/&rft.issn=", "ctx_enc=info:ofi/enc:ISO-8859-1&title=%E9t%E9",
    "rft.issn=" + "9" * 900, "genre=article&rft_id[]=x&rft.au[0]=y&date[$gt]=1",
])
def test_garbage_gets_a_helpful_page_never_a_500(kb_client, query):
    res = kb_client.get("/resolve?" + query)
    assert res.status_code in (200, 400)
    if res.status_code == 400:
        html = res.get_data(as_text=True)
        assert "OpenURL" in html and "<form" not in html.lower() or "OpenURL" in html
    api = kb_client.get("/resolve/api?" + query)
    assert api.status_code in (200, 400)
    assert api.is_json


def test_garbage_page_explains_what_a_link_needs(kb_client):
    res = kb_client.get("/resolve?foo=bar&lang=en")
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert "We could not find a title or an identifier" in html
    assert "rft.jtitle=" in html  # an example of a working link


def test_raw_bytes_and_bad_utf8_in_post_body(kb_client):
    res = kb_client.post("/resolve", data=b"rft.atitle=\xff\xfe\xc3(&rft.jtitle=X\x00Y",
                         content_type="application/x-www-form-urlencoded")
    assert res.status_code in (200, 400)


def test_institution_choice_cannot_redirect_elsewhere(kb_client):
    html = kb_client.get("/resolve?" + HYDROLOGY).get_data(as_text=True)
    token = csrf_token(html)
    for back in ("//evil.example/x", "http://evil.example", "\r\nLocation: http://evil.example"):
        res = kb_client.post("/resolve/institution",
                             data={"csrf_token": token, "inst": "hue", "back": back})
        assert res.status_code == 303
        loc = res.headers["Location"]
        assert loc.startswith("/resolve?") or loc == "/"
        assert "\n" not in loc


def test_institution_choice_needs_a_csrf_token(kb_client):
    res = kb_client.post("/resolve/institution", data={"inst": "hue", "back": HYDROLOGY})
    assert res.status_code == 400
    assert "lienhop_inst" not in res.headers.get("Set-Cookie", "")


def test_unknown_inst_parameter_is_ignored(kb_client):
    body = kb_client.get("/resolve/api?" + HYDROLOGY + "&inst=%3Cscript%3E").get_json()
    assert body["institution"] is None
