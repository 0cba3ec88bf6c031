"""Works and records are named for what they count. The sample consortium has 30 records and
29 works (the flood article is held by Huế and Trà Vinh, one work): the home page counts
records, the search counts works, and the search says once why the two differ."""

from __future__ import annotations

import re

import pytest

from tests.support.sample import records

RECORDS = len([r for r in records()])
WORKS = RECORDS - 1  # FLOOD_HUE and FLOOD_TVU are one work


def text(resp) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


@pytest.mark.parametrize("lang, records_word", [("vi", "biểu ghi"), ("en", "records")])
def test_the_home_page_counts_records(web, lang, records_word):
    page = text(web.get(f"/?lang={lang}"))
    assert f"{RECORDS} {records_word}" in page


@pytest.mark.parametrize("lang, expected", [
    ("vi", f"{WORKS} tài liệu ({RECORDS} biểu ghi: tài liệu do nhiều thành viên cùng lưu giữ "
           "chỉ hiện một lần)"),
    ("en", f"{WORKS} works ({RECORDS} records: copies held by several members are shown "
           "once)"),
])
def test_browsing_counts_works_and_says_why_records_differ(web, lang, expected):
    page = text(web.get(f"/search?lang={lang}"))
    assert expected in page
    assert f"{WORKS} results" not in page and f"{WORKS} kết quả" not in page


def test_a_search_counts_works_and_explains_grouping_where_it_shows(web):
    page = text(web.get("/search?q=du+bao+lu&lang=en"))  # the flood article: one work, two copies
    assert "1 work " in page and "copies held by several members are shown once" in page
    page = text(web.get("/search?q=thu+vien+so&lang=en"))  # nothing grouped on this page
    assert re.search(r"\b\d+ works?\b", page)
    assert "shown once" not in page


def test_the_members_table_counts_works(web):
    html = web.get("/?lang=en").get_data(as_text=True)
    table = html[html.index("<table"):html.index("</table>")]
    # the numbers are the works a search for the institution lists
    assert ">Works</th>" in table and ">Records</th>" not in table
    hue = text(web.get("/search?institution=hue&lang=en"))
    assert re.search(r'institution=hue">3</a>', table) and "3 works" in hue
