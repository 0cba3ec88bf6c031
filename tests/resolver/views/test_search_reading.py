"""The results page says how it read the query, and suggests spellings only for slips
(issue 15)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote_plus


def page(client, q: str, lang: str = "") -> str:  # type: ignore[no-untyped-def]
    res = client.get(f"/search?q={quote_plus(q)}" + (f"&lang={lang}" if lang else ""))
    assert res.status_code == 200, res.status_code
    return res.get_data(as_text=True)


def reading_note(html: str) -> str | None:
    m = re.search(r'<p class="notice query-reading">(.*?)</p>', html, re.S)
    return unescape(m.group(1)) if m else None


def suggestions(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'class="suggestion"[^>]*>([^<]*)<', html)]


def test_a_query_that_cannot_be_read_says_so_in_both_languages(web):
    # Fails before issue 15: "(((" listed every record and said nothing.
    note = reading_note(page(web, "((("))
    assert note == ("Không đọc được câu tìm kiếm: không có từ nào để tìm, nên toàn bộ tài liệu "
                    "được liệt kê.")
    note = reading_note(page(web, "(((", "en"))
    assert note == ("Your search could not be read: it has no words to search for, so "
                    "everything is listed.")


def test_a_query_read_as_words_says_which_words(web):
    html = page(web, '"thư viện số')
    assert "“thư viện số”" in reading_note(html)
    assert "đã tìm theo các từ" in reading_note(html)
    assert "searched as the words “thu vien so”" in reading_note(page(web, "thu vien (so", "en"))


def test_a_query_read_as_written_has_no_note(web):
    for q in ("thư viện số", 'title:"thư viện"', "hoc may OR lũ", "year:2020"):
        assert reading_note(page(web, q)) is None, q
    assert reading_note(web.get("/search").get_data(as_text=True)) is None


def test_no_suggestion_rewrites_a_real_word_or_an_identifier(web):
    # Fails before issue 15: "hướng đi" was offered as another query, and "foo:bar" too.
    for q in ("hướng đi", "foo:bar", "978 604 671 234 o", "ISBN 978604", "issn 1859 4816"):
        html = page(web, q)
        assert "Không có biểu ghi nào" in html, q
        assert suggestions(html) == [], (q, suggestions(html))


def test_a_slip_is_still_suggested_with_the_query_kept(web):
    assert suggestions(page(web, "hoc mayy")) == ["hoc may"]
    assert suggestions(page(web, 'title:"thuw vien"')) == ['title:"thu vien"']
