"""Crosswalks through the public API, on the hand-written fixtures in tests/fixtures/crosswalk."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from harvesters.crosswalk import SUPPORTED_PREFIXES, CrosswalkError, Header, crosswalk
from index.record import TYPES, Record, make_record_id

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crosswalk"
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def _records(name: str) -> dict[str, tuple[Header, etree._Element | None]]:
    """OAI identifier → (header, metadata payload) for every record of a fixture file."""
    root = etree.parse(str(FIXTURES / name)).getroot()
    found = {}
    for rec in root.iter(f"{OAI}record"):
        head = rec.find(f"{OAI}header")
        if head is None:  # a MARC <record> inside <metadata>
            continue
        header = Header(
            identifier=head.findtext(f"{OAI}identifier"),
            datestamp=head.findtext(f"{OAI}datestamp"),
            sets=tuple(s.text for s in head.findall(f"{OAI}setSpec")),
            deleted=head.get("status") == "deleted",
        )
        md = rec.find(f"{OAI}metadata")
        payload = next((c for c in md if isinstance(c.tag, str)), None) if md is not None else None
        found[header.identifier] = (header, payload)
    return found


def _walk(name: str, identifier: str, prefix: str) -> Record:
    header, payload = _records(name)[identifier]
    return crosswalk(prefix, payload, header, repository="hue-dspace", institution="HUE")


# --- oai_dc -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dspace_thesis() -> Record:
    return _walk("oai_dc.xml", "oai:elib.hueuni.edu.vn:123456789/4711", "oai_dc")


def test_oai_dc_header_and_ids_are_passed_through(dspace_thesis: Record) -> None:
    assert dspace_thesis.id == make_record_id("hue-dspace", "oai:elib.hueuni.edu.vn:123456789/4711")
    assert dspace_thesis.oai_identifier == "oai:elib.hueuni.edu.vn:123456789/4711"
    assert dspace_thesis.repository == "hue-dspace"
    assert dspace_thesis.institution == "HUE"
    assert dspace_thesis.datestamp == "2024-04-30T08:15:00Z"
    assert dspace_thesis.sets == ["com_123456789_1", "col_123456789_12"]
    assert dspace_thesis.metadata_prefix == "oai_dc"


def test_oai_dc_nfd_title_becomes_nfc_and_whitespace_collapsed(dspace_thesis: Record) -> None:
    assert dspace_thesis.title == "Đa dạng lưỡng cư ở Vườn quốc gia Bạch Mã, Thừa Thiên Huế"
    assert unicodedata.is_normalized("NFC", dspace_thesis.title)
    # Titles keep source order; the English one stays second.
    assert dspace_thesis.titles[1] == "Biodiversity of amphibians in Bach Ma National Park"


def test_oai_dc_thesis_fields(dspace_thesis: Record) -> None:
    r = dspace_thesis
    assert r.type == "thesis"
    assert r.language == "vie"
    assert r.creators == ["Nguyễn Thị Hoa"]
    assert r.contributors == ["Trần Văn Minh"]
    # Split on ";" and case-insensitively de-duplicated, order kept.
    assert r.subjects == ["Đa dạng sinh học", "Lưỡng cư", "Thừa Thiên Huế"]
    assert r.handle == "123456789/4711"
    assert r.access == "open"
    assert r.publisher == "Trường Đại học Khoa học, Đại học Huế"
    assert r.fulltext_links == [
        "https://elib.hueuni.edu.vn/bitstream/123456789/4711/1/LV_NguyenThiHoa.pdf"
    ]
    # The short degree note is not the abstract; the long description is.
    assert r.abstract.startswith("Luận văn khảo sát thành phần loài lưỡng cư")


def test_oai_dc_year_is_publication_not_accession(dspace_thesis: Record) -> None:
    # dc:date lists accessioned/available (2021) before issued (2020) without labels.
    assert dspace_thesis.year == 2020
    assert dspace_thesis.dates == ["2021-03-10", "2020"]


def test_oai_dc_ojs_article_with_cdata() -> None:
    r = _walk("oai_dc.xml", "oai:ojs.jos.hueuni.edu.vn:article/6123", "oai_dc")
    assert r.title == "Sinh kế của nông hộ ven biển tỉnh Quảng Trị"  # two CDATA sections joined
    assert r.creators == ["Lê, Văn Bình", "Hoàng, Thị Thu"]
    assert r.type == "article"
    assert r.doi == "10.26459/hueunijed.v130i5c.6123"
    assert r.journal == "Tạp chí Khoa học Đại học Huế: Kinh tế và Phát triển"
    assert (r.volume, r.issue, r.pages) == ("130", "5C", "45-58")
    assert r.issn == ["2588-1205", "2615-9716"]
    assert r.licence == "CC BY-SA 4.0"
    assert r.access == "open"
    assert r.rights.startswith("Bản quyền (c) 2021")
    assert r.fulltext_links == [
        "https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/6123/3021"
    ]
    assert r.urls == ["https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/6123"]
    assert r.year == 2021


def test_oai_dc_english_report_detects_language_and_identifiers() -> None:
    r = _walk("oai_dc.xml", "oai:repo.example.edu:report/77", "oai_dc")
    assert r.language == "eng"  # no dc:language: detected from the title
    assert r.type == "report"
    assert r.doi == "10.5555/abc.123"
    assert r.isbn == ["9780306406157"]
    assert r.access == "restricted"
    assert r.licence == ""


def test_oai_dc_doctoral_thesis_embargo_and_tone_variants() -> None:
    r = _walk("oai_dc.xml", "oai:elib.hueuni.edu.vn:123456789/5000", "oai_dc")
    assert r.type == "dissertation"
    assert r.language == "vie"
    assert r.handle == "123456789/5000"
    # An embargo beats the licence: not open yet.
    assert r.access == "restricted"
    assert r.licence == "CC BY 4.0"
    # Old-style "uỷ" and new-style "ủy" are different strings: both kept, nothing folded.
    assert r.subjects == ["Thuỷ lợi", "Thủy lợi"]
    assert "thuỷ lợi vùng Hoà Vang" in r.title


def test_oai_dc_without_dc_namespace_is_still_read() -> None:
    r = _walk("oai_dc.xml", "oai:koha.ctu.edu.vn:991", "oai_dc")
    assert r.title == "Kỹ thuật nuôi tôm càng xanh"
    assert r.creators == ["Dương Nhựt Long"]
    assert r.type == "book"
    assert r.year == 2015


def test_deleted_record_raises() -> None:
    header, payload = _records("oai_dc.xml")["oai:elib.hueuni.edu.vn:123456789/13"]
    assert header.deleted and payload is None
    with pytest.raises(CrosswalkError):
        crosswalk("oai_dc", payload, header, repository="r", institution="i")


def test_missing_metadata_raises() -> None:
    with pytest.raises(CrosswalkError):
        crosswalk("oai_dc", None, Header("oai:x:1", "2024-01-01"), repository="r", institution="i")


def test_empty_metadata_raises() -> None:
    empty = etree.fromstring(
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>  </dc:title></oai_dc:dc>'
    )
    with pytest.raises(CrosswalkError):
        crosswalk("oai_dc", empty, Header("oai:x:1", "d"), repository="r", institution="i")


def test_unsupported_format_raises() -> None:
    arxiv = etree.fromstring('<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><title>T</title></arXiv>')
    with pytest.raises(CrosswalkError, match="unsupported"):
        crosswalk("arXiv", arxiv, Header("oai:x:1", "d"), repository="r", institution="i")


# --- marcxml ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def koha_book() -> Record:
    return _walk("marcxml.xml", "oai:koha.hueuni.edu.vn:12345", "marc21")


def test_marc_book_title_and_people(koha_book: Record) -> None:
    r = koha_book
    assert r.titles == [
        "Giáo trình kinh tế học vi mô : dùng cho sinh viên khối kinh tế",
        "Kinh tế học vi mô",
    ]
    assert r.creators == ["Phạm, Văn Đức", "Ngô, Minh Châu"]
    assert r.contributors == ["Trần, Thị Lan"]  # 700 $e "biên tập" = editor


def test_marc_book_fields(koha_book: Record) -> None:
    r = koha_book
    assert r.type == "book"
    assert r.isbn == ["9786049130885"]  # ISBN-10 with hyphens → ISBN-13
    assert r.publisher == "Nxb. Đại học Huế"
    assert r.year == 2020
    assert r.language == "vie"
    assert r.subjects == ["Kinh tế học vi mô -- Giáo trình", "Kinh tế học"]
    assert r.abstract.startswith("Giáo trình trình bày các khái niệm")
    assert r.fulltext_links == ["https://lib.hueuni.edu.vn/files/gt-ktvm"]  # 856 $y Toàn văn
    assert r.metadata_prefix == "marc21"


def test_marc_thesis_from_502_with_doi_and_advisor() -> None:
    r = _walk("marcxml.xml", "oai:koha.hueuni.edu.vn:22222", "marcxml")
    assert r.type == "dissertation"
    assert r.doi == "10.1234/lats.2019.01"
    assert r.contributors == ["Nguyễn, Văn Hợp"]  # $4 ths
    assert r.title == "Đánh giá chất lượng nước sông Hương"
    assert r.year == 2019  # 264 _1, not the ©2018 of 264 _4
    assert r.handle == "123456789/8000"


def test_marc_article_host_item() -> None:
    r = _walk("marcxml.xml", "oai:koha.hueuni.edu.vn:33333", "marcxml")
    assert r.type == "article"
    assert r.title == "Vật liệu nano từ vỏ trấu"
    assert r.journal == "Tạp chí Khoa học và Công nghệ"
    assert (r.volume, r.issue, r.pages) == ("58", "2", "123-130")
    assert r.issn == ["0866-708X"]
    assert r.fulltext_links == ["https://vjs.ac.vn/index.php/jst/article/download/123/456"]


def test_marc_without_namespace_and_odd_prefix() -> None:
    r = _walk("marcxml.xml", "oai:library.example.org:b100", "MARC21")
    assert r.title == "The art of digital libraries : a primer. Part 2"
    assert r.language == "eng"
    assert r.isbn == ["9780306406157"]
    assert r.year == 2015
    assert r.access == "open"
    assert r.metadata_prefix == "marcxml"


def test_namespace_wins_over_declared_prefix(koha_book: Record) -> None:
    header, payload = _records("marcxml.xml")["oai:koha.hueuni.edu.vn:12345"]
    r = crosswalk("oai_dc", payload, header, repository="hue-dspace", institution="HUE")
    assert r.title == koha_book.title
    assert r.isbn == koha_book.isbn


# --- mods ---------------------------------------------------------------------------------------


def test_mods_thesis() -> None:
    r = _walk("mods.xml", "oai:huaf.edu.vn:thesis/55", "mods")
    assert r.titles == [
        "Ứng dụng GIS trong quản lý đất đai: nghiên cứu tại huyện Phú Vang",
        "Application of GIS in land management",
    ]
    assert r.creators == ["Hoàng, Minh Tuấn"]
    assert r.contributors == ["Lê Văn Thăng"]
    assert r.type == "thesis"
    assert r.year == 2018  # keyDate dateIssued, not dateCreated
    assert r.language == "vie"
    assert r.handle == "123456789/999"
    assert r.subjects == ["GIS -- Thừa Thiên Huế"]
    assert r.fulltext_links == ["https://elib.hueuni.edu.vn/files/999/luanvan"]
    assert r.licence == "CC BY 4.0"
    assert r.access == "open"
    assert r.journal == ""  # a host without enumeration is a collection, not a journal


def test_mods_article_with_host_part() -> None:
    r = _walk("mods.xml", "oai:repo.example.edu:article/9", "mods")
    assert r.title == "The hydrology of the Perfume River"
    assert r.type == "article"
    assert r.doi == "10.1016/j.jhydrol.2019.01.002"
    assert r.journal == "Journal of Hydrology"
    assert (r.volume, r.issue, r.pages) == ("570", "3", "12-25")
    assert r.issn == ["0022-1694"]
    assert r.language == "eng"


# --- dim ----------------------------------------------------------------------------------------


def test_dim_thesis() -> None:
    r = _walk("dim.xml", "oai:elib.hueuni.edu.vn:123456789/6001", "dim")
    assert r.titles == [
        "Quản lý hoạt động tự học của sinh viên Trường Đại học Sư phạm",
        "Managing students' self-study",
    ]
    assert r.creators == ["Nguyễn Thị Hoa"]
    assert r.contributors == ["PGS.TS. Trần Văn Minh"]
    assert r.year == 2021
    assert r.dates == ["2021-12"]  # accessioned/available are repository events
    assert r.handle == "123456789/6001"
    assert r.subjects == ["Quản lý giáo dục"]  # the DDC number is not a subject
    assert r.abstract.startswith("Luận văn đánh giá thực trạng")
    assert r.type == "thesis"
    assert r.language == "vie"
    assert r.access == "restricted"


def test_dim_article_identifiers_and_citation() -> None:
    r = _walk("dim.xml", "oai:elib.hueuni.edu.vn:123456789/6002", "dim")
    assert r.doi == "10.1016/j.agwat.2019.05.003"
    assert r.issn == ["0378-3774"]
    assert r.type == "article"
    # Explicit oaire.citation.* fields win over the parsed citation string.
    assert (r.volume, r.pages) == ("217", "101-110")
    assert r.issue == "3"
    assert r.journal == "Agricultural Water Management"
    assert r.licence == "CC BY-NC-ND 4.0"
    assert r.access == "open"
    assert r.language == "eng"


# --- xoai ---------------------------------------------------------------------------------------


def test_xoai_tree() -> None:
    r = _walk("xoai.xml", "oai:dlib.hueuni.edu.vn:123456789/7001", "xoai")
    assert r.title == "Văn hoá ẩm thực cung đình Huế thời Nguyễn"
    assert r.creators == ["Trương Công Định"]
    assert r.contributors == ["TS. Phan Thị Thu"]
    assert r.type == "dissertation"
    assert r.year == 2022
    assert r.isbn == ["9786046212348"]
    assert r.handle == "123456789/7001"
    assert r.subjects == ["Ẩm thực cung đình", "Triều Nguyễn"]
    assert r.language == "vie"
    assert r.access == "open"
    # Only the ORIGINAL bundle is full text; the thumbnail is not.
    assert r.fulltext_links == [
        "https://dlib.hueuni.edu.vn/bitstream/123456789/7001/1/LA_TruongCongDinh.pdf"
    ]


def test_xoai_without_language_level() -> None:
    xml = (
        '<metadata xmlns="http://www.lyncode.com/xoai"><element name="dc">'
        '<element name="title"><field name="value">Bản đồ số</field></element>'
        '<element name="identifier"><element name="uri">'
        '<field name="value">https://hdl.handle.net/1/2</field></element></element>'
        "</element></metadata>"
    )
    r = crosswalk("xoai", etree.fromstring(xml), Header("oai:x:2", "d"), repository="r",
                  institution="i")
    assert r.title == "Bản đồ số"
    assert r.handle == "1/2"


# --- every format -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["oai_dc.xml", "marcxml.xml", "mods.xml", "dim.xml", "xoai.xml"])
def test_every_fixture_record_is_clean(name: str) -> None:
    for header, payload in _records(name).values():
        if header.deleted:
            continue
        r = crosswalk(name.removesuffix(".xml"), payload, header, repository="r", institution="i")
        assert r.type in TYPES
        assert r.access in {"open", "restricted"}
        assert r.title
        for value in [*r.titles, *r.creators, *r.subjects, r.abstract, r.journal]:
            assert value == value.strip() and "  " not in value
            assert unicodedata.is_normalized("NFC", value)
        for list_value in (r.titles, r.creators, r.subjects, r.urls, r.isbn, r.issn):
            assert len(list_value) == len(set(list_value))


def test_supported_prefixes() -> None:
    assert {"oai_dc", "marcxml", "marc21", "mods", "dim", "xoai"} == SUPPORTED_PREFIXES
