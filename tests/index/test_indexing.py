"""The write path: one-pass analysis, the lean Whoosh writer, merging, and match-key terms."""

from __future__ import annotations

import unicodedata

import pytest
from whoosh import fields
from whoosh import index as windex

from index import analysis, open_index
from index.whoosh_engine.fastwrite import writer as lean_writer
from tests.support.catalogue import rec


@pytest.mark.parametrize("text", [
    "Thư viện số trong trường đại học",
    "Nghiên cứu ở Hà. Nội dung chính | Hoà Bình-Huế 2019 Hòa1 quý",
    unicodedata.normalize("NFD", "Công trình thuỷ lợi miền Trung"),
    "Digital libraries, e-books and O’Reilly — 3D models", "", "—",
    'Teaching at Howard University: Part II. C++/CLI and .NET (tái bản) "Tây Tiến"? | x',
])
def test_index_forms_equal_the_three_analyses(text):
    assert analysis.index_forms(text) == (analysis.marked_exact_tokens(text),
                                          analysis.fold_tokens(text),
                                          analysis.fold_bigrams(text))


def _dump(path) -> dict:
    """Every field's terms with their (docnum, weight, value) postings and field lengths."""
    with windex.open_dir(str(path)).reader() as r:
        out: dict = {}
        for fieldname, term in r.all_terms():
            m = r.postings(fieldname, term)
            postings = []
            while m.is_active():
                postings.append((m.id(), m.weight(), m.value()))
                m.next()
            out[(fieldname, term)] = postings
        for name in r.indexed_field_names():
            out[("len", name)] = [r.doc_field_length(d, name) for d in range(r.doc_count_all())]
        return out


def test_lean_writer_writes_what_whoosh_writes(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), t=fields.TEXT(),
                           k=fields.KEYWORD(scorable=False))
    docs = [dict(id=str(i), t=" ".join(f"w{(i * j) % 37}" for j in range(i % 50 + 1)),
                 k=f"a{i % 3} b{i % 5}") for i in range(400)]
    paths = []
    for name, make in (("stock", lambda ix: ix.writer()), ("lean", lean_writer)):
        path = tmp_path / name
        path.mkdir()
        ix = windex.create_in(str(path), schema)
        w = make(ix)
        for d in docs:
            w.add_document(**d)
        w.commit()
        paths.append(path)
    assert _dump(paths[0]) == _dump(paths[1])


def test_segments_stay_few_over_many_commits(tmp_path):
    ix = open_index(tmp_path / "ix")
    for i in range(40):
        with ix.writer() as w:
            w.add([rec(f"r{i}-{j}", f"Bản ghi số {i} {j}") for j in range(3)])
    snap = ix._snapshot()
    assert ix.count() == 120
    assert len(snap.searcher.leaf_searchers()) <= 12  # not one per commit
    assert ix.search('"bản ghi"', size=200).total == 120


def test_cluster_mates_in_later_commits_do_not_chain_unrelated_records(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add([rec("a", "Thư viện số", year=2021, creators=["Nguyễn Văn Nam"], doi="10.1000/a"),
               rec("b", "Thư viện điện tử", year=2020, creators=["Trần Văn Bình"]),
               rec("c", "Viện sử học", year=2021, creators=["Lê Văn Nam"])])
    with ix.writer() as w:  # a copy of "a" arrives in a later harvest
        w.add([rec("a-copy", "Thư viện số", year=2021, creators=["Nguyễn Văn Nam"],
                   doi="https://doi.org/10.1000/A", institution="Đại học Cần Thơ")])
    res = ix.search("", size=50)
    # Three works: the copy joins "a"; shared title/name words ("viện", "Văn") join nothing.
    assert res.total == 3
    assert sorted(sorted(h.member_ids) for h in res.hits) == [["a", "a-copy"], ["b"], ["c"]]
