"""The record a tantivy document stores: JSON, compressed by tantivy's document store; a
generation written when each record was zlib-compressed by lienhop still reads, also once
a harvest has added records in the new form beside them (index/documents.py)."""

from __future__ import annotations

import tantivy

from index import open_index
from index.documents import pack_record
from index.generations import read_current
from index.tantivy_engine.schema import document, open_dir, prepare
from tests.support.catalogue import CATALOGUE, ids, rec


def test_records_stored_compressed_by_an_older_writer_still_read(tmp_path):
    path = tmp_path / "ix"
    ix = open_index(path, engine="tantivy")
    old = CATALOGUE[:5]
    # Written as the engine did before: the stored record zlib-compressed.
    tix = open_dir(path / read_current(path))
    w = tix.writer(50_000_000, 1)
    for r in old:
        w.add_document(document(prepare(r)._replace(rec=pack_record(r)), f"c-{r.id}"))
    w.commit()
    w.wait_merging_threads()
    with ix.writer() as session:  # a harvest adds records the new way
        session.add([rec("new", "Thư viện số và dữ liệu mở", year=2024)])
    ro = open_index(path, readonly=True)
    assert [ro.get(r.id) for r in old] == old
    assert set(ids(ro.search("thu vien so"))) == {"thuvien", "new"}
    assert ro.get("new") == rec("new", "Thư viện số và dữ liệu mở", year=2024)


def test_a_new_record_is_stored_as_json(tmp_path):
    ix = open_index(tmp_path / "ix", engine="tantivy")
    with ix.writer() as w:
        w.add(CATALOGUE[:3])
    tix = open_dir(tmp_path / "ix" / read_current(tmp_path / "ix"))
    searcher = tix.searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=3).hits
    assert all(searcher.doc(a).get_first("rec")[:1] == b"{" for _s, a in hits)
    assert sorted(ids(ix.search("", size=10))) == sorted(r.id for r in CATALOGUE[:3])
