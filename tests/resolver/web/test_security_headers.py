"""Every response carries the security headers; the pages need nothing the CSP refuses."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from resolver.web.security import csp_hash
from tests.support.paths import ROOT
from tests.support.sample import THESIS

TEMPLATES = ROOT / "templates"

BASE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
DIRECTIVES = ["default-src 'self'", "img-src 'self' data:", "script-src 'self'",
              "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]


def check_headers(res) -> str:  # type: ignore[no-untyped-def]
    for name, value in BASE.items():
        assert res.headers.get(name) == value, (name, res.headers.get(name))
    csp = res.headers["Content-Security-Policy"]
    for directive in DIRECTIVES:
        assert directive in csp.split("; "), directive
    form = next(d for d in csp.split("; ") if d.startswith("form-action "))
    assert form == "form-action 'self'" or (
        form == "form-action 'self' http: https:" and res.request.path == "/resolve")
    style = next(d for d in csp.split("; ") if d.startswith("style-src "))
    assert "'unsafe-inline'" not in csp and style.startswith("style-src 'self'")
    assert "Strict-Transport-Security" not in res.headers  # plain HTTP: browsers ignore it
    return csp


@pytest.mark.parametrize("url, status", [
    ("/", 200),                                   # an HTML page
    ("/search?q=thu+vien", 200),
    (f"/record/{THESIS.id}", 200),
    ("/api/search?q=thu+vien", 200),              # JSON
    (f"/api/records/{THESIS.id}", 200),
    ("/api/records/nothing-here", 404),           # the API's JSON 404
    ("/no/such/page", 404),                       # the HTML 404
    ("/admin/", 302),                             # a redirect (to the login page)
    ("/admin/login", 200),
    ("/static/lienhop.css", 200),                 # static files
    ("/static/lienhop.js", 200),
    ("/opensearch.xml", 200),
    ("/oai?verb=Identify", 200),
    ("/resolve?rft.btitle=Th%C6%B0+vi%E1%BB%87n+s%E1%BB%91", 200),
])
def test_every_response_carries_the_headers(web, url, status):
    res = web.get(url)
    assert res.status_code == status
    check_headers(res)


def test_a_go_redirect_carries_them_too(web):
    html = web.get("/resolve?rft.btitle=Thu+vien").get_data(as_text=True)
    go = re.search(r'href="(/go/[^"]+)"', html)
    assert go, "no /go/ link on the menu"
    res = web.get(go.group(1).replace("&amp;", "&"))
    assert res.status_code in (302, 303)
    check_headers(res)


def test_only_the_resolver_menu_lets_a_form_end_on_another_site(web):
    # "Remember my library" posts to us, and may end (303, then 302) at the publisher's
    # full text: Chrome checks form-action along the whole redirect chain.
    menu = web.get("/resolve?rft.btitle=Thu+vien").headers["Content-Security-Policy"]
    assert "form-action 'self' http: https:" in menu
    for url in ("/", "/admin/login", "/resolve/delivery?rft.btitle=Thu+vien", "/search"):
        assert "form-action 'self';" in web.get(url).headers["Content-Security-Policy"], url


def test_hsts_only_over_https(web):
    res = web.get("/", base_url="https://lienhop.example")
    assert res.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(res.headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 24 * 3600
    assert "Strict-Transport-Security" not in web.get("/").headers


def test_static_files_have_their_real_types(web):
    # nosniff makes the browser trust Content-Type: it must be right
    assert web.get("/static/lienhop.js").mimetype == "text/javascript"
    assert web.get("/static/job.js").mimetype == "text/javascript"
    assert web.get("/static/lienhop.css").mimetype == "text/css"


def test_each_inline_style_block_of_a_page_is_allowed_by_its_hash(web):
    # The resolver menu and the admin pages keep <style> blocks; the CSP names their hashes.
    for url in ("/resolve?rft.btitle=Thu+vien", "/admin/login"):
        res = web.get(url)
        html = res.get_data(as_text=True)
        blocks = re.findall(r"<style>(.*?)</style>", html, re.S)
        assert blocks, url
        for body in blocks:
            assert csp_hash(body) in res.headers["Content-Security-Policy"], url


class Tags(HTMLParser):
    """The start tags of a page with their attributes (text is not a tag: escaped
    harvested text such as the sample's "<img onerror=...>" does not count)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_no_page_has_an_inline_script_or_a_style_attribute(web):
    for url in ("/", "/search?q=thu+vien", "/search", f"/record/{THESIS.id}", "/admin/login",
                "/resolve?rft.btitle=Thu+vien", "/advanced"):
        for tag, attrs in Tags(web.get(url).get_data(as_text=True)).tags:
            assert "style" not in attrs, (url, tag, attrs)
            assert not any(name.startswith("on") for name in attrs), (url, tag, attrs)
            if tag == "script":
                # only files, and JSON-LD, which is data the browser never runs
                assert "src" in attrs or attrs.get("type") == "application/ld+json", (url, attrs)


def test_templates_have_no_inline_script_nor_style_attribute():
    # Pages behind a login or a running job are not all reachable above: read the sources.
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle=", text), path.name
        assert not re.search(r"\son[a-z]+=", text), path.name
        for attrs in re.findall(r"<script([^>]*)>", text):
            assert "src=" in attrs or 'type="application/ld+json"' in attrs, path.name
        for body in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S):
            # a fixed block has a fixed hash; a block with template code would be refused
            assert "{{" not in body and "{%" not in body, path.name


def test_year_bars_keep_their_proportions(web):
    html = web.get("/search").get_data(as_text=True)
    widths = [int(w) for w in re.findall(r'class="bar w(\d+)"', html)]
    assert widths and max(widths) == 100
    assert all(w % 5 == 0 and 0 <= w <= 100 for w in widths)
