"""Cost amounts on the pages in the interface language's convention, and years never grouped
(issue 15): "12.000" typed on the Vietnamese cost form was saved as 12.00 and "12,5" as
125.00, each with "Cost saved"; a report showed the year 2024 as "2.024". The rule itself:
test_cost_amounts.py."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from resolver.usage import charts
from resolver.usage.models import PackageCost
from tests.support import admin

pytestmark = pytest.mark.usefixtures("cheap_hashes")
sessions = admin.sessions  # the admin app's database (see test_usage_pages.py)


# --- the cost form ----------------------------------------------------------------------------

def saved(sessions) -> list[Decimal]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return [Decimal(a) for a in s.scalars(select(PackageCost.amount).order_by(
            PackageCost.id))]


def post_cost(client, amount: str, lang: str = "vi", **extra: str):  # type: ignore[no-untyped-def]
    form = {"package": "sd", "year": "2024", "amount": amount, "currency": "USD", **extra}
    return client.post(f"/admin/usage/costs?lang={lang}", form)


def flashed(client, lang: str) -> str:  # type: ignore[no-untyped-def]
    return unescape(client.get(f"/admin/usage/costs?lang={lang}").get_data(as_text=True))


@pytest.mark.parametrize(("amount", "lang", "stored", "echo"), [
    ("12.000", "vi", "12000", "12.000,00 USD"),
    ("12,5", "vi", "12.5", "12,50 USD"),
    ("12,000", "en", "12000", "12,000.00 USD"),
    ("12.5", "en", "12.5", "12.50 USD"),
])
def test_cost_form_reads_the_page_language_and_echoes_the_amount(boss, sessions, amount, lang,
                                                                  stored, echo):
    res = post_cost(boss, amount, lang)
    assert res.status_code == 302
    assert saved(sessions) == [Decimal(stored)]
    page = flashed(boss, lang)
    assert echo in page  # the amount as it was read, for the user to confirm
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert echo.split()[0] in table  # and shown the same way in the list of costs


@pytest.mark.parametrize(("amount", "lang", "words"), [
    ("1,234", "vi", ["“1,234”", "hai cách", "“.”", "“,”", "23.400,50"]),
    ("12.000", "en", ["“12.000”", "two ways", "“,”", "“.”", "23,400.50"]),
    ("12,3456", "vi", ["“12,3456”", "hai chữ số thập phân", "23.400,50"]),
    ("mười hai", "vi", ["“mười hai”", "23.400,50"]),
])
def test_ambiguous_amount_is_refused_in_the_users_language(boss, sessions, amount, lang, words):
    res = post_cost(boss, amount, lang)
    assert res.status_code == 422
    html = unescape(res.get_data(as_text=True))
    problems = html.split('class="problems"')[1] if 'class="problems"' in html else html
    for word in words:
        assert word in problems, word
    assert saved(sessions) == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PackageCost)) == 0


def test_the_form_says_how_to_write_an_amount(boss):
    assert "23.400,50" in flashed(boss, "vi")
    assert "23,400.50" in flashed(boss, "en")


# --- reports: years as written, amounts in the page's convention ------------------------------

@pytest.mark.parametrize(("lang", "cost"), [("vi", "2.750,00"), ("en", "2,750.00")])
def test_cost_report_shows_years_without_separators(boss, sessions, lang, cost):
    assert post_cost(boss, "2750", lang, institution="hue").status_code == 302
    for name in ("cost-per-download", "cost-per-download-member"):
        html = boss.get(f"/admin/usage/reports/{name}?from=2024-01&to=2024-12&lang={lang}"
                        ).get_data(as_text=True)
        table = html.split('class="detail"')[1].split("</table>")[0]
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
        assert "2024" in cells, cells
        assert "2.024" not in html and "2,024" not in html
        assert cost in cells, cells


@pytest.mark.parametrize(("lang", "decimal", "thousands"), [("vi", "2,50", "1.000"),
                                                             ("en", "2.50", "1,000")])
def test_charts_write_figures_in_the_page_language(lang, decimal, thousands):
    months = [dt.date(2024, m, 1) for m in (1, 2)]
    line = charts.line_chart(months, {"sd": [2.5, 1.0]}, title="t", lang=lang)
    assert f"01/2024: {decimal}" in line
    bars = charts.bar_chart(months, {"sd": [1000, 250]}, title="t", lang=lang)
    assert f"01/2024: {thousands}" in bars


# --- the command line keeps the machine form --------------------------------------------------

def test_cli_cost_refuses_what_it_would_misread(runner, db_url, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    for amount in ("12,5", "12.000"):
        res = runner.invoke("usage", "cost", "set", "sd", "2024", amount)
        assert res.exit_code != 0 and "AMOUNT" in res.output, res.output
    res = runner.invoke("usage", "cost", "set", "sd", "2024", "12000.50")
    assert res.exit_code == 0 and "12,000.50 USD" in res.output
