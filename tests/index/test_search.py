"""Search behaviour through the public API: query language, facets, sorting, paging,
highlighting, identifiers, lookup, suggestions, and read-only refresh."""

from __future__ import annotations

import pytest

from index import IndexLocked, open_index
from index.collation import sort_key
from index.querylang import Words, parse
from tests.support.catalogue import CATALOGUE, ids, rec


def test_first_result_for_unaccented_query(ix):
    res = ix.search("thu vien so")
    assert ids(res)[0] == "thuvien"
    assert res.total >= 1 and res.page == 1 and res.size == 20


@pytest.mark.parametrize("q", ['"unterminated', "((thu vien", "thu AND", "OR OR",
                               "title:", "year:abc", ")(", 'NOT', "a:b:c", "AND thu"])
def test_syntax_errors_never_raise(ix, q):
    res = ix.search(q)
    assert res.total >= 0


def test_syntax_error_falls_back_to_plain_words(ix):
    assert parse("((thu vien") == Words("thu vien")
    assert ids(ix.search("((thư viện số"))[0] == "thuvien"


def test_boolean_operators(ix):
    assert set(ids(ix.search("bàn OR bạn"))) >= {"ban-table", "ban-friend"}
    assert "ban-plain" not in ids(ix.search("ban NOT chấp"))
    assert "ban-plain" not in ids(ix.search("ban -chap"))
    assert ids(ix.search("kinh AND tế AND nông")) == ["hoabinh-old"]


def test_fielded_queries(ix):
    assert ids(ix.search("title:thuỷ lợi")) == ["thuyloi"]
    assert ids(ix.search('author:"Tran Thi Lan"')) == ["thuyloi"]
    assert ids(ix.search("subject:thu vien")) == ["thuvien"]
    got = ids(ix.search("year:2003-2004", size=50))
    assert set(got) == {"dang", "dang2", "dang3"}
    assert set(ids(ix.search("year:2010", size=50))) == {"hoabinh"}


@pytest.mark.parametrize("q", ["doi:10.1234/DL.2019.7", "doi:https://doi.org/10.1234/dl.2019.7",
                               "https://dx.doi.org/10.1234/dl.2019.7", "10.1234/dl.2019.7",
                               'doi:"doi:10.1234/dl.2019.7"'])
def test_doi_in_any_form(ix, q):
    assert ids(ix.search(q)) == ["en-lib"]


@pytest.mark.parametrize("q", ["isbn:0-306-40615-2", "isbn:978-0-306-40615-7",
                               "ISBN:9780306406157", "0306406152", "978-0-306-40615-7"])
def test_isbn_in_any_form(ix, q):
    assert ids(ix.search(q)) == ["en-book"]


def test_issn_forms(ix):
    assert ids(ix.search("issn:12345679")) == ["en-lib"]
    assert ids(ix.search("issn:1234-5679")) == ["en-lib"]
    assert ids(ix.search("issn:1234-5670")) == []  # bad checksum: matches nothing


def test_facets_and_combined_filters(ix):
    res = ix.search("", size=100)
    assert res.total == len(CATALOGUE)
    inst = {f.value: f.count for f in res.facets["institution"]}
    assert inst["Đại học Thái Nguyên"] == 1
    lang = {f.value: f.count for f in res.facets["language"]}
    assert lang == {"vie": 20, "eng": 2}
    assert {f.value for f in res.facets["year"]} >= {"2010-2019", "2000-2009", "2020-"}
    res = ix.search("", filters={"language": ["eng"], "type": ["book"]})
    assert ids(res) == ["en-book"]
    res = ix.search("", filters={"language": ["eng"], "access": ["open"]})
    assert ids(res) == ["en-lib"]
    res = ix.search("", filters={"type": ["book", "report"]}, size=50)
    assert set(ids(res)) == {"vienthu", "hoabinh", "thuyloi", "en-book"}
    assert {f.value: f.count for f in res.facets["type"]} == {"book": 3, "report": 1}
    res = ix.search("", filters={"year": ["2010-2019"]}, year_range=(2015, None), size=50)
    assert set(ids(res)) == {"vienthu", "thuyloi", "khoe", "vietnam", "en-lib"}
    assert ids(ix.search("", filters={"subject": ["Thư viện học"]})) == ["thuvien"]


def test_sort_by_year_and_vietnamese_title_collation(ix):
    newest = ix.search("", sort="newest", size=3)
    assert [h.record.year for h in newest.hits] == [2022, 2021, 2020]
    oldest = ix.search("", sort="oldest", size=2)
    assert [h.record.year for h in oldest.hits] == [2000, 2000]
    titles = [h.record.title for h in ix.search("", sort="title", size=100).hits]
    assert titles == sorted(titles, key=sort_key)
    # a < ă < â … d < đ: Python's code-point order would put "Đ" after "Z".
    first_letters = [t[0] for t in titles]
    assert first_letters.index("Đ") > first_letters.index("D")
    assert first_letters.index("Đ") < first_letters.index("K")


def test_collation_order():
    words = ["đa", "da", "ăn", "an", "ân", "bé", "be", "bè", "ơi", "ôi", "oi", "ưa", "ua"]
    assert sorted(words, key=sort_key) == ["an", "ăn", "ân", "be", "bè", "bé", "da", "đa",
                                           "oi", "ôi", "ơi", "ua", "ưa"]


def test_pagination_is_stable_and_complete(ix):
    pages = [ix.search("", sort="relevance", page=p, size=5) for p in range(1, 6)]
    seen = [i for p in pages for i in ids(p)]
    assert len(seen) == len(set(seen)) == len(CATALOGUE)
    again = [i for p in range(1, 6) for i in ids(ix.search("", page=p, size=5))]
    assert again == seen
    ban = [i for p in (1, 2) for i in ids(ix.search("ban", page=p, size=2))]
    assert sorted(ban) == sorted(ids(ix.search("ban", size=10)))


def test_highlight_in_accented_text_for_unaccented_query(ix):
    hit = ix.search("thu vien").hits[0]
    assert hit.title_html == "<mark>Thư</mark> <mark>viện</mark> số trong trường đại học"
    assert "<mark>thư</mark> <mark>viện</mark>" in hit.snippet_html


def test_highlight_escapes_html(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("x", "Thư viện <script>alert(1)</script> & co",
                   abstract="a <b>thư</b> viện")])
    hit = ix.search("thu").hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert hit.snippet_html == "a &lt;b&gt;<mark>thư</mark>&lt;/b&gt; viện"


def test_did_you_mean_uses_index_vocabulary(ix):
    res = ix.search("thu vein")
    assert res.total == 0
    assert res.suggestions == ["thu vien"]
    assert ix.suggest("kien truc cung dinh hue") == []


def test_lookup_by_identifiers_and_title(ix):
    assert [r.id for r in ix.lookup(doi="https://doi.org/10.1234/DL.2019.7")] == ["en-lib"]
    assert [r.id for r in ix.lookup(isbn="0-306-40615-2")] == ["en-book"]
    assert [r.id for r in ix.lookup(issn="1234-5679")] == ["en-lib"]
    got = ix.lookup(title="THU VIEN SO TRONG TRUONG DAI HOC", year=2021)
    assert got[0].id == "thuvien"
    assert ix.lookup(title="Thư viện số trong trường đại học", year=1999) == []
    assert ix.lookup(doi="10.9999/none") == []


def test_get_count_delete(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add(CATALOGUE[:3])
    assert ix.count() == 3
    assert ix.get("hoabinh").title == "Địa chí tỉnh Hòa Bình"
    assert ix.get("missing") is None
    with ix.writer() as w:
        assert w.delete(["hoabinh", "missing"]) == 1
    assert ix.count() == 2 and ix.get("hoabinh") is None


def test_upsert_replaces(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Tiêu đề cũ")])
    with ix.writer() as w:
        w.add([rec("a", "Tiêu đề mới")])
    assert ix.count() == 1
    assert ids(ix.search("tieu de cu")) == []
    assert ids(ix.search("tieu de moi")) == ["a"]


def test_stored_text_is_nfc_only(tmp_path, engine):
    import unicodedata

    ix = open_index(tmp_path / "ix", engine=engine)
    title = unicodedata.normalize("NFD", "Hoà Bình")
    with ix.writer() as w:
        w.add([rec("a", title)])
    assert ix.get("a").title == "Hoà Bình"  # composed, old tone placement kept


def test_writer_cancels_on_exception(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with pytest.raises(RuntimeError), ix.writer() as w:
        w.add([rec("a", "Một")])
        raise RuntimeError("boom")
    assert ix.count() == 0


def test_second_writer_times_out(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    other = open_index(tmp_path / "ix")
    with ix.writer(), pytest.raises(IndexLocked), other.writer(timeout=0.2):
        pass


def test_readonly_reader_sees_new_commits(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    ro = open_index(tmp_path / "ix", readonly=True)
    assert ro.count() == 0
    with ix.writer() as w:
        w.add([rec("a", "Thư viện")])
    assert ro.count() == 1 and ids(ro.search("thu vien")) == ["a"]
    with pytest.raises(PermissionError), ro.writer():
        pass


def test_readonly_open_of_missing_index_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_index(tmp_path / "none", readonly=True)
