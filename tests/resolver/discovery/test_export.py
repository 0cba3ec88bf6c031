"""resolver.discovery.citations: pure citation formats of a Record."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from markupsafe import Markup

from index import Record
from resolver.discovery import citations as export
from tests.support.sample import BOOK, EVIL, FLOOD_HUE, THESIS


@pytest.mark.parametrize(("name", "expected"), [
    ("Nguyễn Văn An", ("Nguyễn", "Văn An")),
    ("Tran, Thi Lan", ("Tran", "Thi Lan")),
    ("Trần Đắc Hiến", ("Trần", "Đắc Hiến")),
    ("John A. Smith", ("Smith", "John A.")),
    ("UNESCO", ("UNESCO", "")),
    ("  Lê   Thị  Hồng ", ("Lê", "Thị Hồng")),
])
def test_split_name(name, expected):
    assert export.split_name(name) == expected


def test_apa_name_initials_keep_vietnamese_letters():
    assert export.apa_name("Đặng Ước Đạt") == "Đặng, Ư. Đ."
    assert export.apa_name("Smith, Jean-Paul") == "Smith, J. P."


def test_apa_thesis_and_book():
    assert str(export.apa(THESIS)) == (
        "Nguyễn, T. T. H. (2023). <i>Nghiên cứu xây dựng thư viện số tại Trường Đại học Khoa "
        "học</i> [Master&#39;s thesis]. Trường Đại học Khoa học, Đại học Huế. "
        "https://hdl.handle.net/123456789/101")
    assert str(export.apa(BOOK)) == (
        "Trần, Đ. H. (2024). <i>Liên hợp thư viện Việt Nam về nguồn tin khoa học và công "
        "nghệ</i>. Khoa học và Kỹ thuật.")


def test_apa_without_authors_puts_the_date_after_the_title():
    rec = Record(id="x", oai_identifier="o", repository="r", institution="i",
                 titles=["Niên giám thống kê"], type="book")
    assert str(export.apa(rec)) == "<i>Niên giám thống kê</i>. (n.d.)."


def test_apa_escapes_hostile_text():
    out = export.apa(EVIL)
    assert isinstance(out, Markup)
    assert "<script>" not in out and "<img" not in out and "&lt;script&gt;" in out


def test_ris():
    ris = export.to_ris(FLOOD_HUE)
    lines = ris.split("\r\n")
    assert lines[0] == "TY  - JOUR" and lines[-2] == "ER  - " and lines[-1] == ""
    assert "AU  - Trần Đức Minh" in lines and "AU  - Nguyễn Văn An" in lines
    assert {"SP  - 5", "EP  - 18", "VL  - 131", "IS  - 1D", "SN  - 1859-1388"} <= set(lines)
    assert export.to_ris(BOOK).startswith("TY  - BOOK\r\n")


def test_ris_value_with_a_newline_cannot_forge_a_tag():
    rec = Record(id="x", oai_identifier="o", repository="r", institution="i",
                 titles=["Line one\r\nER  - \r\nTY  - JOUR"])
    tags = [line[:2] for line in export.to_ris(rec).split("\r\n") if line]
    assert tags.count("ER") == 1 and tags.count("TY") == 1


def test_bibtex_escapes_specials_and_keeps_unicode():
    rec = Record(id="hue-dspace-abc123456789", oai_identifier="o", repository="r",
                 institution="i", titles=["100% {sạch} & gọn_gàng #1"], creators=["Đỗ Văn Ánh"],
                 year=2019, type="dissertation", publisher="Đại học Huế")
    bib = export.to_bibtex(rec)
    assert bib.startswith("@phdthesis{do2019_abc123,\n")
    assert r"title = {{100\% \{sạch\} \& gọn\_gàng \#1}}" in bib
    assert "author = {Đỗ, Văn Ánh}" in bib and "school = {Đại học Huế}" in bib


def test_csl_json():
    item = export.to_csl(FLOOD_HUE)
    json.dumps(item)
    assert item["type"] == "article-journal"
    assert item["author"][0] == {"family": "Trần", "given": "Đức Minh"}
    assert item["issued"] == {"date-parts": [[2022]]} and item["language"] == "vi"
    assert item["container-title"] == FLOOD_HUE.journal and item["ISSN"] == "1859-1388"
    assert export.to_csl(THESIS)["type"] == "thesis"


def test_kev_for_an_article_a_thesis_and_a_book():
    art = parse_qs(export.to_kev(FLOOD_HUE))
    assert art["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"]
    assert art["rft.atitle"] == [FLOOD_HUE.title] and art["rft.jtitle"] == [FLOOD_HUE.journal]
    assert art["rft_id"] == [f"info:doi/{FLOOD_HUE.doi}"]
    assert art["rft.spage"] == ["5"] and art["rft.epage"] == ["18"]
    assert art["rft.aulast"] == ["Trần"] and art["rfr_id"] == [export.RFR_ID]
    thesis = parse_qs(export.to_kev(THESIS))
    assert thesis["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:dissertation"]
    assert thesis["rft.inst"] == [THESIS.publisher]
    book = parse_qs(export.to_kev(BOOK))
    assert book["rft.btitle"] == [BOOK.title] and book["rft.isbn"] == ["9780306406157"]


def test_kev_round_trips_through_the_resolver_parser():
    from resolver.openurl import parse_openurl

    c = parse_openurl(export.to_kev(FLOOD_HUE))
    assert c.doi == FLOOD_HUE.doi and c.atitle == FLOOD_HUE.title and c.year == 2022


def test_highwire_and_json_ld():
    tags = export.highwire_meta(THESIS)
    assert ("citation_dissertation_institution", THESIS.publisher) in tags
    assert ("citation_pdf_url", THESIS.fulltext_links[0]) in tags
    data = export.json_ld(BOOK, "https://x/record/1")
    assert data["@type"] == "Book" and data["sameAs"] == ["urn:isbn:9780306406157"]
    assert data["isAccessibleForFree"] is False
