"""`lienhop index rebuild` reads the raw archive in the index's worker processes
(harvesters/reread.py named to index.rebuild), and answers exactly as the in-process reading
(`archived_records`) did: the same index, and every archived record it cannot read logged,
counted, listed, exit code 1, the rest indexed."""

from __future__ import annotations

import functools
import logging

import pytest

import index
from harvesters.archive import RawArchive
from harvesters.crosswalk import Header
from resolver import db
from resolver.harvesting import run
from resolver.settings import load_settings

_UNKNOWN = (b'<record xmlns="http://www.openarchives.org/OAI/2.0/"><header><identifier>'
            b"oai:huespace.hueuni.edu.vn:hue/1035</identifier><datestamp>2024-01-02"
            b'</datestamp></header><metadata><unknown xmlns="urn:x"><a>b</a></unknown>'
            b"</metadata></record>")
#: identifiers between and after the harvested ones (the archive reads in identifier order)
ADDED = [
    ("oai:huespace.hueuni.edu.vn:hue/1025", b"<record><header><identifier>"),  # not XML
    ("oai:huespace.hueuni.edu.vn:hue/1035", _UNKNOWN),  # no crosswalk for its payload
    ("oai:huespace.hueuni.edu.vn:hue/1045", None),  # a good record's copy, among them
    ("oai:huespace.hueuni.edu.vn:hue/109", b"<record/>"),  # no metadata
]


def _job() -> run.JobContext:
    settings = load_settings()
    return run.JobContext(settings, db.session_factory(db.make_engine(settings.database_url)))


def _break_the_archive() -> None:
    archive = RawArchive(load_settings().archive_dir)
    _header, _prefix, good = next(archive.iter_records("hue-dspace"))
    with archive.open("hue-dspace") as a:
        for identifier, xml in ADDED:
            a.put(Header(identifier, "2024-01-02"), "oai_dc", good if xml is None else xml)
        a.commit()


def _contents(ix: index.SearchIndex) -> list[object]:
    ids = sorted(ix.iter_ids())
    return [ids, [ix.get(rid) for rid in ids], [[r.id for r in ix.cluster_of(rid)] for rid in ids],
            [sorted(h.member_ids) for h in ix.search("", size=50).hits]]


@pytest.mark.parametrize("engine", ["tantivy", "whoosh"])
def test_a_rebuild_reads_the_archive_as_before(cli, engine, tmp_path, monkeypatch, caplog):  # type: ignore[no-untyped-def]
    assert cli.invoke("harvest", "hue-dspace").exit_code == 0
    _break_the_archive()
    # What the in-process reading gives: the records, and the messages of the broken ones.
    expected_errors: list[str] = []
    records = list(run.archived_records(_job(), errors=expected_errors))
    assert len(records) == 6 and [e.split(":")[2] for e in expected_errors] == [
        "hue/1025", "hue/1035", "hue/109"]
    index.rebuild(tmp_path / "expected", records, engine=engine, procs=0)
    expected = _contents(index.open_index(tmp_path / "expected", readonly=True))

    # One record a batch: all but the first record go through a worker process (tantivy).
    monkeypatch.setattr(run, "rebuild", functools.partial(index.rebuild, batch=1))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        res = cli.invoke("index", "rebuild", "--engine", engine)
    assert res.exit_code == 1, res.output
    assert f"{load_settings().index_dir}: 6 records, 3 failed" in res.output
    listed = [line.strip() for line in res.output.splitlines() if line.startswith("    ")]
    assert listed == expected_errors
    logged = [r.getMessage() for r in caplog.records if "rebuild_record_failed" in r.getMessage()]
    assert logged == [f"event=rebuild_record_failed {m}" for m in expected_errors]
    assert index.index_engine(load_settings().index_dir) == engine
    assert _contents(index.open_index(load_settings().index_dir, readonly=True)) == expected


def test_rebuild_index_counts_records_and_failures(cli, tmp_path):  # type: ignore[no-untyped-def]
    assert cli.invoke("harvest", "hue-dspace").exit_code == 0
    _break_the_archive()
    seen: list[int] = []
    count, errors = run.rebuild_index(_job(), engine="tantivy", progress=seen.append, batch=2)
    expected_errors: list[str] = []
    assert count == len(list(run.archived_records(_job(), errors=expected_errors))) == 6
    assert errors == expected_errors and len(errors) == 3
    assert seen == [6]
    assert run.archived_count(_job()) == 9
