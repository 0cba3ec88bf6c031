"""The cost-sharing what-if page (/admin/usage/cost-sharing) in both languages, on SQLite and
PostgreSQL: hand-computed shares (tests/support/cost_sharing.py), the sponsor's share moving
every amount, what an institution administrator may see, garbage parameters (a message, never
a 500), the inputs a policy lacks, and adopting a policy (asks first, audited)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.kb.entitlements import entitle
from resolver.usage.sharing import adopted
from tests.support import admin
from tests.support.cost_sharing import share_sd

pytestmark = pytest.mark.usefixtures("cheap_hashes")
sessions = admin.sessions  # the admin app's database, not this folder's bare one

PAGE = "/admin/usage/cost-sharing"
SD_2025 = f"{PAGE}?package=sd&year=2025"


def text(res: Any) -> str:
    return unescape(res.get_data(as_text=True))


def row(html: str, code: str) -> str:
    m = re.search(rf'<tr id="member-{code}">(.*?)</tr>', html, re.S)
    assert m, f"no line for {code}"
    return m.group(1)


def cells(fragment: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", fragment, re.S)]


@pytest.fixture
def shared(sessions):  # type: ignore[no-untyped-def]
    share_sd(sessions)
    return sessions


# --- the comparison -----------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "hue", "tvu", "hue_vnd", "use_hue", "words"), [
    ("vi", "3.333,33", "1.666,67", "83.333.250", "4.285,71",
     ["Chia sẻ chi phí", "Chia đều", "Theo mức sử dụng"]),
    ("en", "3,333.33", "1,666.67", "83,333,250", "4,285.71",
     ["Cost sharing", "Equal shares", "By use"]),
])
def test_equal_by_use_and_hybrid_side_by_side_with_a_50_percent_sponsor(
        boss, shared, lang, hue, tvu, hue_vnd, use_hue, words):
    res = boss.get(f"{SD_2025}&sponsor=50&lang={lang}")
    assert res.status_code == 200
    html = text(res)
    for word in words:
        assert word in html
    hue_cells, tvu_cells = cells(row(html, "hue")), cells(row(html, "tvu"))
    # member, months, then five cells per policy: USD, VND, change, change %, per download
    assert hue_cells[:4] == ["Đại học Huế", "12", hue, hue_vnd]
    assert tvu_cells[:3] == ["Đại học Trà Vinh", "6", tvu]
    assert hue_cells[7] == use_hue  # by use: 6/7 of USD 5,000
    assert len(hue_cells) == 2 + 3 * 5
    assert "<svg" in html and 'role="img"' in html  # the chart, drawn by the server
    assert "<script" not in html.split("<main")[1]  # no chart library
    assert "cdn" not in html.lower()


def test_the_sponsor_share_moves_every_members_amount(boss, shared):
    none = text(boss.get(f"{SD_2025}&p1=equal&sponsor=0&lang=en"))
    half = text(boss.get(f"{SD_2025}&p1=equal&sponsor=50&lang=en"))
    assert cells(row(none, "hue"))[2] == "6,666.67"
    assert cells(row(none, "tvu"))[2] == "3,333.33"
    assert cells(row(half, "hue"))[2] == "3,333.33"
    assert cells(row(half, "tvu"))[2] == "1,666.67"
    foot = half.split("<tfoot>")[1].split("</tfoot>")[0]
    assert "5,000.00" in foot and "10,000.00" in foot  # members' total, sponsor, total


def test_a_hybrid_column_takes_its_weights(boss, shared):
    html = text(boss.get(f"{SD_2025}&p1=hybrid&p1_equal=50&p1_use=50&p1_size=0&lang=en"))
    # ½ equal (666,666.67/333,333.33) + ½ by use (857,142.86/142,857.14), in cents
    assert cells(row(html, "hue"))[2] == "7,619.05"
    assert cells(row(html, "tvu"))[2] == "2,380.95"


def test_an_institution_administrator_sees_only_their_own_line(hue_admin, shared):
    res = hue_admin.get(f"{SD_2025}&sponsor=50&lang=en")
    assert res.status_code == 200
    html = text(res)
    assert cells(row(html, "hue"))[2] == "3,333.33"
    assert 'id="member-tvu"' not in html
    assert "Trà Vinh" not in html
    assert "1,666.67" not in html and "714.29" not in html  # no other member's amount
    assert "<tfoot>" not in html  # nor the totals the others' could be worked out from
    assert "/cost-sharing/adopt" not in html  # no adopt button
    assert "Trà Vinh" not in html.split("<svg", 1)[1].split("</svg>")[0]


def test_anonymous_visitors_are_sent_to_log_in(anon, shared):
    for url in (SD_2025, f"{PAGE}/inputs", f"{PAGE}/sd/2025/statement/hue",
                f"{PAGE}/sd/2025/shares.csv"):
        res = anon.get(url)
        assert res.status_code == 302 and "/admin/login" in res.headers["Location"], url


# --- garbage in: a message, never a 500 ---------------------------------------------------------

@pytest.mark.parametrize(("query", "says"), [
    ("year=abc", "between 1990 and 2100"),
    ("year=99999", "between 1990 and 2100"),
    ("year=2025&sponsor=abc", "percentage from 0 to 100"),
    ("year=2025&sponsor=150", "percentage from 0 to 100"),
    ("year=2025&sponsor=-5", "percentage from 0 to 100"),
    ("year=2025&sponsor=50&sponsor_amount=100", "not both"),
    ("year=2025&p1=robinhood", "not one of the choices"),
    ("year=2025&p1=hybrid&p1_equal=30&p1_use=30", "add up to 100"),
    ("year=2025&p1=hybrid&p1_equal=NaN", "percentage from 0 to 100"),
    ("year=2025&p1=&p2=&p3=", "at least one policy"),
    ("year=2025&currency=EUR", "Unknown currency"),
    ("year=2025&package=../../etc/passwd", "Package code"),
    ("year=2025&package=" + "x" * 5000, "Package code"),
    ("year=2025&measure=downloads", "not one of the choices"),
    ("year=2025&period_end=2024-13&period=rolling_12", "not a month"),
    ("year=2025&cap=0,0,0", "percentage from 0 to 100"),
    ("year=2025&floor=mười", "not an amount"),
    ("year=2025&missing=zero", "not one of the choices"),
    ("year=2025&smoothing=%00", "percentage from 0 to 100"),
])
def test_garbage_parameters_get_a_message(boss, shared, query, says):
    package = "" if "package=" in query else "package=sd&"
    res = boss.get(f"{PAGE}?{package}{query}&lang=en")
    assert res.status_code == 400
    html = text(res)
    problems = html.split('id="problems"')[1].split("</div>")[0]
    assert says in problems
    assert 'id="sharing-table"' not in html  # no figures for something not asked


def test_a_garbage_parameter_is_explained_in_vietnamese(boss, shared):
    html = text(boss.get(f"{SD_2025}&sponsor=nhiều"))
    assert "không phải là tỉ lệ phần trăm từ 0 đến 100" in html


def test_a_policy_that_cannot_hold_says_so_in_its_column(boss, shared):
    # a floor of USD 9,000 a year for each of 1½ member-years is more than the USD 10,000
    html = text(boss.get(f"{SD_2025}&p1=equal&p2=use&floor=9000&lang=en"))
    assert "floor" in html.split('id="rule-1"')[1].split("</div>")[0].lower()


# --- inputs the policies need -------------------------------------------------------------------

def test_missing_cost_rate_sizes_and_use_are_stated_with_where_to_set_them(boss, sessions):
    share_sd(sessions, rate=False)
    no_cost = text(boss.get(f"{PAGE}?package=sd&year=2026&lang=en"))
    assert "No cost of sd is recorded for 2026" in no_cost
    assert 'href="/admin/usage/costs"' in no_cost
    html = text(boss.get(f"{SD_2025}&p1=size&p2=use&lang=en&period=rolling_12"
                         "&period_end=2023-12"))
    assert "not recorded" in html.split('id="rate"')[1].split("</dd>")[0]
    assert 'href="/admin/usage/cost-sharing/inputs?year=2025"' in html
    missing = html.split('id="missing-inputs"')[1].split("</ul>")[0]
    assert "No size (students or researchers) is recorded for: Đại học Huế, Đại học Trà Vinh" \
        in missing
    assert "No use is recorded for any member over 01/2023–12/2023" in missing
    assert "No policy was adopted for 2024" in missing


# --- adopting -----------------------------------------------------------------------------------

def adopt_form(boss, query: str, slot: int = 1) -> dict[str, str]:  # type: ignore[no-untyped-def]
    html = boss.get(f"{SD_2025}&{query}").get_data(as_text=True)
    form = html.split(f'id="rule-{slot}"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    fields.pop("csrf_token")
    return {k: unescape(v) for k, v in fields.items()}


def test_adopting_asks_first_then_stores_and_audits(boss, sessions, shared):
    fields = adopt_form(boss, "sponsor=50&lang=en", slot=2)
    first = boss.post(f"{PAGE}/adopt", fields)
    assert first.status_code == 200
    page = text(first)
    assert "Adopt this policy?" in page and "becomes the adopted rule" in page
    assert 'name="confirm" value="yes"' in page
    with sessions() as s:
        assert adopted(s, "sd", 2025) is None  # nothing until confirmed
    done = boss.post(f"{PAGE}/adopt", {**fields, "confirm": "yes"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("#adopted")
    with sessions() as s:
        found = adopted(s, "sd", 2025)
        assert found is not None
        assert found.policy.use == 1 and found.policy.sponsor_fraction == 0.5
        assert {sh.code: sh.amount for sh in found.allocation.shares} == {
            "hue": 428571, "tvu": 71429}
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "usage.share.adopt"))
        assert entry is not None and entry.username == "boss"
    html = text(boss.get(f"{SD_2025}&sponsor=50&lang=en"))
    adopted_part = html.split('id="adopted"')[1]
    assert "/admin/usage/cost-sharing/sd/2025/statement/hue" in adopted_part
    assert "/admin/usage/cost-sharing/sd/2025/shares.xlsx" in adopted_part


def test_only_a_consortium_administrator_adopts(boss, hue_admin, shared, sessions):
    fields = adopt_form(boss, "sponsor=50")
    assert hue_admin.post(f"{PAGE}/adopt", {**fields, "confirm": "yes"}).status_code == 403
    with sessions() as s:
        assert adopted(s, "sd", 2025) is None


@pytest.mark.parametrize("policy", ["", "{", "[]", '{"equal": "2"}', '{"bogus": 1}',
                                    '{"equal": "1", "tiers": 5}', "x" * 10_000])
def test_a_garbled_policy_is_refused_with_a_message(boss, shared, sessions, policy):
    res = boss.post(f"{PAGE}/adopt", {"package": "sd", "year": "2025", "policy": policy,
                                      "confirm": "yes"})
    assert res.status_code == 400
    assert 'id="problems"' in res.get_data(as_text=True)
    with sessions() as s:
        assert adopted(s, "sd", 2025) is None


def test_adopting_without_the_forms_token_is_refused(boss, shared, sessions):
    fields = adopt_form(boss, "sponsor=50")
    res = boss.http.post(f"{PAGE}/adopt", data={**fields, "confirm": "yes"})
    assert res.status_code == 400
    with sessions() as s:
        assert adopted(s, "sd", 2025) is None


def test_the_page_is_linked_from_the_usage_area(boss, shared):
    html = text(boss.get("/admin/usage/costs?lang=en"))
    assert f'href="{PAGE}"' in html and "Cost sharing" in html


def test_adopting_again_says_what_it_replaces(boss, shared, sessions):
    fields = adopt_form(boss, "sponsor=50&lang=en", slot=1)
    assert boss.post(f"{PAGE}/adopt", {**fields, "confirm": "yes"}).status_code == 302
    again = adopt_form(boss, "sponsor=50&lang=en", slot=3)
    page = text(boss.post(f"{PAGE}/adopt?lang=en", again))
    assert "It replaces the policy adopted on" in page and "(“Equal shares”)" in page
    assert boss.post(f"{PAGE}/adopt", {**again, "confirm": "yes"}).status_code == 302
    with sessions() as s:
        found = adopted(s, "sd", 2025)
        assert found is not None and found.policy.kind == "hybrid"


# --- annualising the use of a member entitled part of the use period ----------------------------

@pytest.fixture
def joined_2024(shared):  # type: ignore[no-untyped-def]
    """Trà Vinh was also entitled July–December 2024, the use period of 2025: its 100
    downloads are six months' use, 200 a year."""
    with db.transaction(shared) as s:
        entitle(s, "sd", "tvu", dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    return shared


@pytest.mark.parametrize(("lang", "on", "off", "choice", "rule_on", "rule_off", "note"), [
    ("en", ("3,750.00", "1,250.00"), ("4,285.71", "714.29"),
     "their use scaled to twelve months",
     "is scaled to twelve months (use × 12 ÷ months entitled)",
     "Every member is counted on its use over the period as it is",
     "tvu was entitled 6 months of the use period: its use (100) is counted as 200 for "
     "twelve months."),
    ("vi", ("3.750,00", "1.250,00"), ("4.285,71", "714,29"),
     "quy mức sử dụng ra mười hai tháng",
     "được quy ra mười hai tháng (mức sử dụng × 12 ÷ số tháng được quyền truy cập)",
     "Mọi thành viên được tính theo đúng mức sử dụng trong kỳ",
     "tvu được quyền truy cập 6 tháng trong kỳ tính mức sử dụng: mức sử dụng (100) được quy "
     "ra 200 cho mười hai tháng."),
])
def test_annualising_is_a_choice_on_by_default(boss, joined_2024, lang, on, off, choice,
                                               rule_on, rule_off, note):
    # by use, sponsor 50 % (USD 5,000 shared): annualised, Huế 300 : Trà Vinh 200 × 6/12
    # (its months in 2025) = 3 : 1 -> 3,750.00 and 1,250.00; on raw use 300 : 50 -> 6/7, 1/7
    query = f"{SD_2025}&p1=use&p2=&p3=&sponsor=50&lang={lang}"
    html = text(boss.get(query))
    assert 'id="annualise"' in html and choice in html
    assert [cells(row(html, c))[2] for c in ("hue", "tvu")] == list(on)
    rule = html.split('id="rule-1"')[1].split("</div>")[0]
    assert rule_on in rule and note in rule
    assert cells(row(html, "tvu"))[6] == ("6.2500" if lang == "en" else "6,2500")  # 1,250 / 200
    html = text(boss.get(f"{query}&annualise=no"))
    assert [cells(row(html, c))[2] for c in ("hue", "tvu")] == list(off)
    rule = html.split('id="rule-1"')[1].split("</div>")[0]
    assert rule_off in rule and "200" not in rule
    assert '<option value="no" selected>' in html  # the form shows what was asked


def test_a_garbage_annualise_gets_a_message(boss, shared):
    res = boss.get(f"{SD_2025}&annualise=perhaps&lang=en")
    assert res.status_code == 400
    assert "not one of the choices" in text(res).split('id="problems"')[1].split("</div>")[0]


@pytest.mark.parametrize(("query", "annualise", "tvu"), [("", True, 125_000),
                                                         ("&annualise=no", False, 71_429)])
def test_the_adopted_policy_keeps_the_choice(boss, joined_2024, sessions, query, annualise,
                                             tvu):
    fields = adopt_form(boss, f"p1=use&p2=&p3=&sponsor=50{query}")
    assert boss.post(f"{PAGE}/adopt", {**fields, "confirm": "yes"}).status_code == 302
    with sessions() as s:
        found = adopted(s, "sd", 2025)
    assert found is not None and found.policy.annualise is annualise
    assert found.allocation.for_member("tvu").amount == tvu


def test_costs_per_download_in_vnd_have_no_decimals(boss, shared):
    # equal shares of 250,000,000 đồng: Huế 166,666,667 / 300 downloads = 555,555.56,
    # Trà Vinh 83,333,333 / 100 = 833,333.33: shown in whole đồng, like the amounts
    html = text(boss.get(f"{SD_2025}&p1=equal&p2=&p3=&currency=VND&lang=en"))
    assert cells(row(html, "hue"))[2] == "166,666,667"
    assert cells(row(html, "hue"))[6] == "555,556"
    assert cells(row(html, "tvu"))[6] == "833,333"
