"""Home page, static files, OpenSearch, sitemap, robots, locale formatting."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from flask_babel import force_locale

import index
from index import Record
from resolver.views.discovery import number
from tests.support.sample import records

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_home_has_one_search_box_members_counts_and_new_records(web):
    html = web.get("/").get_data(as_text=True)
    assert html.count('role="search"') == 1 and 'name="q"' in html
    assert "Thành viên và quan sát viên" in html
    # per-institution counts link to the institution's records
    assert re.search(r'href="/search\?institution=nasati">25</a>', html)
    assert re.search(r'href="/search\?institution=hue">3</a>', html)
    assert 'id="recent-title"' in html
    assert "30 biểu ghi từ 4 đơn vị" in html


def test_home_lists_what_was_added_last_whatever_its_year(site, web):
    """"Recently added" is by harvest time (issue #14: the index's ``recent``), not by the
    year of publication: a 1975 report harvested today comes first, above 2024 works added
    before it."""
    ix = index.open_index(site.config["LIENHOP"].index_dir)
    with ix.writer() as w:
        w.add([Record(id="hue-dspace-hannom", oai_identifier="oai:hue:hannom",
                      repository="hue-dspace", institution="hue",
                      titles=["Tư liệu Hán Nôm ở Thừa Thiên Huế"], year=1975,
                      type="report", language="vie", access="restricted")])
    html = web.get("/").get_data(as_text=True)
    recent = html[html.index('id="recent-title"'):html.index('id="members-title"')]
    assert "Mới bổ sung" in recent
    titles = re.findall(r'class="title" href="[^"]*">([^<]*)<', recent)
    assert titles[0] == "Tư liệu Hán Nôm ở Thừa Thiên Huế"
    assert len(titles) == 6
    en = web.get("/?lang=en").get_data(as_text=True)
    assert "Recently added" in en


def test_home_without_an_index(client):
    res = client.get("/")
    assert res.status_code == 200 and 'role="search"' in res.get_data(as_text=True)


def test_landmarks_and_skip_link(web):
    for url in ("/", "/search?q=thu+vien", "/record/hue-dspace-thesis1", "/advanced"):
        html = web.get(url).get_data(as_text=True)
        assert '<a class="skip" href="#main">' in html
        assert '<main id="main"' in html and 'role="banner"' in html
        assert 'role="contentinfo"' in html
        assert html.count("<h1") == 1, url


def test_static_files_are_versioned_and_cached(web):
    html = web.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/lienhop\.css\?v=[0-9a-f]{10})"', html).group(1)
    js = re.search(r'src="(/static/lienhop\.js\?v=[0-9a-f]{10})"', html).group(1)
    for url in (css, js):
        res = web.get(url)
        assert res.status_code == 200
        assert "max-age=31536000" in res.headers["Cache-Control"]
    assert "http" not in web.get(css).get_data(as_text=True).split("*/", 1)[1], \
        "no external resources (closed campus networks)"
    assert not re.search(r'(src|href)="https?://', re.sub(r"<a [^>]*>", "", html)), \
        "pages load nothing from other hosts"


def test_opensearch_description(web):
    res = web.get("/opensearch.xml")
    assert res.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(res.data)
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    urls = {u.get("type"): u.get("template") for u in root.iter(f"{ns}Url")}
    assert urls["text/html"].startswith("http://localhost/search?q={searchTerms}")
    assert urls["application/json"].startswith("http://localhost/api/search?q={searchTerms}")
    assert 'rel="search"' in web.get("/").get_data(as_text=True)


def test_sitemap_lists_every_record_including_every_copy(web):
    res = web.get("/sitemap.xml")
    assert res.mimetype == "application/xml"
    locs = {e.text for e in ET.fromstring(res.data).iter(f"{SM}loc")}
    assert {f"http://localhost/record/{r.id}" for r in records()} <= locs
    assert "http://localhost/" in locs


def test_sitemap_splits_into_an_index_when_large(web, monkeypatch):
    from resolver.views import meta

    monkeypatch.setattr(meta, "SITEMAP_CHUNK", 8)
    root = ET.fromstring(web.get("/sitemap.xml").data)
    parts = [e.text for e in root.iter(f"{SM}loc")]
    assert root.tag == f"{SM}sitemapindex" and len(parts) == 4  # 30 records / 8
    seen = set()
    for url in parts:
        seen |= {e.text for e in ET.fromstring(web.get(url).data).iter(f"{SM}loc")}
    assert len(seen) == 30
    assert web.get("/sitemap-5.xml").status_code == 404


def test_robots_points_at_the_sitemap(web):
    body = web.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in body


def test_numbers_follow_the_locale(site):
    with site.test_request_context():
        with force_locale("vi"):
            assert number(1234567) == "1.234.567"
        with force_locale("en"):
            assert number(1234567) == "1,234,567"
