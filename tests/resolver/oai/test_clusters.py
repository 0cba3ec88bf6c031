"""One OAI item per work: clusters of duplicates fold into their lowest record id."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import insert, select

from harvesters.sinks import MemorySink
from index.record import Record
from resolver import db
from resolver.oai.feed import OaiFeedSink, content_hash, set_specs, sync
from resolver.oai.models import OaiItem, OaiItemSet
from resolver.registry.models import Institution, Repository
from tests.support.oai import NS, T0, error_codes, make_record, oai_get

OAI = "oai:lienhop.vn:"


def items(sessions) -> dict[str, tuple[dt.datetime, bool]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return {r.record_id: (r.datestamp, r.deleted) for r in s.scalars(select(OaiItem))}


def add_agu(sessions) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        s.add(Institution(code="agu", name_vi="Đại học An Giang", name_en="An Giang University",
                          repositories=[Repository(code="agu-dspace",
                                                   oai_url="http://agu.edu.vn/oai")]))


def tick() -> None:
    time.sleep(1.05)  # datestamps have seconds granularity: make each change visible


def record(c, rid: str, prefix: str = "oai_dc"):  # type: ignore[no-untyped-def]
    doc = oai_get(c, verb="GetRecord", metadataPrefix=prefix, identifier=OAI + rid)
    return doc.find("o:GetRecord/o:record", NS)


def header_sets(rec) -> set[str]:  # type: ignore[no-untyped-def]
    return {s.text for s in rec.findall("o:header/o:setSpec", NS)}


def live_ids(c, **params: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Every non-deleted identifier of a ListIdentifiers walk."""
    out: set[str] = set()
    doc = oai_get(c, verb="ListIdentifiers", metadataPrefix="oai_dc", **params)
    while True:
        out |= {h.findtext("o:identifier", namespaces=NS)
                for h in doc.iter(f"{{{NS['o']}}}header") if h.get("status") != "deleted"}
        tok = doc.find(".//o:resumptionToken", NS)
        if tok is None or not tok.text:
            return out
        doc = oai_get(c, verb="ListIdentifiers", resumptionToken=tok.text)


def test_duplicates_fold_into_one_item_and_representatives_move(oai_app, live):
    sessions = oai_app.extensions["lienhop.sessions"]
    add_agu(sessions)
    sink = OaiFeedSink(MemorySink(), sessions)
    c = oai_app.test_client()
    unrelated = items(sessions)

    sink.add([make_record(30)])  # hue-dspace-000030 alone: its own item
    sink.commit()
    assert not items(sessions)["hue-dspace-000030"][1]

    # the same DOI harvested from ctu: ctu-dspace-000030 (lower id) now represents both
    tick()
    sink.add([make_record(30, inst="ctu")])
    sink.commit()
    state = items(sessions)
    assert state["hue-dspace-000030"][1] is True  # stopped representing: persistent deletion
    assert not state["ctu-dspace-000030"][1]
    rec = record(c, "ctu-dspace-000030")
    assert {"inst:ctu", "inst:hue"} <= header_sets(rec)
    idents = [e.text for e in rec.iterfind(".//dc:identifier", NS)]
    assert "https://ctu.edu.vn/handle/123456789/30" in idents
    assert "https://hue.edu.vn/handle/123456789/30" in idents
    assert idents.count("https://doi.org/10.1234/x30") == 1
    assert record(c, "hue-dspace-000030").find("o:header", NS).get("status") == "deleted"
    assert OAI + "ctu-dspace-000030" in live_ids(c, set="inst:hue")

    # a third copy with a lower id: the old representative is deleted, the new lists all three
    tick()
    sink.add([make_record(30, inst="agu")])
    sink.commit()
    state = items(sessions)
    assert state["ctu-dspace-000030"][1] is True and not state["agu-dspace-000030"][1]
    rec = record(c, "agu-dspace-000030", "mods")
    assert {"inst:agu", "inst:ctu", "inst:hue"} <= header_sets(rec)
    urls = {u.text for u in rec.iterfind(".//m:location/m:url", NS)}
    assert urls == {f"https://{i}.edu.vn/handle/123456789/30" for i in ("agu", "ctu", "hue")}
    assert [i.text for i in rec.iterfind(".//m:identifier[@type='doi']", NS)] == [
        "10.1234/x30"]
    origins = rec.findall("o:about/p:provenance/p:originDescription", NS)
    assert {o.findtext("p:identifier", namespaces=NS) for o in origins} == {
        f"oai:{i}.edu.vn:123456789/30" for i in ("agu", "ctu", "hue")}
    assert {o.findtext("p:baseURL", namespaces=NS) for o in origins} == {
        f"http://{i}.edu.vn/oai" for i in ("agu", "ctu", "hue")}

    # an unchanged re-delivery of any member moves nothing
    before = items(sessions)
    sink.add([make_record(30, inst="hue"), make_record(30, inst="agu")])
    sink.commit()
    assert items(sessions) == before

    # a member edited: the cluster's content changed, so its item gets a new datestamp
    tick()
    edited = make_record(30, inst="hue")
    edited.urls.append("https://hue.edu.vn/bitstream/30.pdf")
    sink.add([edited])
    sink.commit()
    assert items(sessions)["agu-dspace-000030"][0] > before["agu-dspace-000030"][0]

    # the representative's source record deleted: the next lowest id represents the rest
    tick()
    sink.delete(["agu-dspace-000030"])
    sink.commit()
    state = items(sessions)
    assert state["agu-dspace-000030"][1] is True
    assert not state["ctu-dspace-000030"][1] and state["ctu-dspace-000030"][0] > before[
        "agu-dspace-000030"][0]
    rec = record(c, "ctu-dspace-000030")
    assert header_sets(rec) >= {"inst:ctu", "inst:hue"} and "inst:agu" not in header_sets(rec)
    assert "https://hue.edu.vn/bitstream/30.pdf" in {
        e.text for e in rec.iterfind(".//dc:identifier", NS)}

    # unrelated items were never touched
    state = items(sessions)
    assert {rid: state[rid] for rid in unrelated} == unrelated

    # a real harvester sees each work once, and hidden bookkeeping never shows as a set
    from sickle import Sickle

    works = [r for r in Sickle(live).ListRecords(metadataPrefix="oai_dc", ignore_deleted=True)
             if "https://doi.org/10.1234/x30" in r.metadata.get("identifier", [])]
    assert [r.header.identifier for r in works] == [OAI + "ctu-dspace-000030"]
    assert all(not s.startswith("#") for r in works for s in r.header.setSpecs)

    # sync from the same records agrees with what the feed built
    archive = [make_record(i) for i in range(1, 5)]
    archive += [make_record(i, inst="ctu", rtype="article", access="restricted")
                for i in (5, 6)]
    archive += [make_record(7, inst="ctu", prefix="mods"), edited, make_record(30, inst="ctu")]
    stats = sync(sessions, iter(archive))
    assert stats["changed"] == 0 and stats["deleted"] == 0, stats
    assert items(sessions) == state


def test_cluster_split_makes_each_part_an_item(oai_app):
    sessions = oai_app.extensions["lienhop.sessions"]
    sink = OaiFeedSink(MemorySink(), sessions)
    c = oai_app.test_client()
    a, b = make_record(40), make_record(40, inst="ctu")
    b.handle = "123456789/41"  # b bridges a (same DOI) and c (same handle)
    cc = make_record(41)
    sink.add([a, b, cc])
    sink.commit()
    state = items(sessions)
    assert not state["ctu-dspace-000040"][1]
    assert "hue-dspace-000040" not in state and "hue-dspace-000041" not in state
    assert live_ids(c, set="inst:hue") >= {OAI + "ctu-dspace-000040"}

    tick()
    sink.delete(["ctu-dspace-000040"])  # the bridge gone: two works again
    sink.commit()
    state = items(sessions)
    assert state["ctu-dspace-000040"][1] is True
    assert not state["hue-dspace-000040"][1] and not state["hue-dspace-000041"][1]
    for rid in ("hue-dspace-000040", "hue-dspace-000041"):
        rec = record(c, rid)
        assert header_sets(rec) >= {"inst:hue"} and "inst:ctu" not in header_sets(rec)
        assert state[rid][0] > T0


def test_sync_folds_items_written_one_per_record(oai_app):
    """Upgrade path: duplicates exposed one per record before folding; sync folds them."""
    sessions = oai_app.extensions["lienhop.sessions"]
    dup = make_record(2, inst="ctu")  # same work as hue-dspace-000002
    with db.transaction(sessions) as s:  # the pre-folding shape: plain record, public sets
        s.execute(insert(OaiItem), [dict(record_id=dup.id, datestamp=T0, deleted=False,
                                         record=dup.to_dict(), content_hash=content_hash(dup),
                                         source_prefix="oai_dc")])
        s.execute(insert(OaiItemSet), [dict(record_id=dup.id, spec=sp)
                                       for sp in set_specs(dup)])
    recs: list[Record] = [make_record(i) for i in range(1, 5)]
    recs += [make_record(i, inst="ctu", rtype="article", access="restricted") for i in (5, 6)]
    recs += [make_record(7, inst="ctu", prefix="mods"), dup]
    stats = sync(sessions, recs)
    state = items(sessions)
    # ctu-dspace-000002 now holds both copies (changed); hue-dspace-000002 is retired
    assert stats == {"records": 8, "changed": 1, "unchanged": 6, "deleted": 1}
    assert state["hue-dspace-000002"][1] is True and not state[dup.id][1]
    c = oai_app.test_client()
    assert {"inst:ctu", "inst:hue"} <= header_sets(record(c, dup.id))
    assert error_codes(oai_get(c, verb="ListIdentifiers", metadataPrefix="oai_dc",
                               set="#m:x")) == ["badArgument"]
    assert sync(sessions, recs)["changed"] == 0 and items(sessions) == state
