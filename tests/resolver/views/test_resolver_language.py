"""The resolver page speaks the reader's language: its notes for library staff, the
consortium's name ("Liên hợp"), and institutions by name, never a repository code."""

from __future__ import annotations

import html

import pytest

from tests.support.sample import FLOOD_HUE

FLOOD = ("/resolve?url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal"
         f"&rft.genre=article&rft_id=info:doi/{FLOOD_HUE.doi}&rft.date=2022")
#: no ctx_ver, and a date naming two years: two notes for staff
MESSY = ("/resolve?url_ver=Z39.88-2004&rft.genre=article&rft.atitle=Ao%20nu%C3%B4i"
         "&rft.jtitle=T%E1%BA%A1p%20ch%C3%AD&rft.date=1994;%201998")


def page(web, url: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(web.get(f"{url}&lang={lang}").get_data(as_text=True))


def test_staff_notes_in_vietnamese(web):
    vi = page(web, MESSY, "vi")
    assert "thiếu ctx_ver (vẫn chấp nhận)" in vi
    assert "ngày '1994; 1998' nêu nhiều năm; dùng năm 1994" in vi
    assert "ctx_ver missing" not in vi and "names several years" not in vi


def test_staff_notes_in_english(web):
    en = page(web, MESSY, "en")
    assert "ctx_ver missing (accepted)" in en
    assert "date '1994; 1998' names several years; using 1994" in en


@pytest.mark.parametrize(("lang", "label", "reason"), [
    ("vi", "Bản truy cập mở – Đại học Huế", "Bản tự do trong kho của Liên hợp"),
    ("en", "Open access copy – Hue University", "Free copy in the consortium's own index"),
])
def test_an_open_copy_in_the_index_is_named_by_its_institution(web, lang, label, reason):
    shown = page(web, FLOOD, lang)
    assert label in shown and reason in shown
    assert "hue-dspace" not in shown and "Liên hiệp" not in shown
