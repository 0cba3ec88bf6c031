"""A person's full name ranks that person's records first, on every engine (issue 14).

The look-alikes are the ones that beat the person before whole names were indexed: the
name's syllables spread over several authors (within one author value and across two),
and surname + middle name on an author with the given names side by side in the title.
"""

from __future__ import annotations

import unicodedata

import pytest

from index import open_index
from index.names import name_terms, query_names
from tests.support.catalogue import ids, rec

NAME = "Nguyễn Văn Diệu Hòa"
TARGET = "person"


def _records():
    return [
        rec(TARGET, "Quản lý tài nguyên nước ở đồng bằng", year=2019,
            creators=["Phạm Thị Lan", NAME]),
        # Surname and middle name on an author, the given names in the title.
        rec("spread-fields", "Diệu Hòa: quản lý tài nguyên nước", year=2020,
            creators=["Nguyễn Văn Minh"]),
        rec("spread-fields-2", "Nghiên cứu Diệu Hòa ở đồng bằng", year=2021,
            creators=["Nguyễn Văn Tâm", "Lê Hòa"]),
        # The syllables over two neighbouring author values.
        rec("spread-authors", "Đồng bằng và nước", year=2022,
            creators=["Trần Nguyễn Văn", "Diệu Hòa Lê"]),
        # Another middle name.
        rec("other-middle", "Nguyễn Văn và tài nguyên", year=2018,
            creators=["Nguyễn Thị Diệu Hòa", "Văn Tiến"]),
        # The name quoted in an abstract with the title's words.
        rec("abstract", "Tài nguyên nước", year=2023, creators=["Hoàng An"],
            abstract="Theo Nguyễn Văn Minh, Diệu Hòa là vùng nhiều nước."),
    ]


@pytest.fixture(scope="module")
def names_ix(tmp_path_factory, engine):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path_factory.mktemp("names") / "index", engine=engine)
    with ix.writer() as w:
        w.add(_records())
    return ix


@pytest.mark.parametrize("query", [
    NAME,
    "Nguyen Van Dieu Hoa",                      # no diacritics
    "nguyễn văn diệu hoà",                      # the old tone placement, lower case
    unicodedata.normalize("NFD", NAME),         # decomposed
    f'author:"{NAME}"',
    f'"{NAME}"',
])
def test_a_full_name_ranks_the_person_first(names_ix, query):
    found = ids(names_ix.search(query))
    assert found and found[0] == TARGET, found


def test_the_name_among_other_words_still_ranks_the_person_first(names_ix):
    assert ids(names_ix.search(f"{NAME} tài nguyên nước"))[0] == TARGET


def test_pairs_never_join_two_author_values(names_ix):
    # "Văn Diệu" exists only across the boundary of "Trần Nguyễn Văn | Diệu Hòa Lê".
    assert "spread-authors" not in ids(names_ix.search('author:"Văn Diệu"'))
    assert ids(names_ix.search('author:"Diệu Hòa Lê"')) == ["spread-authors"]


def test_pairs_never_join_two_titles_or_two_subjects(tmp_path, engine):
    ix = open_index(tmp_path / "index", engine=engine)
    with ix.writer() as w:
        two = rec("two", "Kinh tế biển", subjects=["Nông nghiệp", "Lâm nghiệp"])
        two.titles.append("Hòa Bình xưa")
        w.add([two,
               rec("one", "Kinh tế biển Hòa Bình", subjects=["Nông nghiệp lâm nghiệp"])])
    assert ids(ix.search('"biển Hòa"')) == ["one"]
    assert ids(ix.search('subject:"nghiệp lâm"')) == ["one"]


def test_whole_name_terms_of_a_heading():
    assert name_terms(NAME) == ["=nguyen_van_dieu_hoa"]
    # The role and the life dates are not part of the name; "Surname, Given" both ways.
    assert name_terms("Nguyễn Văn An (chủ biên)") == ["=nguyen_van_an"]
    assert name_terms("Smith, John, 1950-") == ["=smith_john", "=john_smith"]
    assert name_terms("Nguyễn, Văn An") == ["=nguyen_van_an", "=van_an_nguyen"]
    assert name_terms("Hòa") == []  # one syllable: the pairs and syllables answer it


def test_query_runs_are_bounded():
    runs = query_names([f"w{i}" for i in range(40)])
    assert len(runs) <= 64 and all(2 <= n <= 6 for _t, n in runs)
    assert ("=a_b", 2) in query_names(["a", "b"])


def test_a_western_name_in_either_order(tmp_path, engine):
    ix = open_index(tmp_path / "index", engine=engine)
    with ix.writer() as w:
        w.add([rec("smith", "Water management", creators=["Smith, John"]),
               rec("spread", "John and the water", creators=["Smith, Anna"]),
               rec("spread-2", "Smith water", creators=["John, Mary"])])
    assert ids(ix.search("John Smith"))[0] == "smith"
    assert ids(ix.search("Smith John"))[0] == "smith"


def test_fully_tied_records_rank_alike_on_both_engines(tmp_path):
    # Same title length, same year, same features: only the final tie-break orders them.
    # Same title, year and features, no author: eight works only the tie-break orders.
    records = [rec(f"tie-{i}", "Báo cáo tổng kết", year=2020) for i in range(8)]
    orders = []
    for engine in ("whoosh", "tantivy"):
        ix = open_index(tmp_path / engine, engine=engine)
        with ix.writer() as w:
            w.add(list(reversed(records)) if engine == "tantivy" else records)
        orders.append(ids(ix.search("báo cáo")))
    assert len(orders[0]) == 8 and orders[0] == orders[1]
