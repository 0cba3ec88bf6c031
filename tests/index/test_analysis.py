"""The analyzer rules (notes §c): canonical form, tone placement, folding, bigrams."""

from __future__ import annotations

import unicodedata

import pytest

from index import Record, analysis, documents
from index.names import name_terms
from tests.support.catalogue import CATALOGUE, ids


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


@pytest.mark.parametrize(("old", "new"), [
    ("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("tuỳ", "tùy"), ("loè", "lòe"),
    ("xoá", "xóa"), ("HOÀ", "hòa"), ("Thuỷ", "thủy"),
])
def test_old_and_new_tone_placement_are_one_token(old, new):
    assert analysis.exact_form(old) == analysis.exact_form(new) == new
    assert analysis.exact_form(nfd(old)) == new


@pytest.mark.parametrize("word", ["quý", "quỳnh", "hoàn", "toán", "huýt", "khuỷu", "già"])
def test_tone_rule_leaves_other_rhymes_alone(word):
    assert analysis.exact_form(word) == word


def test_fold_handles_nfd_and_d_stroke():
    # Whoosh's accent_map turns NFD "Đại" into "dali"; ours must not.
    assert analysis.fold(nfd("Trường Đại học Hà Nội")) == "truong dai hoc ha noi"
    assert analysis.fold("ĐẶNG") == "dang"
    assert analysis.fold(nfd("bệnh")) == analysis.fold("bệnh") == "benh"


def test_bigrams_do_not_cross_sentence_ends_or_values():
    assert "ha_noi" not in analysis.fold_bigrams("Nghiên cứu ở Hà. Nội dung")
    assert "ha.noi" in analysis.fold_bigrams("Nghiên cứu ở Hà. Nội dung")  # its own kind
    assert "ha_noi" in analysis.fold_bigrams("Văn hóa Hà Nội")
    assert "covid_19" in analysis.fold_bigrams("COVID-19")
    assert analysis.fold_bigrams("Hà | Nội") == []


def test_bigrams_join_across_punctuation_inside_a_sentence():
    assert analysis.fold_bigrams("Teaching at Howard University: Part II")[-2:] == [
        "university_part", "part_ii"]
    assert analysis.fold_bigrams("Hà Nội, 1945–1954") == ["ha_noi", "noi_1945", "1945_1954"]
    assert analysis.fold_bigrams("C++/CLI and .NET") == ["c_cli", "cli_and", "and_net"]


def test_display_text_is_only_composed():
    assert analysis.nfc(nfd("Hoà Bình")) == "Hoà Bình"  # old style kept for display


@pytest.mark.parametrize(("query", "expected"), [
    ("thu vien", "thuvien"),
    ("hoa binh", "hoabinh"),
    ("hoa binh", "hoabinh-old"),
    ("hoà bình", "hoabinh"),
    ("hòa bình", "hoabinh-old"),
    ("dai hoc", "daihoc"),
    (nfd("Huế"), "hue"),
    ("thủy lợi", "thuyloi"),
    ("khoẻ", "khoe"),
    ("DANG", "dang"),
])
def test_query_forms_match(ix, query, expected):
    assert expected in ids(ix.search(query, size=50))


@pytest.mark.parametrize(("query", "first"), [
    ("bàn", "ban-table"), ("bạn", "ban-friend"), ("bán", "ban-sell"), ("ban", None),
    ("Đặng", "dang"), ("dạng", "dang2"), ("đang", "dang3"),
])
def test_exact_accent_ranks_first(ix, query, first):
    res = ix.search(query)
    if first is None:  # unaccented: all four folded collisions match
        assert {"ban-table", "ban-friend", "ban-sell", "ban-plain"} <= set(ids(res))
    else:
        assert ids(res)[0] == first
        assert len(ids(res)) >= 3  # the folded collisions still match, below


def test_phrase_does_not_match_reversed_syllables(ix):
    assert ids(ix.search('"thư viện"')) == ["thuvien"]
    assert "vienthu" in ids(ix.search("thu vien"))  # plain words: both, ...
    assert ids(ix.search("thu vien"))[0] == "thuvien"  # ... adjacent ones first


def test_phrase_does_not_cross_sentence_punctuation(ix):
    assert ids(ix.search('"hà nội"')) == ["hanoi"]


def test_author_field_does_not_match_titles(ix):
    got = ids(ix.search("author:Nam"))
    assert set(got) == {"thuvien", "namauthor"}  # not "Kinh tế Việt Nam"


def test_must_not_match_pairs(ix):
    # Tone normalisation must not merge different words into one exact token.
    assert analysis.exact_form("quý") != analysis.exact_form("quỳ")
    assert analysis.exact_form("hoàn") != analysis.exact_form("hòan")
    assert ids(ix.search('"thư văn"')) == []  # both syllables occur, never in this order


@pytest.mark.parametrize(("query", "first"), [
    ("thu vien", "thuvien"), ("hoà bình", "hoabinh"), ("thủy lợi", "thuyloi"),
    ("khoẻ", "khoe"), ("Hà Nội", "hanoi"),
])
def test_exact_and_adjacent_forms_rank_first(ix, query, first):
    assert ids(ix.search(query))[0] == first


def _terms_group_by_group(record) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """index_terms as defined: each group's whole text analysed, then the whole names."""
    out: dict[str, list[str]] = {}
    for group, text in documents.texts(record).items():
        if text:
            for suffix, terms in zip("xfb", analysis.index_forms(text), strict=True):
                if terms:
                    out[f"{group}_{suffix}"] = terms
    names = [t for v in record.creators + record.contributors if v for t in name_terms(v)]
    if names:
        out["creator_b"] = out.get("creator_b", []) + list(dict.fromkeys(names))
    return out


_LONG = "Nghiên cứu thư viện số. " * 20  # longer than a memoised value


@pytest.mark.parametrize("record", CATALOGUE + [
    Record(id="x", oai_identifier="x", repository="t", institution="i"),
    Record(id="x", oai_identifier="x", repository="t", institution="i",
           titles=["Hà.", "Nội dung | chính", "", "  ", nfd("Thuỷ lợi"), "\u0301Hòa1 quý"],
           creators=["Nguyễn, Văn An", "", "Smith, John, 1950-"], contributors=["Lê Ba (chủ biên)"],
           subjects=["Thư viện học", "Thư viện học", "—", _LONG], abstract=_LONG + "Hà. Nội",
           publisher="NXB Đại học Huế.", journal="Tạp chí Khoa học²"),
    Record(id="x", oai_identifier="x", repository="t", institution="i", titles=["ΟΣ'Α ΟΔΟΣ"],
           abstract="", publisher="|", journal="x | y", subjects=["", "Hà Nội"]),
])
def test_index_terms_are_each_groups_analysis(record):
    assert documents.index_terms(record) == _terms_group_by_group(record)
    assert documents.index_terms(record) == _terms_group_by_group(record)  # memoised: same
