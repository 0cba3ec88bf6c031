"""Work-level clusters: one hit per work, with every holding institution."""

from __future__ import annotations

from index import open_index
from index.dedup import match_keys, resolve_clusters
from tests.support.catalogue import ids, rec


def test_match_keys_normalise_forms():
    a = rec("a", "THƯ VIỆN SỐ: Lý luận", year=2020, creators=["Nguyễn Văn An1"],
            doi="https://doi.org/10.1000/ABC", isbn=["0-306-40615-2"])
    b = rec("b", "Thư viện số - lý luận", year=2020, creators=["Nguyen, Van An"])
    assert "doi:10.1000/abc" in match_keys(a) and "isbn:9780306406157" in match_keys(a)
    assert set(match_keys(a)) & set(match_keys(b))  # same title + year + first author


def test_title_alone_is_not_enough():
    a = rec("a", "Báo cáo tổng kết", year=2020)
    b = rec("b", "Báo cáo tổng kết", year=2020)
    assert resolve_clusters({"a": match_keys(a), "b": match_keys(b)}).keys() == {"a", "b"}
    assert len(set(resolve_clusters({"a": match_keys(a), "b": match_keys(b)}).values())) == 2


def test_clusters_are_transitive_and_order_free():
    members = {"a": ["doi:x"], "b": ["doi:x", "tya:t"], "c": ["tya:t"], "d": ["isbn:1"]}
    one = resolve_clusters(members)
    two = resolve_clusters(dict(reversed(list(members.items()))))
    assert one == two
    assert one["a"] == one["b"] == one["c"] != one["d"]


def test_search_shows_cluster_once_with_every_institution(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("hue-1", "Thư viện số", doi="10.5555/x", institution="Đại học Huế", year=2020),
               rec("other", "Thư viện truyền thống", institution="Đại học Huế", year=2020)])
    with ix.writer() as w:  # a later harvest of another member joins the cluster
        w.add([rec("ctu-1", "Thư viện số", doi="DOI:10.5555/X", institution="Đại học Cần Thơ",
                   year=2020, creators=["Lê An"]),
               rec("hn-1", "THƯ VIỆN SỐ", institution="Đại học Quốc gia Hà Nội", year=2020,
                   creators=["Le An"])])  # no DOI: joins via title + year + first author
    res = ix.search("thu vien")
    assert res.total == 2
    hit = next(h for h in res.hits if "hue-1" in h.member_ids)
    assert sorted(hit.member_ids) == ["ctu-1", "hn-1", "hue-1"]
    assert sorted(hit.institutions) == ["Đại học Cần Thơ", "Đại học Huế",
                                        "Đại học Quốc gia Hà Nội"]
    inst = {f.value: f.count for f in res.facets["institution"]}
    assert inst == {"Đại học Huế": 2, "Đại học Cần Thơ": 1, "Đại học Quốc gia Hà Nội": 1}
    assert {f.value: f.count for f in res.facets["type"]} == {"other": 2}  # works, not copies
    # Filtering by a member still returns the work, listing all holders.
    res = ix.search("thu vien so", filters={"institution": ["Đại học Cần Thơ"]})
    assert ids(res) == ["ctu-1"] and len(res.hits[0].institutions) == 3


def test_deleting_the_bridge_splits_the_cluster(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Công nghệ sinh học", doi="10.9999/q", year=2019),
               rec("b", "Công nghệ sinh học", doi="10.9999/q", year=2019, creators=["Vũ Hà"]),
               rec("c", "Công nghệ sinh học", year=2019, creators=["Vu Ha"])])
    assert ix.search("cong nghe sinh hoc").total == 1
    with ix.writer() as w:
        w.delete(["b"])  # b linked a (DOI) and c (title+year+author)
    res = ix.search("cong nghe sinh hoc")
    assert res.total == 2
    assert sorted(len(h.member_ids) for h in res.hits) == [1, 1]


def test_changing_a_record_moves_it_out_of_its_cluster(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Hóa học", doi="10.9999/z"), rec("b", "Hóa học", doi="10.9999/z")])
    assert ix.search("hoa hoc").total == 1
    with ix.writer() as w:
        w.add([rec("b", "Hóa học", doi="10.9999/other")])
    assert ix.search("hoa hoc").total == 2
