"""The record page: fields, holdings, citation, exports, permalink, metadata for software."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from tests.support.sample import EVIL, FLOOD_HUE, HOSTILE, HOSTILE_ABSTRACT, SURVEY, THESIS


def page(client, url: str) -> str:
    res = client.get(url)
    assert res.status_code == 200, res.status_code
    return res.get_data(as_text=True)


def meta(html: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'<meta name="{name}" content="([^"]*)">', html)]


def test_every_field_is_shown(web):
    html = unescape(page(web, f"/record/{THESIS.id}"))
    for value in (THESIS.title, THESIS.titles[1], THESIS.creators[0], THESIS.contributors[0],
                  "Thư viện số", "DSpace", THESIS.publisher, THESIS.handle, THESIS.urls[0],
                  THESIS.oai_identifier, "CC BY 4.0", "Luận văn", "Tiếng Việt", "2023",
                  THESIS.abstract[:40]):
        assert value in html, value


def test_holdings_list_every_member_with_a_link_to_its_own_record(web):
    html = page(web, f"/record/{FLOOD_HUE.id}")
    start = html.index('class="holdings"')
    table = html[start:html.index("</table>", start)]
    assert "Đại học Huế" in table and "Trường Đại học Trà Vinh" in table
    assert 'href="https://tvu.example.edu.vn/record/88"' in table
    assert f'href="{FLOOD_HUE.urls[0]}"' in table
    assert 'href="/record/tvu-ojs-flood"' in table  # the other copy's own page


def test_full_text_links_and_resolver_button(web):
    html = page(web, f"/record/{THESIS.id}")
    assert f'href="{THESIS.fulltext_links[0]}"' in html
    link = unescape(re.search(r'class="button primary big" href="([^"]+)"', html).group(1))
    assert link.startswith("/resolve?")
    kev = parse_qs(urlsplit(link).query)
    assert kev["rft.au"] == THESIS.creators and kev["rft.date"] == ["2023"]


def test_apa_citation(web):
    html = page(web, f"/record/{FLOOD_HUE.id}")
    apa = re.search(r'<blockquote class="apa">(.*?)</blockquote>', html, re.S).group(1)
    assert apa == ("Trần, Đ. M., &amp; Nguyễn, V. A. (2022). Ứng dụng học máy trong dự báo lũ "
                   "trên lưu vực sông Hương. <i>Tạp chí Khoa học Đại học Huế</i>, <i>131</i>(1D), "
                   "5-18. https://doi.org/10.26459/hueuni-jns.v131i1d.6543")


def test_exports(web):
    ris = web.get(f"/record/{FLOOD_HUE.id}/export/ris")
    assert ris.status_code == 200
    assert ris.mimetype == "application/x-research-info-systems"
    assert "attachment" in ris.headers["Content-Disposition"]
    body = ris.get_data(as_text=True)
    assert body.startswith("TY  - JOUR\r\n") and "DO  - 10.26459/hueuni-jns.v131i1d.6543" in body
    bib = web.get(f"/record/{FLOOD_HUE.id}/export/bibtex").get_data(as_text=True)
    assert bib.startswith("@article{tran2022_")
    assert "journal = {Tạp chí Khoa học Đại học Huế}" in bib
    csl = json.loads(web.get(f"/record/{FLOOD_HUE.id}/export/csl").get_data(as_text=True))
    assert csl[0]["type"] == "article-journal" and csl[0]["DOI"] == FLOOD_HUE.doi
    assert web.get(f"/record/{FLOOD_HUE.id}/export/docx").status_code == 404


def test_permalink_and_canonical(web):
    html = page(web, f"/record/{THESIS.id}")
    assert f'<link rel="canonical" href="http://localhost/record/{THESIS.id}">' in html
    permalink = f"http://localhost/record/{THESIS.id}"
    assert f'id="permalink" type="text" readonly value="{permalink}"' in html


def test_highwire_open_graph_and_coins(web):
    html = page(web, f"/record/{FLOOD_HUE.id}")
    assert meta(html, "citation_title") == [FLOOD_HUE.title]
    assert meta(html, "citation_author") == FLOOD_HUE.creators
    assert meta(html, "citation_doi") == [FLOOD_HUE.doi]
    assert meta(html, "citation_journal_title") == [FLOOD_HUE.journal]
    assert meta(html, "citation_firstpage") == ["5"] and meta(html, "citation_lastpage") == ["18"]
    assert f'<meta property="og:title" content="{FLOOD_HUE.title}">' in html
    coins = re.findall(r'<span class="Z3988" title="([^"]+)">', html)
    assert any(parse_qs(unescape(c)).get("rft.atitle") == [FLOOD_HUE.title] for c in coins)


def test_json_ld(web):
    html = page(web, f"/record/{SURVEY.id}")
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["@type"] == "ScholarlyArticle" and data["name"] == SURVEY.title
    assert data["sameAs"] == ["https://doi.org/10.1234/lienhop.demo.2020.7"]
    assert data["isAccessibleForFree"] is True and data["inLanguage"] == "en"


def test_hostile_record_is_escaped_in_page_meta_and_json_ld(web):
    html = page(web, f"/record/{EVIL.id}")
    assert '<script>alert("x")' not in html and "<img src=x" not in html
    assert "<script>alert(2)" not in html  # the abstract cannot close the JSON-LD script
    assert "<b>bold</b>" not in html
    assert 'href="javascript:' not in html  # a hostile URL is not a live link
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["name"] == HOSTILE and data["abstract"] == HOSTILE_ABSTRACT
    assert meta(html, "citation_title") == [HOSTILE]


def test_related_records_share_a_subject_or_author(web):
    html = page(web, f"/record/{THESIS.id}")
    related = html[html.index('id="related-title"'):]
    assert f'href="/record/{SURVEY.id}"' in related  # shares the subject "Thư viện số"
    assert f'href="/record/{THESIS.id}"' not in related


def test_unknown_and_malformed_ids_are_404(web):
    assert web.get("/record/nope").status_code == 404
    assert web.get("/record/%3Cscript%3E").status_code == 404
    assert web.get("/record/nope/export/ris").status_code == 404


def test_record_page_in_english(web):
    html = page(web, f"/record/{THESIS.id}?lang=en")
    assert "Held by" in html and "Hue University" in html and "Thesis" in html


def test_works_doctests():
    import doctest

    from resolver.discovery import works

    assert doctest.testmod(works).failed == 0
