"""Members' statements of an adopted cost sharing, the accounts' CSV and XLSX, and the inputs
page (exchange rates, sizes), in both languages on SQLite and PostgreSQL; who may see each."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.kb.entitlements import entitle
from resolver.usage.sharing import adopt, preset, rate, sizes
from tests.support import admin
from tests.support.cost_sharing import HOSTILE_NAME, share_sd

pytestmark = pytest.mark.usefixtures("cheap_hashes")
sessions = admin.sessions  # the admin app's database, not this folder's bare one

BASE = "/admin/usage/cost-sharing"


def text(res: Any) -> str:
    return unescape(res.get_data(as_text=True))


def adopt_by_use(sessions: Any, **policy: Any) -> None:
    with db.transaction(sessions) as s:
        adopt(s, "sd", 2025, preset("use", sponsor_fraction=Decimal("0.5"), **policy), None,
              username="boss")


@pytest.fixture
def adopted_sd(sessions):  # type: ignore[no-untyped-def]
    share_sd(sessions)
    adopt_by_use(sessions)
    return sessions


def amounts(html: str) -> dict[str, str]:
    """Each <data> amount on a statement: currency -> its machine value."""
    return {cls.upper(): value for cls, value in
            re.findall(r'<data[^>]*class="amount-(\w+)" value="([^"]*)"', html)}


# --- statements ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "words", "usd", "vnd"), [
    ("vi", ["Liên hợp Thư viện Việt Nam về nguồn tin KH&CN",
            "Thông báo chia sẻ chi phí năm 2025", "Đại học Huế", "ScienceDirect",
            "Theo mức sử dụng", "COUNTER Total_Item_Requests", "01/2024–12/2024"],
     "4.285,71", "107.142.750"),
    ("en", ["Vietnam Library Consortium on S&T information sources",
            "Cost-sharing statement 2025", "Đại học Huế", "ScienceDirect",
            "in proportion to use", "COUNTER Total_Item_Requests", "01/2024–12/2024"],
     "4,285.71", "107,142,750"),
])
def test_a_members_statement_in_both_languages(boss, adopted_sd, lang, words, usd, vnd):
    res = boss.get(f"{BASE}/sd/2025/statement/hue?lang={lang}")
    assert res.status_code == 200
    html = text(res)
    statement = html.split('id="statement"')[1]
    for word in words:
        assert word in statement, word
    assert re.search(r"50\W?%", statement)  # the sponsor's share, in the rule's words
    assert usd in statement and vnd in statement  # in the page's number convention
    assert amounts(html) == {"USD": "4285.71", "VND": "107142750"}
    figures = statement.split('id="figures"')[1].split("</table>")[0]
    assert ">300<" in figures  # the use it counted
    assert "10" in statement.split('id="total"')[1][:40]  # the package's cost
    assert "@page" in html and "A4" in html  # printed on A4, without the menus
    assert ".admin-nav" in html.split("@media print")[1]


def test_the_statements_add_up_to_the_members_total(boss, adopted_sd):
    total: dict[str, Decimal] = {"USD": Decimal(0), "VND": Decimal(0)}
    for code in ("hue", "tvu"):
        found = amounts(text(boss.get(f"{BASE}/sd/2025/statement/{code}")))
        for cur in total:
            total[cur] += Decimal(found[cur])
    assert total == {"USD": Decimal("5000.00"), "VND": Decimal("125000000")}


@pytest.mark.parametrize(("lang", "hue", "tvu"), [("en", "14.2857 USD", "7.1429 USD"),
                                                  ("vi", "14,2857 USD", "7,1429 USD")])
def test_the_cost_per_download_has_the_pages_decimals(boss, adopted_sd, lang, hue, tvu):
    # USD 4,285.71 / 300 downloads and 714.29 / 100: four decimals, as on the what-if page
    # and the command line (a statement showed "14.29")
    for code, expected in (("hue", hue), ("tvu", tvu)):
        html = text(boss.get(f"{BASE}/sd/2025/statement/{code}?lang={lang}"))
        cell = html.split('id="per-download"')[1].split("</td>")[0]
        assert cell.strip(">").strip() == expected


@pytest.mark.parametrize(("lang", "says"), [
    ("en", "100; 6 months of entitlement in the period: counted as 200 for twelve months"),
    ("vi", "100; 6 tháng được quyền truy cập trong kỳ: quy ra 200 cho mười hai tháng"),
])
def test_a_statement_shows_the_use_it_annualised(boss, sessions, lang, says):
    # Trà Vinh was entitled July–December 2024 too: six months of the use period
    share_sd(sessions)
    with db.transaction(sessions) as s:
        entitle(s, "sd", "tvu", dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    adopt_by_use(sessions)
    html = text(boss.get(f"{BASE}/sd/2025/statement/tvu?lang={lang}"))
    use = html.split('id="use"')[1].split("</td>")[0]
    assert says in use
    rule = html.split('id="rule"')[1].split("</ul>")[0]
    assert ("scaled to twelve months" if lang == "en" else "quy ra mười hai tháng") in rule
    assert amounts(html)["USD"] == "1250.00"  # a quarter of USD 5,000 (3 : 1 with Huế)
    cell = html.split('id="per-download"')[1].split("</td>")[0]
    assert cell.strip(">").strip() == ("6.2500 USD" if lang == "en" else "6,2500 USD")


def test_an_institution_administrator_prints_only_their_own(hue_admin, adopted_sd):
    assert hue_admin.get(f"{BASE}/sd/2025/statement/hue").status_code == 200
    assert hue_admin.get(f"{BASE}/sd/2025/statement/tvu").status_code == 403
    # and sees the adopted policy's statements list with their own only
    html = text(hue_admin.get(f"{BASE}?package=sd&year=2025"))
    listed = html.split('id="statements"')[1].split("</ul>")[0]
    assert "/statement/hue" in listed and "/statement/tvu" not in listed
    assert 'id="export-csv"' not in html


@pytest.mark.parametrize("url", [
    "/sd/2024/statement/hue",          # nothing adopted for 2024
    "/sd/2025/statement/nobody",       # not a member
    "/nothere/2025/statement/hue",
    "/sd/2025/statement/%3Cscript%3E",
    "/sd/99999/statement/hue",
    "/sd/2025/shares.pdf",
    "/sd/2024/shares.csv",
])
def test_what_is_not_there_is_a_404(boss, adopted_sd, url):
    assert boss.get(BASE + url).status_code == 404


# --- exports ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "header"), [
    ("vi", ["Mã", "Thành viên", "Số tháng", "Mức sử dụng", "Quy mô", "Năm trước (VND)",
            "Năm trước (USD)", "Số tiền (VND)", "Số tiền (USD)", "Thay đổi so với năm trước"]),
    ("en", ["Code", "Member", "Months entitled", "Use", "Size", "Last year (VND)",
            "Last year (USD)", "Amount (VND)", "Amount (USD)", "Change from last year"]),
])
def test_the_accounts_csv(boss, adopted_sd, lang, header):
    res = boss.get(f"{BASE}/sd/2025/shares.csv?lang={lang}")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert "lienhop-cost-sharing-sd-2025.csv" in res.headers["Content-Disposition"]
    data = res.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == header
    assert rows[1:] == [
        ["hue", "Đại học Huế", "12", "300", "", "", "", "107142750", "4285.71", ""],
        ["tvu", "Đại học Trà Vinh", "6", "100", "", "", "", "17857250", "714.29", ""],
    ]


def test_the_accounts_xlsx(boss, adopted_sd):
    res = boss.get(f"{BASE}/sd/2025/shares.xlsx?lang=en")
    assert res.status_code == 200
    assert res.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(res.get_data())).active
    assert [c.value for c in ws[1]][:2] == ["Code", "Member"]
    assert [c.value for c in ws[2]][:4] == ["hue", "Đại học Huế", 12, 300]
    vnd, usd = ws.cell(2, 8), ws.cell(2, 9)
    assert vnd.value == 107142750 and vnd.number_format == "#,##0"
    assert usd.value == pytest.approx(4285.71) and usd.number_format == "#,##0.00"


def test_a_hostile_member_name_is_never_a_formula(boss, sessions):
    share_sd(sessions, hostile=True)
    adopt_by_use(sessions)
    rows = list(csv.reader(io.StringIO(
        boss.get(f"{BASE}/sd/2025/shares.csv").get_data().decode("utf-8-sig"))))
    evil = next(r for r in rows if r[0] == "evil")
    assert evil[1] == "'" + HOSTILE_NAME
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    data = boss.get(f"{BASE}/sd/2025/shares.xlsx").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    ws = load_workbook(io.BytesIO(data)).active
    cell = next(r[1] for r in ws.iter_rows(min_row=2) if r[0].value == "evil")
    assert cell.value == HOSTILE_NAME and cell.data_type == "s"


def test_only_consortium_administrators_export(hue_admin, adopted_sd):
    assert hue_admin.get(f"{BASE}/sd/2025/shares.csv").status_code == 403
    assert hue_admin.get(f"{BASE}/sd/2025/shares.xlsx").status_code == 403


# --- inputs -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "typed", "stored", "echo"), [
    ("vi", "25.400", Decimal(25400), "1 USD = 25.400,00 VND"),
    ("en", "25,400.5", Decimal("25400.5"), "1 USD = 25,400.50 VND"),
])
def test_the_exchange_rate_is_typed_the_pages_way(boss, sessions, lang, typed, stored, echo):
    res = boss.post(f"{BASE}/inputs?lang={lang}", {"what": "rate", "year": "2026",
                                                   "rate": typed})
    assert res.status_code == 302
    with sessions() as s:
        assert rate(s, 2026) == stored
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "usage.rate_set"))
        assert entry is not None and entry.object == "rate:2026"
    assert echo in text(boss.get(f"{BASE}/inputs?year=2026&lang={lang}"))


@pytest.mark.parametrize("typed", ["", "abc", "-3", "1,234", "0"])
def test_a_wrong_exchange_rate_is_refused(boss, sessions, typed):
    res = boss.post(f"{BASE}/inputs?lang=vi", {"what": "rate", "year": "2026", "rate": typed})
    assert res.status_code == 400
    assert 'id="problems"' in res.get_data(as_text=True)
    with sessions() as s:
        assert rate(s, 2026) is None


def test_sizes_with_their_reporting_year(boss, sessions):
    res = boss.post(f"{BASE}/inputs?lang=vi", {"what": "size", "year": "2024",
                                               "institution": "hue", "students": "12.000",
                                               "fte": ""})
    assert res.status_code == 302
    with sessions() as s:
        got = sizes(s, 2025, "students")
        assert (got["hue"].value, got["hue"].year) == (12000, 2024)
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "usage.size_set"))
    html = text(boss.get(f"{BASE}/inputs?year=2025"))
    assert "12.000 (2024)" in html.split('id="size-hue"')[1].split("</tr>")[0]


@pytest.mark.parametrize("form", [
    {"what": "size", "year": "2024", "institution": "nobody", "students": "10"},
    {"what": "size", "year": "2024", "institution": "hue", "students": "12,5"},
    {"what": "size", "year": "2024", "institution": "hue"},
    {"what": "size", "year": "1066", "institution": "hue", "students": "10"},
    {"what": "nothing", "year": "2024"},
])
def test_wrong_sizes_are_refused(boss, sessions, form):
    res = boss.post(f"{BASE}/inputs?lang=en", form)
    assert res.status_code == 400
    with sessions() as s:
        assert sizes(s, 2100, "students") == {}


def test_only_consortium_administrators_record_inputs(hue_admin):
    assert hue_admin.get(f"{BASE}/inputs").status_code == 403
    assert hue_admin.post(f"{BASE}/inputs", {"what": "rate", "year": "2026",
                                             "rate": "25400"}).status_code == 403
