"""Bidirectional-override characters in harvested text cannot spoof what a page shows:
every page drops them in display; the stored text (and the JSON API) keeps them."""

from __future__ import annotations

import re

import pytest

from index import Record
from resolver.web.security import BIDI_CONTROLS, without_bidi_controls
from tests.support.sample import add_institutions, build_index, records

SPOOF = Record(
    id="hue-dspace-spoof", oai_identifier="oai:hue:999", repository="hue-dspace",
    institution="hue", titles=["Báo cáo thực tập \u202egpj.exe"],
    creators=["Nguyễn \u2067Văn\u2069 Ánh"], subjects=["Tệp \u202dđính kèm"],
    abstract="Tóm tắt \u202atrái\u202c và \u202bphải\u202c, \u2066cô lập\u2069 \u2068đầu\u2069.",
    publisher="Nhà xuất bản \u202eKHKT", year=2021, type="report", language="vie",
    access="open", urls=["https://huespace.example.edu.vn/handle/1/999"],
)
BIDI = re.compile(f"[{BIDI_CONTROLS}]")


@pytest.fixture
def spoofed(app):  # type: ignore[no-untyped-def]
    build_index(app.config["LIENHOP"].index_dir, [*records(), SPOOF])
    add_institutions(app)
    return app.test_client()


@pytest.mark.parametrize("url", ["/search?q=bao+cao+thuc+tap", "/search?q=gpj.exe",
                                 f"/record/{SPOOF.id}", f"/record/{SPOOF.id}?lang=en",
                                 "/search?q=bao+cao+thuc+tap&lang=en"])
def test_pages_show_no_bidi_controls(spoofed, url):
    res = spoofed.get(url)
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert SPOOF.id in html
    assert not BIDI.search(html), [hex(ord(c)) for c in BIDI.findall(html)]
    assert "Báo cáo thực tập gpj.exe" in html  # the real order, diacritics untouched


def test_the_record_page_keeps_every_other_character(spoofed):
    html = spoofed.get(f"/record/{SPOOF.id}").get_data(as_text=True)
    for text in ("Nguyễn Văn Ánh", "Tệp đính kèm", "Tóm tắt trái và phải, cô lập đầu.",
                 "Nhà xuất bản KHKT"):
        assert text in html, text


def test_the_json_api_keeps_the_stored_text(spoofed):
    body = spoofed.get(f"/api/records/{SPOOF.id}").get_json()
    assert body["titles"][0] == SPOOF.titles[0]


def test_helper_leaves_other_values_alone():
    from markupsafe import Markup

    assert without_bidi_controls(None) is None and without_bidi_controls(3) == 3
    assert without_bidi_controls("Thư viện \u200esố\u200f") == "Thư viện \u200esố\u200f"
    cleaned = without_bidi_controls(Markup("<b>a\u202eb</b>"))
    assert isinstance(cleaned, Markup) and cleaned == Markup("<b>ab</b>")
