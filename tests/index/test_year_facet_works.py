"""The year facet counts works per period, like every other facet: a work whose copies carry
different years within one period (a preprint of 2019 and the article of 2020 are two
periods; a thesis catalogued 2001 by one member and 2002 by another is one) counts once
in that period — a period never counts more works than the search found."""

from __future__ import annotations

import pytest

from index import open_index
from tests.support.catalogue import rec


def _years(res) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f.value: f.count for f in res.facets["year"]}


@pytest.fixture
def ix(tmp_path, engine):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([
            # one work, three copies: two in the 2000s, one in the 2010s
            rec("a1", "Canh tác lúa nước", year=2001, doi="10.5555/lua",
                institution="Đại học Huế"),
            rec("a2", "Canh tác lúa nước", year=2002, doi="10.5555/lua",
                institution="Đại học Vinh"),
            rec("a3", "Canh tác lúa nước", year=2011, doi="10.5555/lua",
                institution="Đại học Cần Thơ"),
            # a work of one record, and one with two copies of the same year
            rec("b", "Canh tác ngô", year=2005),
            rec("c1", "Canh tác khoai", year=2003, doi="10.5555/khoai"),
            rec("c2", "Canh tác khoai", year=2003, doi="10.5555/khoai",
                institution="Đại học Vinh"),
            rec("d", "Canh tác sắn"),  # no year
        ])
    return ix


def test_a_work_counts_once_per_period(ix):  # type: ignore[no-untyped-def]
    res = ix.search("canh tac")
    assert res.total == 4
    assert _years(res) == {"2010-2019": 1, "2000-2009": 3}
    assert [f.value for f in res.facets["year"]] == ["2010-2019", "2000-2009"]


def test_with_a_filter_and_on_later_pages(ix):  # type: ignore[no-untyped-def]
    res = ix.search("lua", filters={"institution": ["Đại học Huế", "Đại học Vinh"]})
    assert res.total == 1 and _years(res) == {"2000-2009": 1}
    res = ix.search("canh tac", year_range=(2000, 2009), size=1, page=2)
    assert res.total == 3 and _years(res) == {"2000-2009": 3}
    res = ix.search("canh tac", filters={"year": ["2010-2019"]})  # the records matching
    assert res.total == 1 and _years(res) == {"2010-2019": 1}
