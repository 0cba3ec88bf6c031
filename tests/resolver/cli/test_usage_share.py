"""``lienhop usage share|rate|size`` on the demo consortium (``demo load``), through the CLI
runner, on SQLite and PostgreSQL.

The demo (resolver/demo/cost_sharing.toml): ScienceDirect ``sd`` shared by nasati, vnuhcm,
hue and tvu all year, binhdinh from 1 July 2025 without usage; 2024 cost USD 20,880 and a
2024 policy adopted (hybrid, sponsor 70 %); no 2025 cost until the test sets it.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.settings import load_settings
from resolver.usage.sharing import adopted, rate, sizes


@pytest.fixture
def demo(runner, db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    res = runner.invoke("demo", "load", "--no-harvest")
    assert res.exit_code == 0, res.output
    assert "demo cost sharing: package sd" in res.output
    again = runner.invoke("demo", "load", "--no-harvest")  # loading twice changes nothing
    assert again.exit_code == 0, again.output
    return runner


def sessions():  # type: ignore[no-untyped-def]
    return db.open_database(load_settings()).sessions


def test_share_needs_the_years_cost(demo):
    res = demo.invoke("usage", "share", "sd", "2025")
    assert res.exit_code == 1 and "No cost of sd is recorded for 2025" in res.output


def test_equal_shares_with_a_given_total_hand_computed(demo):
    # pro rata: binhdinh 6 months -> factors 1, 1, 1, 1, .5 (4.5); USD 1,100.00 = 110,000
    # cents: 24,444.44 for a full year, 12,222.22 for binhdinh; whole cents 109,998, the two
    # cents left go to the largest remainders: the four full-year members tie, by code: hue,
    # nasati
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", "equal", "--total",
                      "1,100.00", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(res.output))}
    assert {c: r["amount"] for c, r in rows.items()} == {
        "binhdinh": "122.22", "hue": "244.45", "nasati": "244.45", "tvu": "244.44",
        "vnuhcm": "244.44"}
    # equal shares weigh no use: nothing is imputed, binhdinh's use is shown empty
    assert rows["binhdinh"]["months"] == "6" and rows["binhdinh"]["use_imputed"] == ""
    # hue: 1,200 a month in 2024, × 1.1 in ten months and × 0.8 in February and July
    assert rows["binhdinh"]["use"] == "" and rows["hue"]["use"] == "15120"  # 13,200 + 1,920


def test_hybrid_with_half_sponsored_in_vietnamese_and_json(demo):
    assert demo.invoke("usage", "cost", "set", "sd", "2025", "22000").exit_code == 0
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", "hybrid", "--sponsor",
                      "50%", "--lang", "vi")
    assert res.exit_code == 0, res.output
    assert "Cơ quan bảo trợ chi trả tập trung 50% chi phí trước khi chia." in res.output
    assert "Tổng: 22.000,00 USD" in res.output and "Nhà tài trợ: 11.000,00 USD" in res.output
    assert "binhdinh chưa có số liệu sử dụng" in res.output
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", "hybrid", "--sponsor",
                      "50%", "--format", "json")
    got = json.loads(res.output)
    shares = {s["code"]: s for s in got["shares"]}
    assert got["total"] == 2_200_000 and got["sponsor"] == 1_100_000
    assert sum(s["amount"] for s in got["shares"]) == got["members_total"] == 1_100_000
    assert shares["binhdinh"]["months"] == 6 and shares["binhdinh"]["use_imputed"] == "median"
    # 2024 was adopted in the demo: every 2024 member shows its change
    assert all(shares[c]["last_amount"] for c in ("nasati", "vnuhcm", "hue", "tvu"))
    assert shares["binhdinh"]["last_amount"] is None


def test_vnd_with_cap_and_smoothing_and_adopt(demo):
    assert demo.invoke("usage", "cost", "set", "sd", "2025", "22000").exit_code == 0
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", "use", "--currency", "VND",
                      "--sponsor", "50%", "--cap", "35%", "--smoothing", "0.2", "--adopt")
    assert res.exit_code == 0, res.output
    assert "Total: 558,800,000 VND" in res.output  # USD 22,000 × 25,400 (2025's demo rate)
    assert "adopted for sd 2025" in res.output
    with sessions()() as s:
        done = adopted(s, "sd", 2025)
        audit = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "usage.share.adopt")).one()
    assert done is not None and done.currency == "VND" and done.adopted_by == "(command line)"
    assert sum(x.amount for x in done.allocation.shares) == 279_400_000
    assert audit.username == "(command line)" and audit.object == "cost-share:sd/2025"


def test_infeasible_policy_is_refused_with_why(demo):
    res = demo.invoke("usage", "share", "sd", "2025", "--total", "1000", "--cap", "10%")
    assert res.exit_code == 1
    assert "must be at least 20%" in res.output


@pytest.mark.parametrize("args", [
    ("--cap", "35"), ("--sponsor", "12,5"), ("--floor", "-3"), ("--tiers", "0-1"),
    ("--equal", "0.5"),  # weights that do not sum to 1: refused by the policy
])
def test_bad_options(demo, args):
    res = demo.invoke("usage", "share", "sd", "2025", "--total", "1000", *args)
    assert res.exit_code in (1, 2), res.output
    assert "Error" in res.output


def test_rate_and_size(demo):
    res = demo.invoke("usage", "rate", "2026", "25,900.50")
    assert res.exit_code == 0 and "2026: 1 USD = 25900.5 VND" in res.output
    assert demo.invoke("usage", "rate", "2026", "abc").exit_code == 1
    res = demo.invoke("usage", "size", "hue", "2025", "--students", "46000", "--fte", "2600")
    assert res.exit_code == 0 and "hue 2025: students 46000, fte 2600" in res.output
    assert demo.invoke("usage", "size", "hue", "2025").exit_code == 2
    assert demo.invoke("usage", "size", "nowhere", "2025", "--fte", "1").exit_code == 1
    with sessions()() as s:
        assert rate(s, 2026) == 25900.5
        assert sizes(s, 2025, "students")["hue"].value == 46000
        assert sizes(s, 2025, "fte")["vnuhcm"].year == 2024  # the demo's 2024 figure



def table(output: str) -> dict[str, dict[str, str]]:
    """The table ``usage share`` prints (English headers): member code -> header -> cell."""
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Code  "))
    names = re.split(r"\s{2,}", lines[at].strip())
    starts = [lines[at].index(n) for n in names]
    rows = {}
    for line in lines[at + 1:]:
        if line.startswith("Total:"):
            break
        values = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[values[0]] = dict(zip(names, values, strict=True))
    return rows


@pytest.mark.parametrize(("args", "money", "per_download"), [
    # USD: amounts with cents, a cost per download with four decimals, always ("0.0090",
    # never "0.009" beside "0.0162"); by use every member's is 135.39 / 15,120 and the like
    (("--total", "1,100.00"), r"-?\d{1,3}(,\d{3})*\.\d{2}", r"0\.\d{4}"),
    # VND: no decimals at all, the raw share and the cost per download included
    (("--currency", "VND", "--total", "27,940,000"), r"-?\d{1,3}(,\d{3})*", r"\d{3}"),
])
@pytest.mark.parametrize("policy", ["use", "equal"])
def test_money_and_cost_per_download_have_the_currencys_decimals(demo, policy, args, money,
                                                                 per_download):
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", policy, *args)
    assert res.exit_code == 0, res.output
    rows = table(res.output)
    assert sorted(rows) == ["binhdinh", "hue", "nasati", "tvu", "vnuhcm"]
    for code, cells in rows.items():
        for column in ("Raw share", "Amount", "Last year", "Change"):
            if code != "binhdinh" or column in ("Raw share", "Amount"):
                assert re.fullmatch(money, cells[column]), (code, column, cells[column])
        if code != "binhdinh":  # no use of its own: no cost per download
            assert re.fullmatch(per_download, cells["Cost/download"]), (code, cells)
    if policy == "use" and "VND" not in args:
        assert {rows[c]["Cost/download"] for c in rows if c != "binhdinh"} == {"0.0090"}


def test_the_csv_writes_costs_per_download_with_the_currencys_decimals(demo):
    res = demo.invoke("usage", "share", "sd", "2025", "--policy", "equal", "--currency", "VND",
                      "--total", "27,940,000", "--format", "csv")
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(res.output))}
    # hue: 27,940,000 / 4.5 member-years = 6,208,888.9 -> 6,208,889 đồng / 15,120 = 410.64
    assert rows["hue"]["amount"] == "6208889" and rows["hue"]["cpd"] == "411"


def test_annualising_is_on_by_default_and_can_be_turned_off(demo):
    on = demo.invoke("usage", "share", "sd", "2025", "--policy", "use", "--total", "1000",
                     "--format", "json")
    off = demo.invoke("usage", "share", "sd", "2025", "--policy", "use", "--total", "1000",
                      "--no-annualise", "--format", "json")
    assert json.loads(on.output)["policy"]["annualise"] is True
    assert json.loads(off.output)["policy"]["annualise"] is False
    words = demo.invoke("usage", "share", "sd", "2025", "--policy", "use", "--total", "1000",
                        "--lang", "vi")
    assert "được quy ra mười hai tháng" in words.output
    words = demo.invoke("usage", "share", "sd", "2025", "--policy", "use", "--total", "1000",
                        "--no-annualise")
    assert "counted on its use over the period as it is" in words.output
