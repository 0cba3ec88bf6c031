"""The results page: query, counts, facets and chips, sort, paging, holdings, links, escaping."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from tests.support.sample import FLOOD_HUE, THESIS


def page(client, url: str) -> str:
    res = client.get(url)
    assert res.status_code == 200, res.status_code
    return res.get_data(as_text=True)


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def record_links(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/record/([^"/]+)"', html)))


def test_search_with_and_without_diacritics_finds_the_same_record(web):
    for q in ("thư viện số", "thu vien so", "THU VIEN SO"):
        html = page(web, f"/search?q={q}")
        assert THESIS.id in record_links(html), q
        assert "<mark>" in html  # the matched syllables are highlighted


def test_result_count_and_query_are_shown(web):
    html = page(web, "/search?q=thu+vien+so")
    assert "Kết quả cho “thu vien so”" in html
    assert "2 tài liệu" in html
    assert 'value="thu vien so"' in html  # the query stays in the box


def test_hostile_query_is_escaped_everywhere(web):
    html = page(web, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_hostile_record_fields_are_escaped_in_results(web):
    html = page(web, "/search?q=doc+hai")
    assert '<script>alert("x")' not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or \
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_facets_show_counts_in_the_current_language(web):
    html = page(web, "/search")
    assert "Đại học Huế" in html and "Cục Thông tin khoa học và công nghệ quốc gia" in html
    assert re.search(r"Luận văn</span>\s*<span class=\"n\">1</span>", html)
    assert "Truy cập mở" in html
    en = page(web, "/search?lang=en")
    assert "Hue University" in en and "Thesis" in en and "Open access" in en


def test_applying_and_removing_a_facet(web):
    html = page(web, "/search?q=thu+vien")
    hue = [h for h in hrefs(html) if "institution=hue" in h][0]
    filtered = page(web, hue)
    assert set(record_links(filtered)) == {THESIS.id, "hue-dspace-survey"}
    # the chip names the filter and links to the same search without it
    chip = re.search(r'<a class="chip" href="([^"]+)"', filtered)
    assert chip and "Đại học Huế" in filtered[chip.end(): chip.end() + 200]
    removed = parse_qs(urlsplit(unescape(chip.group(1))).query)
    assert removed == {"q": ["thu vien"]}


def test_two_values_of_one_facet_are_or_and_two_facets_are_and(web):
    both = page(web, "/search?institution=hue&institution=vnuhcm")
    assert "4 tài liệu" in both  # three Huế works + one VNU-HCM work
    narrowed = page(web, "/search?institution=hue&institution=vnuhcm&type=thesis")
    assert record_links(narrowed) == [THESIS.id]


def test_year_facet_histogram_and_range(web):
    html = page(web, "/search")
    assert 'class="histogram"' in html and 'class="bar w100"' in html
    ranged = page(web, "/search?year=2020-2022")
    links = record_links(ranged)
    assert "2 tài liệu" in ranged  # the flood article (two copies, one work) and the survey
    assert "hue-dspace-survey" in links and {FLOOD_HUE.id, "tvu-ojs-flood"} & set(links)
    assert THESIS.id not in links  # 2023


def test_year_range_form_redirects_to_the_canonical_parameter(web):
    res = web.get("/search?q=lu&year_from=2022&year_to=2020&institution=hue")
    assert res.status_code == 302
    target = parse_qs(urlsplit(res.headers["Location"]).query)
    assert target == {"q": ["lu"], "institution": ["hue"], "year": ["2020-2022"]}


def test_sort_newest_orders_by_year(web):
    html = page(web, "/search?q=bao+cao&sort=newest")
    years = [int(y) for y in re.findall(r"<span>(\d{4})</span>", html)]
    assert years == sorted(years, reverse=True) and len(years) > 5
    assert '<option value="newest" selected>' in html


def test_paging(web):
    first = page(web, "/search?q=bao+cao+tong+ket&size=10&sort=oldest")
    second = page(web, "/search?q=bao+cao+tong+ket&size=10&sort=oldest&page=2")
    assert len(record_links(first)) == 10 and len(record_links(second)) == 10
    assert not set(record_links(first)) & set(record_links(second))
    assert "trang 1/3" in first
    nxt = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert nxt and parse_qs(urlsplit(unescape(nxt.group(1))).query)["page"] == ["2"]
    assert 'rel="prev"' in second


def test_bad_parameters_fall_back_instead_of_failing(web):
    for url in ("/search?page=abc&size=-4&sort=evil", "/search?page=99999", "/search?size=10000"):
        assert web.get(url).status_code == 200


def test_a_work_held_by_two_members_is_one_result_naming_both(web):
    html = page(web, "/search?q=hoc+may+du+bao+lu")
    assert "1 tài liệu" in html
    held = html[html.index("Nơi lưu giữ"):]
    assert "Đại học Huế" in held[:600] and "Trường Đại học Trà Vinh" in held[:600]


def test_open_access_badge_and_find_full_text_through_the_resolver(web):
    html = page(web, "/search?q=thu+vien+so+DSpace")
    assert 'class="badge oa"' in html
    link = [h for h in hrefs(html) if h.startswith("/resolve?")][0]
    kev = parse_qs(urlsplit(link).query)
    assert kev["url_ver"] == ["Z39.88-2004"]
    assert kev["rft.title"] == [THESIS.title] and kev["rft.genre"] == ["dissertation"]


def test_every_result_carries_coins(web):
    html = page(web, "/search?q=bao+cao&size=5")
    spans = re.findall(r'<span class="Z3988" title="([^"]+)"></span>', html)
    assert len(spans) == 5
    kev = parse_qs(unescape(spans[0]))
    assert kev["ctx_ver"] == ["Z39.88-2004"] and kev["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:book"]


def test_zero_results_suggest_a_spelling_and_the_query_without_filters(web):
    html = page(web, "/search?q=hoc+mayy&institution=nasati")
    assert "Không có biểu ghi nào" in html
    assert 'class="suggestion" href="/search?q=hoc+may&amp;institution=nasati"' in html, \
        "the spelling suggestion keeps the filters"
    without = [h for h in hrefs(html) if h == "/search?q=hoc+mayy"]
    assert without, "no link to the same query without its filters"


def test_zero_results_without_filters_links_the_unfiltered_count(web):
    html = page(web, "/search?q=hoc+may&institution=nasati")
    assert "Tìm “hoc may” không dùng bộ lọc" in html and "(1 kết quả)" in html


def test_without_an_index_the_page_says_so(client):
    html = page(client, "/search?q=x")
    assert "chỉ mục tìm kiếm đang trống" in html


def test_language_switch_keeps_the_search(web):
    html = page(web, "/search?q=thu+vien&institution=hue")
    switch = re.search(r'<a href="([^"]+)" hreflang="en"', html).group(1)
    assert parse_qs(urlsplit(unescape(switch)).query) == {
        "q": ["thu vien"], "institution": ["hue"], "lang": ["en"]}
    assert "Results for “thu vien”" in page(web, unescape(switch))


def test_advanced_search_builds_one_query(web):
    res = web.get("/advanced?submitted=1&title=thu+vien&author=&subject=DSpace"
                  "&year_from=2020&year_to=&institution=hue&type=thesis")
    assert res.status_code == 302
    args = parse_qs(urlsplit(res.headers["Location"]).query)
    assert args == {"q": ["title:thu title:vien subject:DSpace"], "institution": ["hue"],
                    "type": ["thesis"], "year": ["2020-"]}
    assert record_links(page(web, res.headers["Location"])) == [THESIS.id]


def test_advanced_form_is_labelled(web):
    html = page(web, "/advanced")
    for field in ("adv-all", "adv-title", "adv-author", "adv-subject", "adv-from", "adv-to"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert "Đại học Huế" in html and "Luận văn" in html



def test_a_subject_filter_written_another_way_is_the_facet_value(web):
    """Subjects differing only in case or a trailing full stop are one value (issue #15):
    a link that wrote it in lower case still filters, and the facet shows it applied."""
    html = page(web, "/search?subject=th%C6%B0+vi%E1%BB%87n+s%E1%BB%91.")
    assert THESIS.id in record_links(html)
    applied = re.search(r'<a href="([^"]*)" aria-current="true" class="active">'
                        r'<span class="label"><span aria-hidden="true">✓ </span>Thư viện số<',
                        html)
    assert applied, "the subject facet does not show the filter applied"
    assert parse_qs(urlsplit(unescape(applied.group(1))).query) == {}  # removes it
