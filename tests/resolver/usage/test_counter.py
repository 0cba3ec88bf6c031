"""COUNTER R5/R5.1 parsing (JSON and tabular) and import, with real-shaped files."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.usage.counter import CounterError, parse_counter
from resolver.usage.counter_import import import_counter
from resolver.usage.counts import counter_downloads
from resolver.usage.models import CounterImport, CounterUsage
from tests.support.usage import FIXTURES

D = dt.date


def load(name: str):  # type: ignore[no-untyped-def]
    return parse_counter((FIXTURES / name).read_bytes())


def totals(report, metric="Total_Item_Requests"):  # type: ignore[no-untyped-def]
    out: dict = {}
    for r in report.rows:
        if r.metric == metric:
            out[r.month] = out.get(r.month, 0) + r.count
    return out


def test_tr_j1_json():
    rep = load("tr_j1_sciencedirect_hue_2024.json")
    assert (rep.report_id, rep.release, rep.institution_name, rep.customer_id) == (
        "TR_J1", "5", "Đại học Huế", "ECR-00012345")
    assert (rep.begin, rep.end) == (D(2024, 1, 1), D(2024, 3, 31))
    assert rep.months == [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    # Journal of Hydrology 120/80/0, Aquaculture 30/-/45
    assert totals(rep) == {D(2024, 1, 1): 150, D(2024, 2, 1): 80, D(2024, 3, 1): 45}
    assert totals(rep, "Unique_Item_Requests") == {D(2024, 1, 1): 120, D(2024, 2, 1): 70,
                                                   D(2024, 3, 1): 40}
    hydro = next(r for r in rep.rows if r.title == "Journal of Hydrology")
    assert (hydro.issn, hydro.eissn, hydro.platform) == ("0022-1694", "1879-2707",
                                                         "ScienceDirect")
    assert [(e.code, e.severity) for e in rep.exceptions] == [(3032, "Warning")]
    assert all(r.count > 0 for r in rep.rows)  # zeros are dropped


def test_tr_j1_tabular_tsv():
    rep = load("tr_j1_springer_ctu_2024.tsv")
    assert (rep.report_id, rep.institution_name) == ("TR_J1", "Trường Đại học Cần Thơ")
    assert rep.customer_id == "SpringerLink:3000123456"
    # "1,000" with a thousands separator, a quoted title with a comma and quotes
    assert totals(rep) == {D(2024, 1, 1): 1010, D(2024, 2, 1): 20, D(2024, 3, 1): 35}
    assert any(r.title == 'Mekong Delta Studies, "Special" Series' for r in rep.rows)
    assert [(e.code, e.message, e.data) for e in rep.exceptions] == [
        (3031, "Usage Not Ready for Requested Dates", "Usage for 2024-04 not yet available")]


def test_tr_master_csv_with_yop_and_books():
    rep = load("tr_springer_ctu_2024.csv")
    assert rep.report_id == "TR"
    book = next(r for r in rep.rows if r.data_type == "Book")
    assert (book.title, book.isbn, book.yop, book.doi) == (
        "Thủy văn học, tập 2", "9783030000004", "2019", "10.1007/978-3-030-00000-1")
    assert totals(rep, "Total_Item_Investigations") == {D(2024, 1, 1): 7, D(2024, 2, 1): 8}


def test_dr_json_and_csv():
    rep = load("dr_proquest_hue_2024.json")
    assert rep.report_id == "DR"
    assert {r.title for r in rep.rows} == {"ProQuest Central"}
    assert totals(rep, "Searches_Regular") == {D(2024, 1, 1): 400, D(2024, 2, 1): 310}
    rep2 = load("dr_proquest_nasati_2024.csv")  # CRLF line ends
    assert rep2.institution_name == "Cục Thông tin KH&CN Quốc gia"
    assert totals(rep2) == {D(2024, 1, 1): 12}


def test_r51_json():
    rep = load("tr_j1_r51_ieee_vnu_2024.json")
    assert (rep.release, rep.begin, rep.end) == ("5.1", D(2024, 11, 1), D(2024, 12, 1))
    assert totals(rep) == {D(2024, 11, 1): 14, D(2024, 12, 1): 6}
    assert rep.rows[0].issn == "0885-8950"


def test_exception_only_report():
    rep = load("exception_3030.json")
    assert rep.rows == [] and [e.code for e in rep.exceptions] == [3030]


@pytest.mark.parametrize("text, where", [
    ('{"Report_Header": {"Report_ID": "PR"}}', "Report_Header.Report_ID"),
    ('{"Report_Header": {"Report_ID": "TR_J1"}, "Report_Items": [{"Title": "x", '
     '"Performance": [{"Period": {"Begin_Date": "2024-01-01"}, "Instance": '
     '[{"Metric_Type": "Total_Item_Requests", "Count": -3}]}]}]}',
     "Report_Items[0].Performance[0].Instance[0].Count"),
    ("{not json", "line 1"),
])
def test_json_errors_say_where(text, where):
    with pytest.raises(CounterError) as exc:
        parse_counter(text)
    assert exc.value.problems[0].where == where


def test_tabular_errors_give_the_line():
    text = (FIXTURES / "tr_j1_springer_ctu_2024.tsv").read_text(encoding="utf-8")
    bad = text.replace("\t10\t20\t30", "\t10\tmười\t30")
    with pytest.raises(CounterError) as exc:
        parse_counter(bad)
    assert str(exc.value.problems[0]) == "line 15 (Feb-2024): not a whole non-negative " \
                                         "number: 'mười'"
    with pytest.raises(CounterError, match="no Report_ID"):
        parse_counter("Title\tMetric_Type\nx\ty\n")


def test_utf16_excel_export():
    text = (FIXTURES / "tr_j1_springer_ctu_2024.tsv").read_text(encoding="utf-8")
    rep = parse_counter(text.encode("utf-16"))
    assert rep.institution_name == "Trường Đại học Cần Thơ"


def test_import_is_idempotent_and_reports_downloads(sessions):
    rep = load("tr_j1_sciencedirect_hue_2024.json")
    with db.transaction(sessions) as s:
        first = import_counter(s, rep, institution="hue", package="sd", source="a.json")
    with db.transaction(sessions) as s:
        again = import_counter(s, rep, institution="hue", package="sd", source="a.json")
        import_counter(s, load("tr_j1_springer_ctu_2024.tsv"), institution="ctu",
                       package="springer", source="b.tsv")
        import_counter(s, load("dr_proquest_hue_2024.json"), institution="hue",
                       package="proquest")
        import_counter(s, load("exception_3030.json"), institution="hue",
                       package="tandf")
    assert (first.rows, first.replaced, again.replaced) == (8, 0, 8)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CounterUsage).where(
            CounterUsage.package == "sd")) == 8
        imports = s.scalars(select(CounterImport).order_by(CounterImport.id)).all()
        assert imports[0].exceptions[0]["Code"] == 3032
        assert imports[-1].exceptions[0]["Code"] == 3030 and imports[-1].rows == 0
        got = counter_downloads(s, start=D(2024, 1, 1), end=D(2024, 3, 1),
                                by=("package",))
        dr = counter_downloads(s, start=D(2024, 1, 1), end=D(2024, 3, 1),
                               by=("institution",), reports=["DR"])
    assert {(r.month, r.package): r.count for r in got} == {
        (D(2024, 1, 1), "sd"): 150, (D(2024, 2, 1), "sd"): 80, (D(2024, 3, 1), "sd"): 45,
        (D(2024, 1, 1), "springer"): 1010, (D(2024, 2, 1), "springer"): 20,
        (D(2024, 3, 1), "springer"): 35}
    assert {(r.month, r.institution): r.count for r in dr} == {
        (D(2024, 1, 1), "hue"): 150, (D(2024, 2, 1), "hue"): 90}
