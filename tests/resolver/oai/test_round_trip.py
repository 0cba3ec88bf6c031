"""lienhop harvests its own ``/oai`` back without loss (issue 15).

Real parts end to end: three member repositories (oai_dc, MARCXML and DSpace dim, on local
OAI-PMH servers) are harvested by ``lienhop harvest`` into the app's index and OAI feed; the
app's ``/oai`` is served on 127.0.0.1; lienhop's own harvester (the runner, into a real
index) harvests it in ``oai_dc`` and in ``mods``. Every field of every record must come
back as the original has it: Vietnamese text written NFC or NFD at the source, records with
several ISBNs, none or only a year, journal parts, rights, links; a record deleted at the
source disappears from the second index too.

Fails before issue 15: every dc:date was served, so the harvester took the earliest year
(2020 for a book of 2024, the 008 field's year); the licence and the access term came back
inside the rights text; the handle came back as an extra link; dc:source "Journal, 3, 2,
1-9" came back as the journal's name without volume or issue; an OJS galley was lost; in
MODS, contributors came back as creators, the full text as a link and the date as a year.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from werkzeug.serving import make_server

from harvesters.demo_server import DevRecord, OAIDevServer
from harvesters.runner import RepositoryConfig, RunReport, harvest_repository
from harvesters.sinks import WriterSink
from harvesters.state import JsonFileCheckpointStore
from index import Record, open_index
from resolver import create_app
from resolver.settings import load_settings

DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
      ' xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>')
MARC = '<marc:record xmlns:marc="http://www.loc.gov/MARC21/slim">{}</marc:record>'
DIM = '<dim:dim xmlns:dim="http://www.dspace.org/xmlns/dspace/dim">{}</dim:dim>'
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
               "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "marcxml": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
                "http://www.loc.gov/MARC21/slim"),
    "dim": ("http://www.dspace.org/schema/dim.xsd", "http://www.dspace.org/xmlns/dspace/dim"),
}
#: every field a record carries of its work (the rest say where and when it was harvested)
WORK_FIELDS = ("titles", "creators", "contributors", "subjects", "abstract", "publisher",
               "year", "type", "language", "doi", "isbn", "issn", "handle", "urls", "journal",
               "volume", "issue", "pages", "rights", "licence", "access", "fulltext_links")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def dc(**values: list[str]) -> str:
    return DC.format("".join(f"<dc:{name}>{escape(v)}</dc:{name}>"
                             for name, vs in values.items() for v in vs))


def marc(leader: str, fields: list[tuple[str, list[tuple[str, str]]]]) -> str:
    body = f"<marc:leader>{leader}</marc:leader>"
    for tag, subs in fields:
        if tag < "010":
            body += f'<marc:controlfield tag="{tag}">{escape(subs[0][1])}</marc:controlfield>'
            continue
        body += f'<marc:datafield tag="{tag}" ind1=" " ind2=" ">' + "".join(
            f'<marc:subfield code="{c}">{escape(v)}</marc:subfield>' for c, v in subs
        ) + "</marc:datafield>"
    return MARC.format(body)


def dim(fields: list[tuple[str, str | None, str]]) -> str:
    return DIM.format("".join(
        f'<dim:field mdschema="dc" element="{e}"'
        + (f' qualifier="{q}"' if q else "") + f">{escape(v)}</dim:field>"
        for e, q, v in fields))


def hue_records() -> list[DevRecord]:
    """A DSpace repository serving oai_dc."""
    stamp = "2024-03-01T0{}:00:00Z"
    nfd_title = nfd("Đánh giá chất lượng nước sông Hương đoạn chảy qua thành phố Huế")
    return [
        DevRecord("oai:hue:1", stamp.format(1), {"oai_dc": dc(
            title=["Nghiên cứu xây dựng thư viện số tại Trường Đại học Khoa học",
                   "Building a digital library at the University of Sciences"],
            creator=["Nguyễn Thị Thu Hà", "Lê Văn Minh"],
            contributor=["Trần Văn Hòa (người hướng dẫn)"],
            subject=["Thư viện số; DSpace", "Tài liệu nội sinh"],
            description=["Luận văn trình bày quá trình xây dựng thư viện số bằng phần mềm "
                         "DSpace, từ khảo sát nhu cầu đến vận hành kho tài liệu nội sinh & "
                         "<các> dịch vụ."],
            publisher=["Trường Đại học Khoa học, Đại học Huế"],
            # issued, then accessioned and available: the earliest year is the publication's
            date=["2019-05-03", "2020-01-15T08:00:00Z", "2020-01-15T08:00:00Z"],
            type=["Luận văn thạc sĩ"],
            identifier=["http://hdl.handle.net/123456789/101",
                        "https://huespace.example.edu.vn/bitstream/123456789/101/1/lv.pdf"],
            language=["vi"],
            rights=["Open Access", "http://creativecommons.org/licenses/by/4.0/"],
        )}),
        DevRecord("oai:hue:2", stamp.format(2), {"oai_dc": dc(
            title=[nfd_title],
            creator=[nfd("Trần Đức Minh"), nfd("Nguyễn Văn Ân")],
            subject=[nfd("Chất lượng nước"), nfd("Sông Hương")],
            description=[nfd("Bài báo đánh giá chất lượng nước sông Hương qua các chỉ số "
                             "hóa lý và sinh học trong mùa khô và mùa mưa năm 2021.")],
            date=["2022-06-30"],
            type=["info:eu-repo/semantics/article"],
            identifier=["https://doi.org/10.26459/HUEUNI-JNS.V131I1D.6543",
                        "https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/6543"],
            source=[nfd("Tạp chí Khoa học Đại học Huế: Khoa học Tự nhiên; Tập 131, Số 1D "
                        "(2022); 5-18"), "1859-1388"],
            relation=["https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/download/6543/3210"],
            language=["vie"],
            rights=[nfd("Bản quyền thuộc về tác giả"), "info:eu-repo/semantics/restrictedAccess",
                    "CC BY 4.0"],
        )}),
        DevRecord("oai:hue:3", stamp.format(3), {"oai_dc": dc(
            title=["Giáo trình hóa học đại cương"],
            creator=["Phạm Thu Hương"],
            subject=["Hóa học"],
            publisher=["Nhà xuất bản Đại học Huế"],
            type=["Sách"],
            identifier=["ISBN 978-604-67-1234-3", "urn:isbn:0-306-40615-2",
                        "9786049130885"],
            language=["vie"],
        )}),
        DevRecord("oai:hue:4", stamp.format(4), {"oai_dc": dc(
            title=["Annual report on flood forecasting in Central Vietnam"],
            creator=["Hoang, Duc Huy"],
            subject=["Flood forecasting", "Hydrology"],
            description=["Short note."],
            date=["2015"],
            type=["Report"],
            identifier=["https://huespace.example.edu.vn/handle/123456789/404"],
            language=["en"],
            rights=["CC BY-NC 4.0"],
        )}),
        DevRecord("oai:hue:5", stamp.format(5), deleted=True),
        DevRecord("oai:hue:6", stamp.format(6), {"oai_dc": dc(
            title=["Bản ghi sẽ bị xóa ở nguồn"],
            creator=["Võ Thị Mỹ Dung"],
            date=["2023-01-01"],
            type=["Bài báo hội nghị"],
            identifier=["http://hdl.handle.net/123456789/606"],
        )}),
    ]


def nasati_records() -> list[DevRecord]:
    """A Koha catalogue serving MARCXML."""
    return [
        DevRecord("oai:koha:4001", "2024-01-10T01:00:00Z", {"marcxml": marc(
            "00000nam a2200000 a 4500", [
                ("001", [("", "4001")]),
                ("008", [("", "200315s2020    vm a          000 0 vie d")]),
                ("020", [("a", "978-604-67-9999-3 (bìa mềm)")]),
                ("020", [("a", "0-8044-2957-X")]),
                ("041", [("a", "vie")]),
                ("100", [("a", "Trần Đắc Hiến")]),
                ("245", [("a", "Liên hợp thư viện Việt Nam về nguồn tin khoa học và công "
                               "nghệ :"), ("b", "20 năm hình thành và phát triển")]),
                # published 2024; the 008 says 2020 (when the record was made)
                ("260", [("a", "Hà Nội :"), ("b", "Khoa học và Kỹ thuật,"), ("c", "2024")]),
                ("520", [("a", "Sách tổng kết hoạt động phối hợp bổ sung nguồn tin điện tử.")]),
                ("650", [("a", "Liên hợp thư viện")]),
                ("700", [("a", "Đào Mạnh Thắng"), ("e", "biên tập")]),
            ])}),
        DevRecord("oai:koha:4003", "2024-01-12T01:00:00Z", {"marcxml": marc(
            "00000nab a2200000 a 4500", [
                ("001", [("", "4003")]),
                ("008", [("", "210601s2021    vm a          000 0 vie d")]),
                ("024", [("a", "10.35382/18594816.1.40.2021.700"), ("2", "doi")]),
                ("100", [("a", "Thạch Thị Sà Quy")]),
                ("245", [("a", "Thực trạng khai thác nguồn tin điện tử dùng chung")]),
                ("773", [("t", "Tạp chí Khoa học Trà Vinh"), ("g", "Số 40 (2021), tr. 12-20"),
                         ("x", "1859-4816")]),
                ("856", [("u", "https://ojs.tvu.edu.vn/index.php/tckh/article/view/2001")]),
            ])}),
    ]


def ctu_records() -> list[DevRecord]:
    """A DSpace repository serving dim."""
    return [
        DevRecord("oai:ctu:7001", "2023-05-05T05:05:05Z", {"dim": dim([
            ("title", None, "Quản lý hoạt động tự học của sinh viên"),
            ("contributor", "author", "Nguyễn Thị Hoa"),
            ("contributor", "advisor", "PGS.TS. Trần Văn Minh"),
            ("date", "created", "2015"),
            ("date", "issued", "2021-12"),
            ("date", "accessioned", "2022-09-09T02:00:00Z"),
            ("identifier", "uri", "http://hdl.handle.net/123456789/7001"),
            ("identifier", "isbn", "978-604-12-3456-7"),
            ("identifier", "isbn", "979-10-90636-07-1"),
            ("description", "abstract", "Luận văn đánh giá thực trạng quản lý hoạt động tự "
                                        "học của sinh viên."),
            ("language", "iso", "vi"),
            ("subject", None, "Quản lý giáo dục"),
            ("type", None, "Thesis"),
            ("rights", "accessRights", "info:eu-repo/semantics/restrictedAccess"),
        ])}),
        DevRecord("oai:ctu:7002", "2023-05-06T05:05:05Z", {"dim": dim([
            ("title", None, "Rice yield response to salinity in the Mekong Delta"),
            ("contributor", "author", "Phan, Thanh Sơn"),
            ("date", "issued", "2019-05-03"),
            ("identifier", "doi", "http://dx.doi.org/10.1016/J.AGWAT.2019.05.003"),
            ("identifier", "issn", "0378-3774"),
            ("identifier", "issn", "1873-2283"),
            ("citation", "title", "Agricultural Water Management"),
            ("citation", "volume", "217"),
            ("citation", "issue", "3"),
            ("citation", "spage", "101"),
            ("citation", "epage", "110"),
            ("type", None, "info:eu-repo/semantics/article"),
            ("rights", "uri", "http://creativecommons.org/licenses/by-nc-nd/4.0/"),
            ("language", "iso", "en"),
        ])}),
    ]


SOURCES = {  # repository code: (institution, metadata prefix, records)
    "hue-dspace": ("hue", "oai_dc", hue_records),
    "nasati-koha": ("nasati", "marcxml", nasati_records),
    "ctu-dspace": ("ctu", "dim", ctu_records),
}


def registry(urls: dict[str, str]) -> str:
    out = []
    for code, (inst, prefix, _) in SOURCES.items():
        out.append(f'[[institution]]\ncode = "{inst}"\nname_vi = "Thành viên {inst}"\n'
                   f'status = "member"\n\n[[institution.repository]]\ncode = "{code}"\n'
                   f'oai_url = "{urls[code]}"\nmetadata_prefix = "{prefix}"\n')
    return "\n".join(out)


@pytest.fixture
def sources() -> Iterator[dict[str, OAIDevServer]]:
    servers = {code: OAIDevServer(make(), page_size=2, formats={prefix: FORMATS[prefix]})
               for code, (_, prefix, make) in SOURCES.items()}
    for srv in servers.values():
        srv.start()
    yield servers
    for srv in servers.values():
        srv.stop()


def serve(app) -> tuple[str, object, threading.Thread]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}/oai", server, thread


def records_of(path: Path) -> dict[str, Record]:
    ix = open_index(path, readonly=True)
    try:
        return {rid: rec for rid in ix.iter_ids() if (rec := ix.get(rid)) is not None}
    finally:
        ix.close()


def publication_date(rec: Record) -> list[str]:
    """What one dc:date carries: the date of the year the record was published."""
    if rec.year is None:
        return []
    return [next((d for d in rec.dates if d.startswith(str(rec.year))), str(rec.year))]


def assert_round_trip(originals: dict[str, Record], back: dict[str, Record],
                      prefix: str) -> None:
    by_source = {r.oai_identifier.rsplit(":", 1)[1]: r for r in back.values()}
    assert set(by_source) == set(originals), prefix
    problems = []
    for rid, orig in sorted(originals.items()):
        got = by_source[rid]
        diffs = {f: (getattr(orig, f), getattr(got, f)) for f in WORK_FIELDS
                 if getattr(orig, f) != getattr(got, f)}
        if got.dates != publication_date(orig):
            diffs["dates"] = (publication_date(orig), got.dates)
        if "inst:" + orig.institution not in got.sets:
            diffs["sets"] = (orig.institution, got.sets)
        problems += [(orig.oai_identifier, name, was, now) for name, (was, now) in diffs.items()]
    assert not problems, "\n".join(f"{prefix} {i} {n}: {w!r} -> {g!r}"
                                    for i, n, w, g in problems)


def test_lienhop_harvests_its_own_oai_without_loss(runner, sources, tmp_path):
    reg = tmp_path / "reg.toml"
    reg.write_text(registry({code: srv.url for code, srv in sources.items()}),
                   encoding="utf-8")
    assert runner.invoke("registry", "import", str(reg)).exit_code == 0
    for code in SOURCES:
        out = runner.invoke("harvest", code)
        assert out.exit_code == 0, out.output
    settings = load_settings()
    originals = records_of(settings.index_dir)
    assert len(originals) == 9  # oai:hue:5 was deleted at the source
    # what the sources wrote in NFD is NFC in lienhop, and the cases are what they say
    titles = {r.oai_identifier: r for r in originals.values()}
    assert titles["oai:hue:2"].title == unicodedata.normalize("NFC", titles["oai:hue:2"].title)
    assert len(titles["oai:hue:3"].isbn) == 3 and titles["oai:hue:3"].year is None
    assert titles["oai:hue:4"].dates == ["2015"]
    assert titles["oai:koha:4001"].year == 2024 and len(titles["oai:koha:4001"].dates) == 2

    url, server, thread = serve(create_app(settings))
    try:
        state = JsonFileCheckpointStore(tmp_path / "state")
        back_dirs = {p: tmp_path / f"back-{p}" for p in ("oai_dc", "mods")}

        def harvest_back(prefix: str, path: Path) -> RunReport:
            """lienhop's /oai harvested (incrementally) by lienhop into ``path``."""
            ix = open_index(path)
            repo = RepositoryConfig(code=f"lienhop-{prefix}", institution="lienhop",
                                    oai_url=url, metadata_prefix=prefix)
            report = harvest_repository(repo, sink=WriterSink(ix.writer), state=state)
            ix.close()
            return report

        for prefix, path in back_dirs.items():
            report = harvest_back(prefix, path)
            assert report.status == "ok" and report.failed == 0, report
            assert_round_trip(originals, records_of(path), prefix)

        # a record deleted at the source goes from lienhop, then from what harvests lienhop
        sources["hue-dspace"].delete("oai:hue:6")
        assert runner.invoke("harvest", "hue-dspace").exit_code == 0
        originals = records_of(settings.index_dir)
        assert len(originals) == 8
        for prefix, path in back_dirs.items():
            report = harvest_back(prefix, path)
            assert report.status == "ok" and report.deleted == 1, report
            assert_round_trip(originals, records_of(path), prefix)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(5)


@pytest.mark.parametrize("prefix", ["oai_dc", "mods"])
def test_what_the_provider_writes_the_crosswalk_reads_back(prefix):
    """Records no source above makes: a licence the rights text does not name, restricted
    access beside a CC licence, a year from a citation with no date, a year and nothing
    else, no year at all (pure: provider XML into the crosswalk)."""
    from lxml import etree

    from harvesters.crosswalk import Header, crosswalk
    from resolver.oai.provider import metadata_xml

    base = dict(id="x", oai_identifier="oai:x:1", repository="x", institution="x",
                titles=["Nghiên cứu"], creators=["Lê Văn A"], language="vie")
    cases = [
        Record(**base, rights="© Tác giả", licence="CC BY 4.0", access="open", year=2020,
               dates=["2020-02-02"]),
        Record(**base, rights="CC BY 4.0", licence="CC BY 4.0", access="restricted",
               year=2019, dates=["2019"]),
        Record(**base, type="article", journal="Tạp chí Khoa học", volume="12", issue="3",
               pages="1-9", year=2021),
        Record(**base, year=1999),
        Record(**base, dates=["không rõ năm"]),
    ]
    for rec in cases:
        xml = etree.fromstring(metadata_xml(rec, prefix))
        got = crosswalk(prefix, xml, Header("oai:x:1", "2025-01-01T00:00:00Z"),
                        repository="x", institution="x")
        expected = dict(rec.to_dict(), licence=rec.licence, dates=publication_date(rec))
        if rec.licence and rec.licence not in rec.rights:  # served as a rights statement
            expected["rights"] = f"{rec.rights}; {rec.licence}"
        diffs = {f: (expected[f], getattr(got, f)) for f in (*WORK_FIELDS, "dates")
                 if expected[f] != getattr(got, f)}
        assert not diffs, (prefix, rec, diffs)
