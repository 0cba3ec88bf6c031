"""Usage and cost pages: figures against hand counts, CSV, charts, COUNTER and cost forms,
and what an institution administrator may see."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.usage import reports
from resolver.usage.models import ClickLog, CounterImport, CounterMonth, PackageCost, ResolveLog
from tests.support import admin
from tests.support.paths import TEST_FIXTURES

pytestmark = pytest.mark.usefixtures("cheap_hashes")
# This folder's conftest gives ``sessions`` the usage tests' bare migrated database; these
# tests mean the admin app's (a module's fixture overrides its folder's).
sessions = admin.sessions

COUNTER_FIXTURES = TEST_FIXTURES / "counter"
PERIOD = "from=2024-01&to=2024-03"


def at(month: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2024, month, day, 9, 30)


def add_clicks(sessions, rows):  # type: ignore[no-untyped-def]
    """rows: (month, institution, package, kind, how many)."""
    with db.transaction(sessions) as s:
        for month, inst, pkg, kind, n in rows:
            s.add_all(ClickLog(at=at(month), institution=inst, package=pkg, kind=kind)
                      for _ in range(n))


CLICKS = [
    (1, "hue", "sd", "fulltext", 3),
    (1, "tvu", "sd", "fulltext", 1),
    (2, "hue", "sd", "fulltext", 2),
    (2, "hue", "springer", "fulltext", 5),
    (2, "hue", None, "open", 4),
    (3, "tvu", "springer", "delivery", 1),
]


def test_clicks_by_package_page_and_csv_match_hand_counts(boss, sessions):
    add_clicks(sessions, CLICKS)
    html = boss.get(f"/admin/usage/reports/clicks-by-package?{PERIOD}").get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html  # the chart, drawn by the server
    assert "cdn" not in html.lower()
    csv = boss.get(f"/admin/usage/reports/clicks-by-package/csv?{PERIOD}")
    assert csv.mimetype == "text/csv"
    assert "clicks-by-package-2024-01-2024-03.csv" in csv.headers["Content-Disposition"]
    data = csv.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese right
    lines = data.decode("utf-8-sig").splitlines()
    # sd: Jan 3+1, Feb 2; springer: Feb 5, Mar 1; open copies have no package (Feb 4)
    assert lines[0] == "Tháng,Số lượt,Gói"
    assert sorted(lines[1:]) == sorted([
        "2024-01,4,sd", "2024-02,2,sd", "2024-02,5,springer", "2024-02,4,",
        "2024-03,1,springer"])
    english = boss.get(f"/admin/usage/reports/clicks-by-package/csv?{PERIOD}&lang=en")
    assert english.get_data().decode("utf-8-sig").splitlines()[0] == "Month,Count,Package"


def test_clicks_by_kind_pivot_totals(boss, sessions):
    add_clicks(sessions, CLICKS)
    html = boss.get(f"/admin/usage/reports/clicks-by-kind?{PERIOD}&lang=en").get_data(
        as_text=True)
    pivot = html.split('class="pivot"')[1].split("</table>")[0]
    rows = [r for r in pivot.split("<tr>")[2:]]
    # month, delivery, full text, open, total
    assert [cells(r) for r in rows] == [
        ["2024-01", "0", "4", "0", "4"],
        ["2024-02", "0", "7", "4", "11"],
        ["2024-03", "1", "0", "0", "1"],
    ]
    assert "Full text (subscription)" in pivot and "Document delivery" in pivot


def cells(row: str) -> list[str]:
    import re

    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]


def test_turnaways_per_package_and_per_institution(boss, hue_admin, sessions):
    with db.transaction(sessions) as s:
        for inst, n in (("hue", 2), ("tvu", 3)):
            s.add_all(ResolveLog(at=at(2), institution=inst, outcome="turnaway",
                                 package="wiley") for _ in range(n))
        s.add(ResolveLog(at=at(2), institution="hue", outcome="fulltext", package=None))
    every = boss.get(f"/admin/usage/reports/turnaways/csv?{PERIOD}").get_data()
    assert every.decode("utf-8-sig").splitlines()[1:] == ["2024-02,5,wiley"]
    own = hue_admin.get(f"/admin/usage/reports/turnaways/csv?{PERIOD}").get_data()
    assert own.decode("utf-8-sig").splitlines()[1:] == ["2024-02,2,wiley"]


def test_institution_admin_sees_only_their_institution(hue_admin, sessions):
    add_clicks(sessions, CLICKS)
    csv = hue_admin.get(f"/admin/usage/reports/clicks-by-institution/csv?{PERIOD}")
    assert csv.status_code == 200
    assert "clicks-by-institution-hue-" in csv.headers["Content-Disposition"]
    body = csv.get_data().decode("utf-8-sig").splitlines()
    assert sorted(body[1:]) == ["2024-01,3,hue", "2024-02,11,hue"]  # tvu's never appear
    page = hue_admin.get(f"/admin/usage/reports/clicks-detail?{PERIOD}").get_data(as_text=True)
    assert "tvu" not in page.split("<h1>")[1]
    # package-wide cost figures are the whole consortium's: not for an institution admin
    assert hue_admin.get("/admin/usage/reports/cost-per-download").status_code == 403
    assert hue_admin.get("/admin/usage/reports/cost-per-download/csv").status_code == 403
    index = hue_admin.get("/admin/usage").get_data(as_text=True)
    assert "cost-per-download-member" in index and "/reports/cost-per-download?" not in index
    assert hue_admin.get("/admin/usage/reports/nonsense").status_code == 404


def test_every_report_not_consortium_only_is_listed_and_runs_for_an_institution_admin(
        boss, hue_admin, sessions, monkeypatch):
    """The reports are listed once (:data:`resolver.usage.reports.REPORTS`): a report added
    there, not marked consortium-only, is on an institution administrator's page and runs
    restricted to their institution, with no second list to keep in step."""
    add_clicks(sessions, CLICKS)
    extra = dataclasses.replace(reports.REPORTS["clicks-by-institution"], name="clicks-extra",
                                label_vi="Lượt truy cập (thêm)", label_en="Clicks (extra)")
    monkeypatch.setitem(reports.REPORTS, "clicks-extra", extra)
    index = hue_admin.get(f"/admin/usage?{PERIOD}").get_data(as_text=True)
    assert "/admin/usage/reports/clicks-extra?" in index
    csv = hue_admin.get(f"/admin/usage/reports/clicks-extra/csv?{PERIOD}")
    assert csv.status_code == 200
    body = csv.get_data().decode("utf-8-sig").splitlines()
    assert sorted(body[1:]) == ["2024-01,3,hue", "2024-02,11,hue"]  # tvu's never appear
    everyone = boss.get(f"/admin/usage?{PERIOD}").get_data(as_text=True)
    for spec in reports.REPORTS.values():
        assert f"/admin/usage/reports/{spec.name}?" in everyone
        listed = f"/admin/usage/reports/{spec.name}?" in index
        page = hue_admin.get(f"/admin/usage/reports/{spec.name}?{PERIOD}").status_code
        download = hue_admin.get(f"/admin/usage/reports/{spec.name}/csv?{PERIOD}").status_code
        if spec.consortium_only:
            assert (listed, page, download) == (False, 403, 403), spec.name
        else:
            assert (listed, page, download) == (True, 200, 200), spec.name


def test_anonymous_users_are_sent_to_login(anon):
    for url in ("/admin/usage", "/admin/usage/reports/clicks-by-package/csv",
                "/admin/usage/counter", "/admin/usage/costs"):
        res = anon.get(url)
        assert res.status_code == 302 and "/admin/login" in res.headers["Location"]


def test_chart_labels_are_escaped(boss, sessions):
    add_clicks(sessions, [(1, "hue", "<script>x</script>", "fulltext", 1)])
    html = boss.get(f"/admin/usage/reports/clicks-by-package?{PERIOD}").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_bad_period_falls_back_to_twelve_months(boss):
    html = boss.get("/admin/usage/reports/clicks-by-package?from=2024-13").get_data(
        as_text=True)
    assert 'class="flash-error"' in html


def upload_counter(client, name: str, institution: str = "hue", package: str = "sd",
                   data: bytes | None = None):  # type: ignore[no-untyped-def]
    body = data if data is not None else (COUNTER_FIXTURES / name).read_bytes()
    return client.post("/admin/usage/counter", {
        "institution": institution, "package": package,
        "file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


def counter_state(sessions):  # type: ignore[no-untyped-def]
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(CounterImport)),
                {(r.month, r.count) for r in s.scalars(select(CounterMonth).where(
                    CounterMonth.metric == "Total_Item_Requests"))})


def test_counter_upload_stores_figures_and_shows_the_report(boss, sessions):
    res = upload_counter(boss, "tr_j1_sciencedirect_hue_2024.json")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert '<dd id="c-report">TR_J1</dd>' in html and "2024-01 – 2024-03" in html
    assert "3032" in html  # the report's COUNTER exception is shown
    imports, months = counter_state(sessions)
    # Journal of Hydrology 120/80/0 + Aquaculture 30/0/45
    assert imports == 1
    assert months == {(dt.date(2024, 1, 1), 150), (dt.date(2024, 2, 1), 80),
                      (dt.date(2024, 3, 1), 45)}
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "usage.counter_import")).one()
        assert entry.username == "boss" and entry.details["package"] == "sd"
        assert entry.institution_id is not None
    downloads = boss.get(f"/admin/usage/reports/downloads-by-package/csv?{PERIOD}").get_data()
    assert downloads.decode("utf-8-sig").splitlines()[1:] == [
        "2024-01,150,sd", "2024-02,80,sd", "2024-03,45,sd"]


def test_bad_counter_file_shows_problems_and_changes_nothing(boss, sessions):
    upload_counter(boss, "tr_j1_sciencedirect_hue_2024.json")
    before = counter_state(sessions)
    res = upload_counter(boss, "broken.tsv", data=b"Report_Name\tTitle Master Report\n"
                         b"Report_ID\tXX_9\n\nTitle\tMetric_Type\tJan-2024\nA\tTotal\t-3\n")
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert 'class="problems"' in html
    assert counter_state(sessions) == before
    res = upload_counter(boss, "empty.json", data=b"")
    assert res.status_code == 422 and counter_state(sessions) == before


def test_institution_admin_uploads_for_their_institution_only(hue_admin, sessions):
    res = upload_counter(hue_admin, "tr_j1_sciencedirect_hue_2024.json", institution="tvu")
    assert res.status_code == 422
    assert counter_state(sessions)[0] == 0
    res = upload_counter(hue_admin, "tr_j1_sciencedirect_hue_2024.json", institution="hue")
    assert res.status_code == 200 and counter_state(sessions)[0] == 1


def test_cost_per_download_from_uploaded_counter_and_entered_cost(boss, hue_admin, sessions):
    upload_counter(boss, "tr_j1_sciencedirect_hue_2024.json")  # hue: 150 + 80 + 45 = 275
    res = boss.post("/admin/usage/costs", {"package": "sd", "institution": "hue",
                                           "year": "2024", "amount": "2,750.00",
                                           "currency": "USD", "note": "hợp đồng 2024"})
    assert res.status_code == 302
    with sessions() as s:
        cost = s.scalars(select(PackageCost)).one()
        assert (cost.package, cost.institution, cost.year, cost.amount, cost.currency) == (
            "sd", "hue", 2024, Decimal("2750.00"), "USD")
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "usage.cost_set")) == 1
    csv = hue_admin.get("/admin/usage/reports/cost-per-download-member/csv?"
                        "from=2024-01&to=2024-12&lang=en").get_data().decode("utf-8-sig")
    header, row = csv.splitlines()
    assert header.startswith("Year,Package,Institution,Currency,Cost,Downloads")
    assert row.startswith("2024,sd,hue,USD,2750.00,275,10.0000")  # 2750 / 275
    monthly = hue_admin.get("/admin/usage/reports/cost-per-download-member-monthly/csv?"
                            "from=2024-01&to=2024-03&lang=en").get_data().decode("utf-8-sig")
    # March: cost to date 2750·3/12 = 687.50 over 275 downloads = 2.5000; in March
    # (2750/12) / 45 = 5.0926
    march = monthly.splitlines()[3].split(",")
    assert march[0] == "2024-03" and "687.50" in march and "2.5000" in march
    assert "5.0926" in march
    page = hue_admin.get("/admin/usage/reports/cost-per-download-member-monthly?"
                         "from=2024-01&to=2024-03").get_data(as_text=True)
    assert "lh-chart-line" in page


def test_cost_form_refuses_and_changes_nothing(boss, hue_admin, sessions):
    for form in ({"package": "sd", "year": "2024", "amount": "-5", "currency": "USD"},
                 {"package": "sd", "year": "20x4", "amount": "5", "currency": "USD"},
                 {"package": "SD ScienceDirect", "year": "2024", "amount": "5"},
                 {"package": "sd", "year": "2024", "amount": "5", "currency": "EUR"}):
        assert boss.post("/admin/usage/costs", form).status_code == 422
    # an institution admin may not enter the consortium's cost nor another member's
    for inst in ("", "tvu"):
        res = hue_admin.post("/admin/usage/costs", {"package": "sd", "year": "2024",
                                                    "amount": "5", "currency": "USD",
                                                    "institution": inst})
        assert res.status_code == 422
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PackageCost)) == 0
    ok = hue_admin.post("/admin/usage/costs", {"package": "sd", "year": "2024", "amount": "5",
                                               "currency": "VND", "institution": "hue"})
    assert ok.status_code == 302
    assert "tvu" not in hue_admin.get("/admin/usage/costs").get_data(as_text=True).split(
        "<h1>")[1].split("<h2>")[0]
