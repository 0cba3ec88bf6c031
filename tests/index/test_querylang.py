"""The query language: whether a query was read as written, and a tree written back."""

from __future__ import annotations

import pytest

from index import querylang as qlang

#: queries the language reads as written, each a different shape of tree
WELL_FORMED = [
    "thư viện số", "thu vein", 'title:"thư viện" author:nguyen', "a OR (b c)", "(a OR b) c",
    "NOT (a b)", "-a b", 'NOT "x y"', "year:2010", "year:-1989", "year:2010-",
    "year:2010-2020", "doi:10.1234/x", "isbn:notanisbn", "foo:bar", "title:a title:b",
    "a (b OR c) -d", '"p" a', 'a "" b', "title:x OR author:y z", "NOT title:a",
    'subject:"a b" OR (c -d)', '"Bài thơ "Tây Tiến" của Quang Dũng"', "Huế: lịch sử",
    "a AND b OR c", "(a -b) c",
]


@pytest.mark.parametrize("q", WELL_FORMED)
def test_a_query_read_as_written_did_not_fall_back(q):
    assert qlang.read(q).fell_back is False
    assert qlang.read(q).node == qlang.parse(q)


@pytest.mark.parametrize(("q", "words"), [
    ("(((", ""),
    ('"thư viện', "thư viện"),
    ("thu vien (so", "thu vien so"),
    ("AND thư viện", "thư viện"),
    ("title:", ""),
    ("year:abc", "abc"),
    ("thư viện NOT", "thư viện"),
])
def test_a_query_that_is_not_the_language_says_it_fell_back(q, words):
    # Fails before issue 15: parse() fell back silently, "(((" listing everything.
    reading = qlang.read(q)
    assert reading.fell_back is True
    assert reading.words == words
    assert isinstance(reading.node, qlang.MatchAll if not words else qlang.Words)


def test_an_empty_query_is_no_fallback():
    assert qlang.read("") == qlang.Reading(qlang.MatchAll(), fell_back=False)
    assert qlang.read(None).fell_back is False


@pytest.mark.parametrize("q", WELL_FORMED)
def test_a_tree_written_back_reads_as_the_same_tree(q):
    tree = qlang.parse(q)
    assert qlang.parse(qlang.unparse(tree)) == tree, qlang.unparse(tree)


def test_a_tree_is_written_as_people_type_queries():
    assert qlang.unparse(qlang.parse('title:"thư viện" -số OR year:2010-2020')) == (
        'title:"thư viện" -số OR year:2010-2020')
    assert qlang.unparse(qlang.parse("foo:bar thu vein")) == "foo:bar thu vein"


def test_unknown_fields_are_told_apart_from_fields_and_punctuation():
    assert qlang.unknown_field("foo:bar")
    assert not qlang.unknown_field("title:thư")
    assert not qlang.unknown_field("Huế:")  # a title's colon
    assert not qlang.unknown_field("Hue:")
