"""KBART parsing against small hand-written fixtures (tests/fixtures/kbart/)."""

from datetime import date

import pytest

from resolver.kb.coverage import covers
from resolver.kb.diff import diff_titles, title_key
from resolver.kb.kbart import (
    KbartError,
    KbartTitle,
    normalize_depth,
    parse_kbart,
)
from tests.support.paths import TEST_FIXTURES

FIX = TEST_FIXTURES / "kbart"


def load(name: str):
    return parse_kbart((FIX / name).read_bytes())


def test_bom_crlf_localised_depth_trailing_columns_and_quotes():
    r = load("bom_crlf_localised.txt")
    assert r.rejected == []
    assert r.columns[0] == "publication_title"  # BOM stripped from the first header
    t = {x.title_id: x for x in r.titles}
    assert set(t) == {"tckh", "jqt", "rev", "ab"}
    assert t["tckh"].publication_title == "Tạp chí Khoa học"
    assert t["tckh"].coverage_depth == "fulltext"  # "Toàn văn"
    assert t["tckh"].access_type == "F" and t["tckh"].embargo_info == "P1Y"
    assert t["jqt"].publication_title == 'Journal of "Quoted" Things'
    assert t["jqt"].coverage_depth == "fulltext"  # "Volltext"
    assert t["jqt"].publication_type == "serial"  # "Serial"
    assert t["rev"].coverage_depth == "fulltext"  # "texte intégral"
    assert t["ab"].coverage_depth == "abstracts"
    assert t["tckh"].print_identifier == "1859-3100"
    assert t["rev"].online_identifier == "1234-5679"
    assert t["jqt"].row == 3  # physical line numbers, header is line 1


def test_cr_only_phase1_latin1():
    r = load("phase1_cr_latin1.txt")
    assert any("CR" in w for w in r.warnings)
    assert any("not UTF-8" in w for w in r.warnings)
    assert "notes" in r.columns and "coverage_notes" not in r.columns
    er = r.titles[0]
    assert er.publication_title == "Études rurales"
    assert er.notes == "numéros spéciaux"
    assert er.online_identifier == "1777-537X" and er.coverage_depth == "fulltext"
    assert len(r.titles) == 2


def test_bad_rows_rejected_with_reasons_in_both_languages():
    r = load("bad_rows.txt")
    good = {t.publication_title: t for t in r.titles}
    assert set(good) == {"Good Book", "No id is fine"}
    assert good["Good Book"].print_identifier == "9783161484100"
    assert good["Good Book"].date_monograph_published_print == "2008-05-19"
    assert good["No id is fine"].print_identifier is None
    reasons = {x.row: x for x in r.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "publication_title" in reasons[3].reason_en and "thiếu" in reasons[3].reason_vi
    assert "check digit" in reasons[4].reason_en and "ISSN" in reasons[4].reason_en
    assert "ISBN" in reasons[5].reason_en
    assert "date" in reasons[6].reason_en and "2019-13" in reasons[6].reason_vi
    assert "embargo" in reasons[7].reason_en
    assert "after" in reasons[8].reason_en
    assert "http" in reasons[9].reason_en
    assert "ISBN" in reasons[10].reason_en or "ISSN" in reasons[10].reason_en
    assert all(x.reason_vi and x.raw for x in r.rejected)


def test_identifiers_follow_the_shared_rules():
    head = "publication_title\tprint_identifier\tonline_identifier\ttitle_url\tpublication_type\n"
    r = parse_kbart((head
                     + "J\tISSN 0866-708x\turn:issn:1859\u00ad4816\thttps://e.org/j\tserial\n"
                     + "B\tISBN-10: 0-8044-2957-x\t\thttps://e.org/b\tmonograph\n").encode())
    assert r.rejected == []
    assert [(t.print_identifier, t.online_identifier) for t in r.titles] == [
        ("0866-708X", "1859-4816"), ("9780804429573", None)]


@pytest.mark.parametrize(
    ("raw", "want"),
    [("Volltext", "fulltext"), ("texte intégral", "fulltext"), ("Full Text", "fulltext"),
     ("fulltext", "fulltext"), ("Toàn văn", "fulltext"), ("", "fulltext"),
     ("Abstracts", "abstracts"), ("selected_articles", "selected articles"),
     ("Mystery", "mystery")],
)
def test_normalize_depth(raw, want):
    assert normalize_depth(raw) == want


def test_no_header_raises():
    with pytest.raises(KbartError):
        parse_kbart(b"just\tsome\tcells\n1\t2\t3\n")
    with pytest.raises(KbartError):
        parse_kbart(b"")


def test_merged_header_cell_is_split():
    head = ("publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online"
            "\ttitle_url\tdate_monograph_published_online monograph_volume\taccess_type\n")
    r = parse_kbart((head + "T\t\t\t2000\thttps://x.org\t2001\t7\tP\n").encode())
    assert r.titles[0].monograph_volume == "7" and r.titles[0].access_type == "P"


def test_extension_columns_kept_in_extra():
    head = "publication_title\tprint_identifier\tonline_identifier\ttitle_url\tzdb_id\n"
    r = parse_kbart((head + "T\t0028-0836\t\thttps://x.org\t2155938-7\n").encode())
    assert r.titles[0].extra == {"zdb_id": "2155938-7"}


def test_title_coverage_feeds_coverage_module():
    r = load("bom_crlf_localised.txt")
    t = next(x for x in r.titles if x.title_id == "tckh")
    today = date(2024, 6, 15)
    assert covers(t.coverage(), year=2023, today=today).covered
    assert not covers(t.coverage(), year=2024, today=today).covered  # P1Y
    assert not covers(t.coverage(), year=2009, today=today).covered


def _t(**kw) -> KbartTitle:
    kw.setdefault("row", 2)
    kw.setdefault("publication_title", "T")
    return KbartTitle(**kw)


def test_title_key_precedence():
    assert title_key(_t(online_identifier="1", print_identifier="2", title_id="3")) == "id:1"
    assert title_key(_t(print_identifier="2", title_id="3")) == "id:2"
    assert title_key(_t(title_id="3")) == "title_id:3"
    assert title_key(_t(publication_title="Tạp  chí: Khoa-học")) == "title:tap chi khoa hoc"


def test_diff_titles_added_changed_removed():
    old = [
        _t(online_identifier="1111-1111", date_first_issue_online="2000"),
        _t(print_identifier="2222-2222"),
        _t(title_id="gone"),
        _t(title_id="same", row=9),
    ]
    new = [
        _t(online_identifier="1111-1111", date_first_issue_online="1995", row=5),
        _t(print_identifier="2222-2222", row=3),  # only the row moved: unchanged
        _t(title_id="new"),
        _t(title_id="same", row=2),
    ]
    d = diff_titles(old, new)
    assert [t.title_id for t in d.added] == ["new"]
    assert [t.title_id for t in d.removed] == ["gone"]
    assert len(d.changed) == 1
    assert d.changed[0].key == "id:1111-1111"
    assert d.changed[0].fields == ("date_first_issue_online",)


def test_diff_counts_extra_coverage_rows_as_change():
    old = [_t(title_id="a", date_first_issue_online="1990")]
    new = [_t(title_id="a", date_first_issue_online="1990"),
           _t(title_id="a", date_first_issue_online="2005")]
    d = diff_titles(old, new)
    assert d.changed and "coverage rows" in d.changed[0].fields
