"""CSV downloads and SVG charts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest

from resolver.usage import charts
from resolver.usage.reports import REPORTS, reports_for, run_report, to_table
from resolver.usage.rollup import MonthCount
from resolver.usage.tables import csv_bytes

D = dt.date
SVG = "{http://www.w3.org/2000/svg}"


def test_csv_has_bom_labels_and_escaping():
    rows = [MonthCount(D(2024, 1, 1), 7, institution="Đại học Huế", package='sd, "A"'),
            MonthCount(D(2024, 2, 1), 3, institution="hue\nline", package=None)]
    table = to_table("clicks-by-package", rows)
    data = csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Tháng,Số lượt,Thư viện,Gói"
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["2024-01", "7", "Đại học Huế", 'sd, "A"']
    assert parsed[2] == ["2024-02", "3", "hue\nline", ""]
    assert '"sd, ""A"""' in text and "\r\n" in text
    en = csv_bytes(table, lang="en").decode("utf-8-sig")
    assert en.splitlines()[0] == "Month,Count,Institution,Package"
    assert (table.label_vi, table.label_en) == ("Lượt truy cập theo gói", "Clicks by package")


def test_every_report_is_named_in_both_languages():
    for spec in REPORTS.values():
        assert spec.label_vi and spec.label_en and spec.label_vi != spec.label_en


def test_consortium_only_reports_are_the_package_wide_costs():
    """What an institution administrator sees is derived from the one list: every report
    but the consortium-only ones, which are the figures of whole packages."""
    only = {s.name for s in REPORTS.values() if s.consortium_only}
    assert only == {"cost-per-download", "cost-per-download-monthly"}
    assert [s.name for s in reports_for("hue")] == [n for n in REPORTS if n not in only]
    assert [s.name for s in reports_for(None)] == list(REPORTS)


def test_a_consortium_only_report_refuses_to_run_for_an_institution(seeded):
    """Package-wide costs for one member would be the consortium's figures under the
    member's name: refused, not silently shown."""
    with seeded() as s:
        for name in ("cost-per-download", "cost-per-download-monthly"):
            with pytest.raises(ValueError, match="cannot be restricted"):
                run_report(s, name, D(2024, 1, 1), D(2024, 3, 1), ["hue"])


def test_run_report_to_csv(seeded):
    with seeded() as s:
        table = run_report(s, "clicks-by-kind", D(2024, 3, 1), D(2024, 3, 1))
    text = csv_bytes(table, lang="en").decode("utf-8-sig")
    assert text.splitlines() == ["Month,Count,Kind", "2024-03,1,delivery", "2024-03,42,fulltext",
                                 "2024-03,2,open"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def test_bar_chart_is_valid_accessible_svg():
    months = [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    svg = charts.bar_chart(months, {"<sd> & co": [1, 2, 3], "Đại học Huế": [4, 0, 6]},
                           title="Lượt truy cập <2024>")
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Lượt truy cập <2024>"
    desc = root.find(f"{SVG}desc").text
    assert "<sd> & co — 01/2024: 1, 02/2024: 2, 03/2024: 3" in desc
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 6
    assert rects[0].find(f"{SVG}title").text == "<sd> & co, 01/2024: 1"
    # stacked: March is 3 + 6 = 9 on an axis up to 10
    assert float(rects[-1].get("height")) + float(rects[-2].get("height")) > 0
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "10" in labels and "01/2024" in labels and "Đại học Huế" in labels
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_line_chart_gaps_and_empty():
    months = [D(2024, m, 1) for m in range(1, 5)]
    root = parse(charts.line_chart(months, {"cpd": [2.5, None, 1.25, 1.0]}, title="x"))
    (path,) = root.iter(f"{SVG}path")
    assert path.get("d").count("M") == 2  # the gap starts a new segment
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    parse(charts.line_chart([], {}, title="empty"))
    parse(charts.bar_chart([], {}, title="empty"))


def test_nice_max():
    assert [charts.nice_max(v) for v in (0, 7, 10, 11, 48142, 0.3)] == [1, 10, 10, 20, 50000,
                                                                         0.5]
