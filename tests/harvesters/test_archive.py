"""The raw archive: upsert, deletion marks, reconciliation queries, offline rebuild."""

from __future__ import annotations

from lxml import etree

from harvesters.archive import RawArchive
from harvesters.crosswalk import Header, crosswalk
from harvesters.page import parse_page


def _header(n: int, stamp: str = "2024-05-01T00:00:00Z", deleted: bool = False) -> Header:
    return Header(f"oai:dlib.hueuni.edu.vn:123456789/{n}", stamp, ("com_1", "com_1:col_2"),
                  deleted)


def test_put_is_an_upsert_and_compresses(tmp_path):
    archive = RawArchive(tmp_path)
    xml = ("<record><title>" + "Luận văn thạc sĩ Đại học Huế " * 50 + "</title></record>").encode()
    with archive.open("hue-dspace") as repo:
        assert repo.put(_header(1), "oai_dc", xml, run_id="r1") is True
        assert repo.put(_header(1, "2024-05-02T00:00:00Z"), "oai_dc", xml, run_id="r1") is False
        repo.commit()
        header, prefix, back = repo.get(_header(1).identifier)
        (stored,) = repo.conn.execute("SELECT length(xml) FROM records").fetchone()
    assert stored < len(xml) / 10  # zlib-compressed
    assert back == xml and prefix == "oai_dc"
    assert header == _header(1, "2024-05-02T00:00:00Z")
    assert archive.repositories() == ["hue-dspace"]


def test_mark_deleted_and_reappear(tmp_path):
    archive = RawArchive(tmp_path)
    with archive.open("r") as repo:
        repo.put(_header(1), "oai_dc", b"<a/>")
        assert repo.mark_deleted(_header(1).identifier, "2024-06-01T00:00:00Z") is True
        assert repo.mark_deleted(_header(1).identifier) is False  # already deleted
        assert repo.mark_deleted("oai:never:seen") is False
        assert repo.count() == 0 and repo.count(include_deleted=True) == 2
        header, _, xml = repo.get(_header(1).identifier)
        assert header.deleted and header.datestamp == "2024-06-01T00:00:00Z" and xml == b"<a/>"
        assert repo.put(_header(1, "2024-07-01T00:00:00Z"), "oai_dc", b"<b/>") is True
        repo.commit()


def test_unseen_lists_live_records_a_run_did_not_touch(tmp_path):
    with RawArchive(tmp_path).open("r") as repo:
        for n in range(5):
            repo.put(_header(n), "oai_dc", b"<a/>", run_id="old")
        repo.put(_header(0), "oai_dc", b"<a/>", run_id="new")
        repo.mark_seen([_header(1).identifier], "new")
        repo.mark_deleted(_header(4).identifier, run_id="old")
        repo.commit()
        assert repo.unseen("new") == [_header(2).identifier, _header(3).identifier]


def test_rebuild_without_network(tmp_path):
    page = parse_page(_listrecords())
    archive = RawArchive(tmp_path)
    with archive.open("hue") as repo:
        for rec in page.records:
            repo.put(rec.header, "oai_dc", rec.xml(), run_id="r")
        repo.commit()
    rebuilt = []
    for header, prefix, xml in archive.iter_records("hue"):
        record_el = etree.fromstring(xml)
        metadata = next(iter(record_el.find("{http://www.openarchives.org/OAI/2.0/}metadata")))
        rebuilt.append(crosswalk(prefix, metadata, header, repository="hue", institution="HU"))
    assert sorted(r.title for r in rebuilt) == sorted(
        r.metadata.findtext("{http://purl.org/dc/elements/1.1/}title") for r in page.records)
    assert rebuilt[0].sets == ["com_123456789_1"]
    assert list(archive.iter_records("missing")) == []


def _listrecords() -> bytes:
    from pathlib import Path

    return (Path(__file__).resolve().parents[1] / "fixtures/oai/listrecords.xml").read_bytes()
