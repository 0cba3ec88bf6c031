"""Phrases match across punctuation the way the index stores text (issue 11).

A phrase copied from a title, with its punctuation, must find that title and nothing that
merely holds the same words; the same phrase with the punctuation dropped, NFD, folded, in
the other tone-mark placement, must find it too; and it stays a phrase (words that are not
neighbours never match). Through the public index API and the website (search page, JSON
API, and the record page's list of the other copies of a work).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import pytest

from index import analysis, open_index
from index.analysis import fold
from index.features import required_terms
from index.querylang import Words
from tests.support.catalogue import ids, rec

# (id, title): every title's look-alikes hold the same words in another order.
TITLES = [
    ("howard", "Teaching at Howard University: Part II"),
    ("nc", "Nghiên cứu: Phần 2 – ứng dụng (tái bản)"),
    ("cpp", "C++/CLI and .NET"),
    ("hn", "Hà Nội, 1945–1954"),
    ("quote", 'Bài thơ "Tây Tiến" của Quang Dũng'),
    ("hoa", "Thơ ca thời “hoà bình”: tuyển tập (1975–1985)"),
    ("apos", "O'Reilly's guide to 'Đà Lạt' / Lâm Đồng"),
]
LOOKALIKES = [
    ("howard-order", "Part II: Teaching at Howard University"),
    ("howard-sentence", "Teaching at Howard University. Part II"),
    ("howard-apart", "Teaching Part II at Howard University"),
    ("nc-order", "Ứng dụng: nghiên cứu phần 2 (tái bản)"),
    ("cpp-order", ".NET and C++/CLI"),
    ("hn-order", "1945–1954: Hà Nội"),
    ("quote-order", 'Tây Tiến của Quang Dũng: bài thơ'),
    ("hoa-order", "Tuyển tập thơ ca (1975–1985): thời hoà bình"),
    ("apos-order", "Lâm Đồng / 'Đà Lạt' guide to O'Reilly's"),
    ("two-values", "Hà Nội"),  # + a second title below: values are never neighbours
]
_WORDS = re.compile(r"[^\W_]+")
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def catalogue() -> list:
    out = [rec(i, t, year=2001) for i, t in TITLES + LOOKALIKES]
    out[-1].titles.append("Đà Lạt xưa")
    return out


@pytest.fixture(scope="module")
def pix(tmp_path_factory, engine):
    ix = open_index(tmp_path_factory.mktemp("punct") / "ix", engine=engine)
    with ix.writer() as w:
        w.add(catalogue())
    return ix


def swap_tone_style(text: str) -> str:
    """hòa ↔ hoà (the tone of a final open oa/oe/uy on the first or the second vowel)."""

    def swap(m: re.Match) -> str:
        s = unicodedata.normalize("NFD", m.group())
        s = re.sub(rf"([oOuU])([{_TONES}])([aAeEyY])$", r"\1\3\2", s) if not re.search(
            rf"[oOuU][aAeEyY][{_TONES}]$", s) else re.sub(
            rf"([oOuU])([aAeEyY])([{_TONES}])$", r"\1\3\2", s)
        return unicodedata.normalize("NFC", s)

    return _WORDS.sub(swap, unicodedata.normalize("NFC", text))


@pytest.mark.parametrize(("gap", "sep"), [
    (" ", "_"), (": ", "_"), (", ", "_"), (" – ", "_"), ("-", "_"), ("/", "_"), (" (", "_"),
    (") ", "_"), (' "', "_"), ("” ", "_"), ("'", "_"), ("++/", "_"), (" .", "_"), (".", "_"),
    ("", "_"), (". ", "."), ("? ", "."), ('." ', "."), ("… ", "."), (" | ", None), ("|", None),
])
def test_gap_rule(gap, sep):
    assert analysis.gap_separator(gap) == sep


@pytest.mark.parametrize("text", [t for _, t in TITLES + LOOKALIKES] + [
    "Nghiên cứu ở Hà. Nội dung chính | Hoà Bình-Huế", "Why? Because. (Really!) Yes…  no"])
def test_query_analysis_of_a_phrase_is_index_analysis_of_the_text(text):
    indexed = set(analysis.index_forms(text)[2])
    for form in (text, unicodedata.normalize("NFD", text), text.upper()):
        wanted = {t for f, t in required_terms(Words(form, field="title", phrase=True))
                  if f == "title_b"}
        assert wanted == indexed


def test_tone_swap_helper():
    assert swap_tone_style("hoà bình, hòa") == "hòa bình, hoà"


VARIANTS = {
    "as written": lambda t: t,
    "nfd": lambda t: unicodedata.normalize("NFD", t),
    "folded": fold,
    "lower": str.lower,
    "upper": str.upper,
    "other tone style": swap_tone_style,
    "punctuation dropped": lambda t: " ".join(_WORDS.findall(t)),
    "punctuation dropped, folded": lambda t: fold(" ".join(_WORDS.findall(t))),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("rid", "title"), TITLES, ids=[i for i, _ in TITLES])
def test_copied_phrase_finds_exactly_its_title(pix, rid, title, variant):
    text = VARIANTS[variant](title)
    for q in (f'"{text}"', f'title:"{text}"'):
        assert ids(pix.search(q, size=50)) == [rid], q


def test_phrase_with_quotes_inside_is_one_phrase(pix):
    # The inner quotes are part of the title, not the end of the phrase: "Tây Tiến của
    # Quang Dũng: bài thơ" holds every word and the pairs "bài thơ", "của Quang Dũng".
    assert ids(pix.search('"Bài thơ "Tây Tiến" của Quang Dũng"')) == ["quote"]
    assert ids(pix.search('title:"bai tho "tay tien" cua quang dung" AND year:2001')) == [
        "quote"]


@pytest.mark.parametrize(("q", "expected"), [
    ('"University: Part"', ["howard"]),
    ('"University Part"', ["howard"]),
    ('"University. Part"', ["howard-sentence"]),  # a sentence end is kept apart ...
    ('"Teaching at Howard University. Part II"', ["howard-sentence"]),
    ('"Phần 2 – ứng dụng (tái"', ["nc"]),
    ('"2 ung dung tai ban"', ["nc"]),
    ('"CLI and .NET"', ["cpp"]),
    ('"and NET"', ["cpp"]),
    ('"Nội, 1945"', ["hn"]),
    ('"noi 1945"', ["hn"]),
    ('"1954 Hà"', ["hn-order"]),
    ('"thời hòa bình"', ["hoa", "hoa-order"]),
    ('"Tiến" của', ["quote", "quote-order"]),  # a phrase of one word, then a word
])
def test_phrase_parts_across_punctuation(pix, q, expected):
    assert sorted(ids(pix.search(q, size=50))) == sorted(expected)


@pytest.mark.parametrize("q", [
    '"Howard University Teaching"',  # every word is there, never in this order
    '"II Teaching"',  # only in "Part II: Teaching …": not this title's neighbours
    '"Part II at Howard University: Teaching"',
    '"NET and C"',
    '"ca thời hòa bình: tuyển tập 1985"',
    '"Nội Đà Lạt"',  # the last word of one title and the first of the next
    '"Hà Nội | Huế"',  # "|" parts values: "Huế" is a phrase of its own, and required
])
def test_phrase_still_needs_neighbours(pix, q):
    got = ids(pix.search(q, size=50))
    assert "howard" not in got and "cpp" not in got and "hoa" not in got
    assert "two-values" not in got


def test_phrase_does_not_run_over_a_sentence_end(pix):
    got = ids(pix.search('"Teaching at Howard University Part II"', size=50))
    assert got == ["howard"]  # not "Teaching at Howard University. Part II"


def test_punctuation_between_phrases_is_ignored(pix):
    # Two phrases, so also the titles that hold both in another order; ":" adds nothing.
    assert sorted(ids(pix.search('"Teaching at Howard University" : "Part II"'))) == [
        "howard", "howard-order", "howard-sentence"]
    assert sorted(ids(pix.search('title:"Hà Nội" – title:1945'))) == ["hn", "hn-order"]


def test_plain_words_rank_the_title_with_those_neighbours_first(pix):
    assert ids(pix.search("Teaching at Howard University: Part II"))[0] == "howard"
    assert ids(pix.search("nghien cuu phan 2 ung dung tai ban"))[0] == "nc"


# ------------------------------------------------------------------- through the website

COPY_TITLE = "Teaching at Howard University: Part II"


@pytest.fixture
def web(app):  # type: ignore[no-untyped-def]
    from tests.support.sample import add_institutions

    ix = open_index(app.config["LIENHOP"].index_dir)
    copy = dict(year=1990, creators=["Logan, Rayford W."], type="book")
    others = [r for r in catalogue() if r.id in ("cpp", "hn") or "-" in r.id]
    with ix.writer() as w:
        w.add([*others,
               rec("hue-1", "Nghiên cứu: Phần 2 – ứng dụng (tái bản)", institution="hue",
                   year=2019, creators=["Nguyễn Văn An"]),
               rec("tvu-1", "Nghiên cứu: phần 2 - ứng dụng (tái bản)", institution="tvu",
                   year=2019, creators=["Nguyễn Văn An"], repository="tvu"),
               rec("hue-2", COPY_TITLE, institution="hue", **copy),
               rec("tvu-2", COPY_TITLE, institution="tvu", repository="tvu", **copy)])
    add_institutions(app)
    return app.test_client()


def test_api_search_phrase_with_punctuation(web):
    for title in (COPY_TITLE, "C++/CLI and .NET", "Hà Nội, 1945–1954",
                  unicodedata.normalize("NFD", "Nghiên cứu: Phần 2 – ứng dụng (tái bản)")):
        body = web.get("/api/search?q=" + quote(f'title:"{title}"')).get_json()
        assert body["total"] == 1, (title, body["results"])
    body = web.get("/api/search?q=" + quote('"Teaching at Howard University: Part II"')).get_json()
    assert body["total"] == 1
    (hit,) = body["results"]
    assert hit["title"] == COPY_TITLE and sorted(hit["institutions"]) == ["hue", "tvu"]


def test_search_page_phrase_with_punctuation(web):
    res = web.get("/search?q=" + quote('"C++/CLI and .NET"'))
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert 'href="/record/cpp"' in html and 'href="/record/cpp-order"' not in html


@pytest.mark.parametrize(("rid", "other"), [("hue-2", "tvu-2"), ("tvu-2", "hue-2"),
                                            ("hue-1", "tvu-1")])
def test_record_page_lists_the_other_copies_of_a_title_with_a_colon(web, rid, other):
    res = web.get(f"/record/{rid}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    start = html.index('class="holdings"')
    table = html[start:html.index("</table>", start)]
    assert f'href="/record/{other}"' in table
    assert "Đại học Huế" in table and "Trường Đại học Trà Vinh" in table
