"""oai_item maintenance (sink wrapper, sync) and full harvests by Sickle and pyoai."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from sqlalchemy import select

from harvesters.sinks import MemorySink
from resolver import db
from resolver.oai.feed import OaiFeedSink, sync
from resolver.oai.models import OaiItem
from tests.support.oai import NS, T0, add_items, make_record, oai_get


def items(sessions):  # type: ignore[no-untyped-def]
    with sessions() as s:
        return {r.record_id: (r.datestamp, r.deleted) for r in s.scalars(select(OaiItem))}


def test_sink_wrapper_idempotent_and_tombstones(oai_app):
    sessions = oai_app.extensions["lienhop.sessions"]
    inner = MemorySink()
    sink = OaiFeedSink(inner, sessions)
    before = items(sessions)
    sink.add([make_record(1), make_record(2)])  # unchanged re-delivery
    sink.commit()
    assert items(sessions) == before  # no datestamp bumped
    sink.add([make_record(1, title="Sửa tiêu đề")])
    sink.delete(["hue-dspace-000002", "never-seen"])
    sink.commit()
    after = items(sessions)
    assert after["hue-dspace-000001"][0] > T0 and not after["hue-dspace-000001"][1]
    assert after["hue-dspace-000002"][1] is True
    assert "never-seen" not in after
    assert inner.records.keys() >= {"hue-dspace-000001"}  # the index got it too
    # the deletion persists and is served as a deleted header without metadata
    c = oai_app.test_client()
    doc = oai_get(c, verb="GetRecord", metadataPrefix="oai_dc",
                  identifier="oai:lienhop.vn:hue-dspace-000002")
    header = doc.find("o:GetRecord/o:record/o:header", NS)
    assert header.get("status") == "deleted"
    assert doc.find("o:GetRecord/o:record/o:metadata", NS) is None
    # set-selective harvesters see the deletion too
    heads = oai_get(c, verb="ListIdentifiers", metadataPrefix="oai_dc", set="inst:hue",
                    from_=after["hue-dspace-000002"][0].strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert {h.get("status") for h in heads.iter(f"{{{NS['o']}}}header")} >= {"deleted"}
    # an add after a delete in one batch restores (the last change wins)
    sink.delete(["hue-dspace-000003"])
    sink.add([make_record(3, title="khác")])
    sink.commit()
    assert items(sessions)["hue-dspace-000003"][1] is False


def test_sink_wrapper_and_index_agree_on_a_record_deleted_then_restored(oai_app):
    # Fails on the wrapper before harvesters.sinks: the index sink got the add and then the
    # delete, so oai_item listed a record that search no longer had.
    sessions = oai_app.extensions["lienhop.sessions"]
    inner = MemorySink()
    sink = OaiFeedSink(inner, sessions)
    sink.delete(["hue-dspace-000003"])
    sink.add([make_record(3, title="khác")])
    sink.commit()
    assert items(sessions)["hue-dspace-000003"][1] is False
    assert inner.records["hue-dspace-000003"].titles == ["khác"]


def test_a_failed_index_commit_never_reaches_oai_item(oai_app):
    # Fails on the wrapper before harvesters.sinks: the batch whose index commit failed stayed
    # pending and was written to oai_item with the next commit, though the index dropped it.
    class FailingOnce(MemorySink):
        failed = False

        def write(self, changes):  # type: ignore[no-untyped-def]
            if not self.failed:
                self.failed = True
                raise OSError("index locked")
            super().write(changes)

    sessions = oai_app.extensions["lienhop.sessions"]
    inner = FailingOnce()
    sink = OaiFeedSink(inner, sessions)
    sink.add([make_record(40)])
    with pytest.raises(OSError):
        sink.commit()
    sink.add([make_record(41)])
    sink.commit()
    state = items(sessions)
    assert "hue-dspace-000041" in state and "hue-dspace-000041" in inner.records
    assert "hue-dspace-000040" not in state and "hue-dspace-000040" not in inner.records


def test_sync_upserts_tombstones_and_is_idempotent(oai_app):
    sessions = oai_app.extensions["lienhop.sessions"]
    live = [make_record(i) for i in (1, 2, 3)] + [make_record(8)]
    stats = sync(sessions, live)
    assert stats["changed"] == 1 and stats["deleted"] == 4  # 8 is new; 4, 5, 6, 7 are gone
    state = items(sessions)
    assert state["hue-dspace-000004"][1] and not state["hue-dspace-000008"][1]
    assert sync(sessions, live)["changed"] == 0 and items(sessions) == state


def test_cli_sync_from_archive_after_harvest(runner, tmp_path, monkeypatch):
    """A devserver harvested into lienhop, then `oai sync` finds nothing to change."""
    from harvesters.demo_server import OAIDevServer
    from resolver.demo import FORMATS, demo_records
    from resolver.settings import load_settings

    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]}) as srv:
        reg = tmp_path / "reg.toml"
        reg.write_text(f'[[institution]]\ncode = "hue"\nname_vi = "Đại học Huế"\n'
                       f'status = "member"\n\n[[institution.repository]]\n'
                       f'code = "hue-dspace"\noai_url = "{srv.url}"\n', encoding="utf-8")
        assert runner.invoke("registry", "import", str(reg)).exit_code == 0
        assert runner.invoke("harvest", "hue-dspace").exit_code == 0
    sessions = db.session_factory(db.make_engine(load_settings().database_url))
    harvested = items(sessions)
    assert len(harvested) == len([r for r in records if not r.deleted]) > 0
    out = runner.invoke("oai", "sync")
    assert out.exit_code == 0 and "changed=0" in out.output and "deleted=0" in out.output
    assert items(sessions) == harvested


def test_list_identifiers_walk_holds_flat_memory(oai_app):
    sessions = oai_app.extensions["lienhop.sessions"]
    add_items(sessions, 20_000)
    oai_app.config["OAI_PAGE_SIZE"] = 500
    c = oai_app.test_client()

    def walk(limit: int | None) -> tuple[int, int]:
        tracemalloc.start()
        n, pages = 0, 0
        resp = c.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
        while True:
            body = resp.get_data()
            n += body.count(b"<header")
            pages += 1
            from lxml import etree
            tok = etree.fromstring(body).find(".//o:resumptionToken", NS)
            if tok is None or not tok.text or (limit and pages >= limit):
                break
            resp = c.get("/oai", query_string={"verb": "ListIdentifiers",
                                               "resumptionToken": tok.text})
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return n, peak

    _, peak_two_pages = walk(2)
    n, peak_all = walk(None)
    assert n == 20_007
    # 40 pages cost no more memory than 2: nothing accumulates across the walk
    assert peak_all < peak_two_pages * 1.5 + 512 * 1024, (peak_all, peak_two_pages)


# ------------------------------------------------------------------------------ real clients


def test_sickle_full_harvest_with_changes_between_pages(live, oai_app):
    from sickle import Sickle

    sessions = oai_app.extensions["lienhop.sessions"]
    sink = OaiFeedSink(MemorySink(), sessions)
    seen: dict[str, list[tuple[str, bool]]] = {}
    start = time.time()
    sickle = Sickle(live, max_retries=1)
    records = sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False)
    for n, rec in enumerate(records):
        seen.setdefault(rec.header.identifier, []).append((rec.header.datestamp,
                                                           rec.header.deleted))
        if not rec.header.deleted:
            rid = rec.header.identifier.rsplit(":", 1)[1]
            assert rec.metadata["title"][0].startswith("Nghiên cứu số ")
            assert "oai:lienhop.vn:" + rid == rec.header.identifier
        if n == 1:  # between page 1 and 2: one new record, one deletion of an unseen one
            time.sleep(1.1)  # a later second than every datestamp so far
            sink.add([make_record(20)])
            sink.delete(["ctu-dspace-000007"])
            sink.commit()
    assert time.time() - start < 60
    final = items(sessions)
    # every item arrives; a record appears twice only if it changed during the walk
    assert set(seen) == {f"oai:lienhop.vn:{rid}" for rid in final}
    for ident, versions in seen.items():
        rid = ident.rsplit(":", 1)[1]
        assert len(versions) == len(set(versions))  # never the same version twice
        assert versions[-1][1] == final[rid][1]  # the last copy seen is the current state
        if len(versions) > 1:
            assert rid == "ctu-dspace-000007"


def test_lienhop_harvester_full_harvest_matches_sickle(live, tmp_path):
    """lienhop's own harvester (checkpoints, token handling) walks the provider fully."""
    from sickle import Sickle

    from harvesters.runner import RepositoryConfig, harvest_repository
    from harvesters.state import JsonFileCheckpointStore

    sink = MemorySink()
    repo = RepositoryConfig(code="lienhop", institution="lienhop", oai_url=live)
    report = harvest_repository(repo, sink=sink, state=JsonFileCheckpointStore(tmp_path))
    assert report.status == "ok" and report.pages == 3
    got = {r.oai_identifier: r for r in sink.records.values()}
    assert len(got) == 7
    assert got["oai:lienhop.vn:hue-dspace-000001"].doi == "10.1234/x1"
    sickle_ids = {h.identifier for h in Sickle(live).ListIdentifiers(metadataPrefix="oai_dc")}
    assert sickle_ids == set(got)


class _EvaluatorShim:
    """lxml's XPathEvaluator with the ``evaluate`` method lxml 5 removed (pyoai calls it)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from lxml import etree

        self._evaluator = etree.XPathEvaluator(*args, **kwargs)

    def evaluate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._evaluator(*args, **kwargs)

    __call__ = evaluate


def test_pyoai_full_harvest_matches_sickle(live, monkeypatch):
    """pyoai (an independent client with its own strict parsing) harvests the provider.

    pyoai 2.5.0, the newest release, predates lxml 5; the shim only restores the method name
    it calls, so its parsing and protocol handling are its own.
    """
    oaipmh_client = pytest.importorskip("oaipmh.client")
    from lxml import etree

    if not hasattr(etree.XPathElementEvaluator, "evaluate"):
        shim = type("etree_shim", (), {})()
        for name in dir(etree):
            if not name.startswith("__"):
                setattr(shim, name, getattr(etree, name))
        shim.XPathEvaluator = _EvaluatorShim
        monkeypatch.setattr(oaipmh_client, "etree", shim)
        monkeypatch.setattr(pytest.importorskip("oaipmh.metadata"), "etree", shim)
    from oaipmh.client import Client
    from oaipmh.metadata import MetadataRegistry, oai_dc_reader
    from sickle import Sickle

    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    client = Client(live, registry)
    ident = client.identify()
    assert ident.deletedRecord() == "persistent" and ident.protocolVersion() == "2.0"
    got = {h.identifier(): md.getField("title") for h, md, _ in
           client.listRecords(metadataPrefix="oai_dc")}
    assert len(got) == 7 and all(t and t[0].startswith("Nghiên cứu số") for t in got.values())
    sets = {s[0] for s in client.listSets()}
    assert {"inst:hue", "type:thesis", "open"} <= sets
    heads = [h.identifier() for h in client.listIdentifiers(metadataPrefix="oai_dc",
                                                           set="inst:hue")]
    assert len(heads) == 4
    from oaipmh.error import CannotDisseminateFormatError

    with pytest.raises(CannotDisseminateFormatError):
        list(client.listRecords(metadataPrefix="marc21"))
    sickle_ids = {h.identifier for h in Sickle(live).ListIdentifiers(metadataPrefix="oai_dc")}
    assert sickle_ids == set(got)
