"""What "did you mean" may suggest, on every engine (issue 15).

A word is only ever replaced when the index lacks it and no Vietnamese word is spelt so; a
word the index holds, a real word it lacks, a word written as an unknown field and any
identifier search stay as typed, and the suggestion keeps the query's own syntax.
"""

from __future__ import annotations

import pytest

from index import open_index
from index.syllable_shape import is_well_formed
from tests.support.catalogue import rec

RECORDS = [
    rec("guide", "Hướng dẫn sử dụng thư viện số", year=2020, language="vie"),
    rec("hue", "Đại học Huế: lịch sử hình thành", year=2017, language="vie"),
    rec("heritage", "Bảo tồn văn hóa cung đình", year=2015, language="vie"),
    rec("flood", "Machine learning for flood forecasting", year=2022, language="eng"),
    rec("vn", "Kinh tế Việt Nam sau đổi mới", year=2016, language="vie"),
    # a catalogue's slip, as real catalogues have them: "IBSN" for ISBN
    rec("typo", "Giáo trình hóa học", year=2012, language="vie",
        abstract="Bản in đầu có mã IBSN in sai trên bìa."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory, engine):  # type: ignore[no-untyped-def]
    index = open_index(tmp_path_factory.mktemp("sugg") / "index", engine=engine)
    with index.writer() as w:
        w.add(RECORDS)
    return index


@pytest.mark.parametrize("q", ["hướng đi", "huong di", "Hướng đi mới"])
def test_a_real_word_the_index_lacks_is_never_rewritten(ix, q):
    # Fails before issue 15: "hướng đi" became "hướng đại" ("đi" is one edit from "đại").
    assert ix.suggest(q) == []
    assert ix.search(q).suggestions == []


def test_words_the_index_holds_stay_as_typed(ix):
    assert ix.suggest("Hướng Dẫn thư vein") == ["Hướng Dẫn thư vien"]
    assert ix.suggest("đại hcọ Huế") == ["đại học Huế"]


@pytest.mark.parametrize(("typed", "meant"), [
    ("thu vein", "thu vien"),
    ("thuw vien", "thu vien"),  # a Telex key left unconverted
    ("vieetj nam", "viet nam"),
    ("đại hcọ", "đại học"),
    ("machne learning", "machine learning"),
])
def test_slips_no_word_is_spelt_as_get_a_suggestion(ix, typed, meant):
    assert ix.suggest(typed) == [meant]
    assert ix.search(typed).suggestions == [meant]


def test_words_written_as_an_unknown_field_are_left_alone(ix):
    # Fails before issue 15: "foo:bar" (searched as the words foo, bar) became "for ban".
    assert ix.suggest("foo:bar") == []
    assert ix.suggest("foo:bar thu vein") == ["foo:bar thu vien"]


def test_the_suggestion_keeps_the_query_syntax(ix):
    # Fails before issue 15: the field, the quotes and the operators were dropped.
    assert ix.suggest('title:"thu vein"') == ['title:"thu vien"']
    assert ix.suggest("thu vein -bảo") == ["thu vien -bảo"]
    assert ix.suggest("thu vein OR machne") == ["thu vien OR machine"]
    assert ix.suggest("Huế: thuw vien") == ["Huế: thu vien"]


@pytest.mark.parametrize("q", [
    "978 604 671 234 o",  # an ISBN typed in groups, a letter for a digit
    "ISBN 9786046712343",
    "ISBN 978604",  # fails before issue 15: "isbn" became "ibsn"
    "isbn: 978 604 67",
    "issn 1859 4816",  # fails before issue 15, as the next one
    "1859 4816 machne",
    "doi 10.1234/abc",
    "10.1234/abc machne",
    "isbn:9786046712343 machne",
])
def test_identifier_searches_get_no_suggestion(ix, q):
    assert ix.suggest(q) == []
    assert ix.search(q).suggestions == []


def test_a_word_beside_a_year_still_gets_one(ix):
    assert ix.suggest("machne learning 2022") == ["machine learning 2022"]


def test_the_shapes_of_vietnamese_syllables():
    real = ("đi hướng nghiêng quýt gì khuya khuếch huỳnh thuở xuân hoặc ngoằn rượu được giữ "
            "gìn xoong soóc buồm khuỷu uống yến quốc sức khỏe khoẻ thủy")
    assert [w for w in real.split() if not is_well_formed(w)] == []
    slips = "vieetj hcọ khoẻe thuw vein sưc qyý binhh trugn organik hydrolgoy bar foo"
    assert [w for w in slips.split() if is_well_formed(w)] == []
    assert is_well_formed("huong") and is_well_formed("nghiem")  # typed without marks
