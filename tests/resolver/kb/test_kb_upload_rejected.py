"""The KBART upload page names the rejected rows (line number and reason, in the page's
language) also when the file is refused: every row rejected, strict mode, not KBART at all;
a long list is cut at the first 200 rows with the number left over."""

from __future__ import annotations

import html as htmlmod
import io
import re

import pytest
from sqlalchemy import select

from resolver.kb.models import KbTitle, Package

pytestmark = pytest.mark.usefixtures("cheap_hashes")

HEADER = ("publication_title\tprint_identifier\tonline_identifier\t"
          "date_first_issue_online\ttitle_url\ttitle_id\n")
GOOD = "Journal of Hydrology\t0022-1694\t\t1963\thttps://example.org/jh\tjh\n"
BAD_ISSN = "Broken ISSN Journal\t1234-5678\t\t2001\thttps://example.org/b\tb\n"
NO_TITLE = "\t\t\t2001\thttps://example.org/n\t\n"
BAD_DATE = "Bad Date Journal\t\t\t20xx\thttps://example.org/d\td\n"

ROW = re.compile(r'<tr><th scope="row">(\d+)</th><td>(.*?)</td></tr>', re.S)


def upload(client, text: str, code: str = "sd", lang: str = "vi",  # type: ignore[no-untyped-def]
           **extra: str):
    return client.post(f"/admin/kb/upload?lang={lang}", {
        "code": code, "kind": "subscription", **extra,
        "file": (io.BytesIO(text.encode()), "kbart.tsv")},
        content_type="multipart/form-data")


def rejected_on(page: str) -> dict[int, str]:
    """Line number -> reason of the rejected-rows table."""
    assert 'id="rejected-rows"' in page, "no rejected-rows table"
    table = page.split('id="rejected-rows"', 1)[1].split("</table>", 1)[0]
    return {int(n): htmlmod.unescape(why) for n, why in ROW.findall(table)}


def problems_on(page: str) -> str:
    assert 'class="problems"' in page
    return htmlmod.unescape(page.split('class="problems"', 1)[1].split("</div>", 1)[0])


def snapshot(sessions, code: str = "sd"):  # type: ignore[no-untyped-def]
    with sessions() as s:
        pkg = s.scalar(select(Package).where(Package.code == code))
        if pkg is None:
            return None
        return (pkg.name, pkg.imported_at, pkg.source_file,
                sorted(s.scalars(select(KbTitle.title).where(KbTitle.package_id == pkg.id))))


@pytest.fixture
def loaded(boss, sessions):  # type: ignore[no-untyped-def]
    assert upload(boss, HEADER + GOOD).status_code == 200
    return snapshot(sessions)


def test_every_row_rejected_lists_each_row_in_vietnamese_and_english(boss, sessions, loaded):
    res = upload(boss, HEADER + BAD_ISSN + NO_TITLE + BAD_DATE, name="Renamed")
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    rows = rejected_on(page)
    assert sorted(rows) == [2, 3, 4]
    assert "sai số kiểm tra" in rows[2] and "thiếu tên ấn phẩm" in rows[3]
    assert "không phải ngày hợp lệ" in rows[4]
    assert "không có tên ấn phẩm hợp lệ" in problems_on(page)  # the refusal in Vietnamese
    assert snapshot(sessions) == loaded

    page = upload(boss, HEADER + BAD_ISSN + NO_TITLE + BAD_DATE, lang="en").get_data(
        as_text=True)
    rows = rejected_on(page)
    assert "ISSN '1234-5678' has a wrong check digit" in rows[2]
    assert "no publication_title" in rows[3] and "'20xx' is not a date" in rows[4]
    assert "no valid title" in problems_on(page)
    assert snapshot(sessions) == loaded


def test_strict_lists_the_rejected_row(boss, sessions, loaded):
    res = upload(boss, HEADER + GOOD + BAD_DATE, strict="on", lang="en")
    assert res.status_code == 422
    page = res.get_data(as_text=True)
    assert list(rejected_on(page)) == [3]
    assert "1 rows rejected" in problems_on(page)
    assert snapshot(sessions) == loaded


def test_not_kbart_names_the_header_line(boss, sessions, loaded):
    res = upload(boss, "\n<html><body>502 Bad Gateway</body></html>\n")
    assert res.status_code == 422
    rows = rejected_on(res.get_data(as_text=True))
    assert list(rows) == [2] and "tiêu đề KBART" in rows[2]
    res = upload(boss, "<html>502</html>\n", code="brand-new", lang="en")
    assert list(rejected_on(res.get_data(as_text=True))) == [1]
    assert snapshot(sessions) == loaded and snapshot(sessions, "brand-new") is None


@pytest.mark.parametrize("with_good_row", [False, True], ids=["refused", "loaded"])
def test_a_long_list_is_cut_at_200_with_the_rest_counted(boss, sessions, with_good_row):
    n = 450
    text = HEADER + (GOOD if with_good_row else "") + BAD_DATE * n
    first = 2 + with_good_row
    res = upload(boss, text, lang="en")
    assert res.status_code == (200 if with_good_row else 422)
    page = res.get_data(as_text=True)
    assert list(rejected_on(page)) == list(range(first, first + 200))
    assert "and 250 more" in htmlmod.unescape(page)
    vi = htmlmod.unescape(upload(boss, text, code="other").get_data(as_text=True))
    assert "và 250 dòng bị loại khác" in vi
