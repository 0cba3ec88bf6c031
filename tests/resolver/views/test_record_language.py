"""The record page in the reader's language (issue 15): the source's datestamp as a date in
Vietnam time, not raw ISO; the words APA adds to a reference in the page's language."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import pytest

from tests.support.sample import THESIS, add_institutions, build_index, records

#: 20:00 UTC on 1 February is 03:00 on 2 February in Vietnam
LATE = dataclasses.replace(THESIS, id="hue-dspace-late", oai_identifier="oai:hue:late",
                           datestamp="2024-02-01T20:00:00Z")
#: a day-granularity repository: the day as given
DAY = dataclasses.replace(THESIS, id="hue-dspace-day", oai_identifier="oai:hue:day",
                          datestamp="2024-02-01")
ODD = dataclasses.replace(THESIS, id="hue-dspace-odd", oai_identifier="oai:hue:odd",
                          datestamp="yesterday")


@pytest.fixture
def pages(app):  # type: ignore[no-untyped-def]
    build_index(app.config["LIENHOP"].index_dir, [*records(), LATE, DAY, ODD])
    add_institutions(app)
    return app.test_client()


def visible(html: str) -> str:
    """The page's text as a reader sees it (tags and attributes gone)."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(("record", "lang", "expected"), [
    (THESIS, "vi", "2 tháng 5, 2024"),
    (THESIS, "en", "May 2, 2024"),
    (LATE, "vi", "2 tháng 2, 2024"),  # the date in Vietnam, not in UTC
    (LATE, "en", "February 2, 2024"),
    (DAY, "vi", "1 tháng 2, 2024"),
    (DAY, "en", "February 1, 2024"),
    (ODD, "vi", "yesterday"),  # unreadable: as the source wrote it
])
def test_source_datestamp_is_a_date_in_the_readers_language(pages, record, lang, expected):
    html = pages.get(f"/record/{record.id}?lang={lang}").get_data(as_text=True)
    text = visible(html)
    if expected != record.datestamp:
        assert record.datestamp not in text
    stamp = re.search(rf'<time datetime="{re.escape(record.datestamp)}">([^<]*)</time>', html)
    assert stamp, "the datestamp is a <time> element machines can read"
    assert unescape(stamp.group(1)) == expected


def apa(html: str) -> str:
    m = re.search(r'<blockquote class="apa">(.*?)</blockquote>', html, re.S)
    assert m
    return unescape(m.group(1))


def test_apa_genre_follows_the_page_language(pages):
    vi = apa(pages.get(f"/record/{THESIS.id}?lang=vi").get_data(as_text=True))
    assert "[Luận văn thạc sĩ]" in vi and "Master's thesis" not in vi
    en = apa(pages.get(f"/record/{THESIS.id}?lang=en").get_data(as_text=True))
    assert "[Master's thesis]" in en


def test_apa_words_in_both_languages():
    from resolver.discovery import citations as export

    phd = dataclasses.replace(THESIS, type="dissertation", year=None)
    assert "[Luận án tiến sĩ]" in export.apa(phd, "vi") and "(không rõ năm)" in export.apa(
        phd, "vi")
    assert "[Doctoral dissertation]" in export.apa(phd, "en") and "(n.d.)" in export.apa(phd)
