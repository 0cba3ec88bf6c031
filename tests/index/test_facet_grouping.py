"""Subject facet values written differently — case, Unicode form, surrounding space, a
trailing full stop, old or new tone placement — are one value (issue #15): one entry,
counted in works, labelled with the most common spelling, and a filter on it matches every
spelling. Diacritics still tell values apart ("Lý luận" is not "Ly luan"). Both engines."""

from __future__ import annotations

import unicodedata

import pytest

from index import Record, open_index
from index.facets import facet_key, grouped, subject_values
from tests.support.catalogue import rec

LIB = "Liên hợp thư viện"
RECORDS = [
    rec("a", "Mạng lưới thư viện", subjects=[LIB], year=2010),
    rec("b", "Hợp tác thư viện", subjects=["liên hợp thư viện"], year=2011),
    rec("c", "Thư viện số", subjects=["Liên hợp thư viện."], year=2012),
    rec("d", "Chia sẻ tài nguyên", subjects=["  LIÊN HỢP   THƯ VIỆN "], year=2013),
    rec("e", "Thư viện đại học", subjects=[unicodedata.normalize("NFD", LIB)], year=2014),
    # one record holding two spellings of one value counts once
    rec("f", "Liên kết thư viện", subjects=[LIB, "liên hợp thư viện", "Lý luận"], year=2015),
    rec("g", "Lý luận văn học", subjects=["Lý luận"], year=2016),
    rec("h", "Ly luan", subjects=["Ly luan"], year=2017),
    rec("i", "Nuôi cá tra", subjects=["Thủy sản"], year=2018),
    rec("j", "Nuôi tôm", subjects=["Thủy sản"], year=2019),
    rec("k", "Nuôi nghêu", subjects=["thuỷ sản"], year=2020),
    # a tie between two spellings: the first in Vietnamese order (lowercase first)
    rec("m", "Kinh tế biển", subjects=["Kinh tế biển"], year=2001),
    rec("n", "Kinh tế đảo", subjects=["kinh tế biển"], year=2002),
]
# A work held by two libraries, catalogued with different capitalisation: counted once.
WORK = rec("w1", "Thư viện và cộng đồng", doi="10.1234/tvcd", subjects=["Thư viện công cộng"],
           institution="Đại học Huế", year=2021)
COPY = Record.from_dict({**WORK.to_dict(), "id": "w2", "oai_identifier": "oai:x:w2",
                         "institution": "Đại học Vinh", "subjects": ["thư viện công cộng."]})


@pytest.fixture(scope="module")
def ix(tmp_path_factory, engine):  # type: ignore[no-untyped-def]
    index = open_index(tmp_path_factory.mktemp("facets") / "index", engine=engine)
    with index.writer() as w:
        w.add(RECORDS + [WORK])
    with index.writer() as w:  # the copy joins the work in a later commit
        w.add([COPY])
    return index


def subjects(res) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f.value: f.count for f in res.facets["subject"]}


def ids(res) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(rid for h in res.hits for rid in h.member_ids)


def test_spellings_of_one_value_are_one_facet_entry(ix):  # type: ignore[no-untyped-def]
    res = ix.search("")
    assert subjects(res) == {LIB: 6, "Lý luận": 2, "Ly luan": 1, "Thủy sản": 3,
                             "kinh tế biển": 2, "thư viện công cộng": 1}


def test_counted_in_works_within_a_search(ix):  # type: ignore[no-untyped-def]
    res = ix.search("thu vien")
    assert res.total == 7
    assert subjects(res) == {LIB: 6, "Lý luận": 1, "thư viện công cộng": 1}


@pytest.mark.parametrize("value", [LIB, "liên hợp thư viện", "LIÊN HỢP THƯ VIỆN.",
                                   unicodedata.normalize("NFD", LIB), " Liên hợp  thư viện "])
def test_a_filter_matches_every_spelling(ix, value):  # type: ignore[no-untyped-def]
    res = ix.search("", filters={"subject": [value]})
    assert ids(res) == ["a", "b", "c", "d", "e", "f"]
    assert subjects(res)[LIB] == 6
    res = ix.search("thu vien so", filters={"subject": [value]})
    assert ids(res) == ["c"]


def test_a_filter_with_a_query_and_other_spellings(ix):  # type: ignore[no-untyped-def]
    assert ids(ix.search("nuoi", filters={"subject": ["thuỷ sản"]})) == ["i", "j", "k"]
    assert ids(ix.search("", filters={"subject": ["THỦY SẢN"]})) == ["i", "j", "k"]
    res = ix.search("", filters={"subject": ["thư viện công cộng"]})
    assert res.total == 1 and ids(res) == ["w1", "w2"]
    assert subjects(res) == {"thư viện công cộng": 1}


def test_diacritics_still_tell_values_apart(ix):  # type: ignore[no-untyped-def]
    assert ids(ix.search("", filters={"subject": ["Lý luận"]})) == ["f", "g"]
    assert ids(ix.search("", filters={"subject": ["Ly luan"]})) == ["h"]
    assert ids(ix.search("", filters={"subject": ["Lý luận", "ly luan"]})) == ["f", "g", "h"]


def test_the_rule():
    assert facet_key("  Thuỷ   Sản. ") == facet_key("thủy sản") != facet_key("thuy san")
    assert facet_key("Lý luận") != facet_key("Ly luan")
    assert subject_values(["Thư viện", "thư viện.", "", " . ", "Hà Nội, Việt Nam"]) == [
        "Thư viện", "Hà Nội Việt Nam"]
    counts, labels = grouped({"Thư viện": 2, "thư viện": 2, "THƯ VIỆN.": 1, "Sách": 1})
    assert counts == {"thư viện": 5, "sách": 1}
    assert labels == {"thư viện": "thư viện", "sách": "Sách"}


def test_an_index_written_before_the_rule_groups_at_read_time(tmp_path, engine, monkeypatch
                                                              ):  # type: ignore[no-untyped-def]
    """An index written by the previous release holds subjects as catalogued (no cleaning,
    several spellings in one record): it still opens, groups and filters by every spelling."""
    from index.tantivy_engine import schema as tantivy_schema
    from index.whoosh_engine import schema as whoosh_schema

    def as_before(subjects):  # type: ignore[no-untyped-def]
        return list(dict.fromkeys(s.replace(",", " ").strip() for s in subjects if s))

    for module in (tantivy_schema, whoosh_schema):
        monkeypatch.setattr(module, "subject_values", as_before)
    old = open_index(tmp_path / "old", engine=engine)
    with old.writer() as w:
        w.add(RECORDS[:5] + RECORDS[6:])
    monkeypatch.undo()
    reader = open_index(tmp_path / "old", readonly=True)
    res = reader.search("")
    assert {f.value: f.count for f in res.facets["subject"]}[LIB] == 5
    for value in ("LIÊN HỢP THƯ VIỆN", "Liên hợp thư viện."):
        assert ids(reader.search("", filters={"subject": [value]})) == ["a", "b", "c", "d", "e"]
    assert ids(reader.search("nuoi", filters={"subject": ["Thuỷ Sản"]})) == ["i", "j", "k"]
