"""Facet values with equal counts are listed in Vietnamese alphabetical order
(index/collation.py), the same on every engine: "Đại học" between "Dược" and "Ê-đê", not
after "Trường" and "Viện" as code points would put it."""

from __future__ import annotations

from index import Record, open_index

SUBJECTS = ["An toàn", "Ăn uống", "Ấn loát", "Dược học", "Đại học", "Ê-đê", "Ô nhiễm",
            "Ơ-xtơ-rây-li-a", "Trường học", "Ủy ban", "Ưu sinh", "Viện nghiên cứu"]


def test_equal_counts_list_in_vietnamese_order(tmp_path, engine):
    ix = open_index(tmp_path / "index", engine=engine)
    with ix.writer() as w:
        w.add([Record(id=f"r{i}", oai_identifier=f"oai:x:{i}", repository="x-repo",
                      institution="x", titles=[f"Tài liệu {i}"], subjects=[subject])
               for i, subject in enumerate(reversed(SUBJECTS))])
    listed = [f.value for f in ix.search("").facets["subject"]]
    assert listed == SUBJECTS
