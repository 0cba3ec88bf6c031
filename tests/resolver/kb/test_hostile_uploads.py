"""Hostile KBART and COUNTER uploads on the admin pages: each class of bad input gets a
clear 422 page in the page's language (Vietnamese, English with ?lang=en), never a 500, and
a refused file changes nothing in the database (compared before and after). On SQLite and
PostgreSQL, which refuse different things (PostgreSQL keeps no NUL and checks lengths)."""

from __future__ import annotations

import copy
import html as htmlmod
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from resolver.accounts.models import AuditEntry
from resolver.kb.models import KbTitle, Package
from resolver.usage.models import CounterImport, CounterMonth, CounterUsage

pytestmark = pytest.mark.usefixtures("cheap_hashes")

HEADER = ("publication_title\tprint_identifier\tonline_identifier\t"
          "date_first_issue_online\tdate_last_issue_online\ttitle_url\ttitle_id\n")
GOOD = "Journal of Hydrology\t0022-1694\t\t1963\t\thttps://example.org/jh\tjh\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"kbart.txt" + bytes(range(256)) * 4


def page_text(res: Any) -> str:
    return htmlmod.unescape(res.get_data(as_text=True))


def problems(res: Any) -> str:
    text = page_text(res)
    assert 'class="problems"' in text, "no problems on the page"
    return text.split('class="problems"', 1)[1].split("</div>", 1)[0]


def kb_state(sessions: Any) -> tuple[Any, ...]:
    """Every package and title row, and the audit log: all a KBART upload may change."""
    with sessions() as s:
        packages = [tuple(r) for r in s.execute(
            select(Package.id, Package.code, Package.name, Package.kind, Package.imported_at,
                   Package.source_file).order_by(Package.id))]
        titles = [tuple(r) for r in s.execute(
            select(KbTitle.id, KbTitle.package_id, KbTitle.row, KbTitle.title,
                   KbTitle.print_id, KbTitle.date_first).order_by(KbTitle.id))]
        audit = s.query(AuditEntry).count()
    return packages, titles, audit


def counter_state(sessions: Any) -> tuple[Any, ...]:
    """Every COUNTER import, figure and monthly sum, and the audit log."""
    with sessions() as s:
        return ([tuple(r) for r in s.execute(select(
                    CounterImport.id, CounterImport.report_id, CounterImport.begin,
                    CounterImport.end).order_by(CounterImport.id))],
                [tuple(r) for r in s.execute(select(
                    CounterUsage.id, CounterUsage.title, CounterUsage.month,
                    CounterUsage.count).order_by(CounterUsage.id))],
                [tuple(r) for r in s.execute(select(
                    CounterMonth.metric, CounterMonth.month, CounterMonth.count)
                    .order_by(CounterMonth.id))],
                s.query(AuditEntry).count())


# --- KBART -----------------------------------------------------------------------------

def upload_kbart(client: Any, data: bytes, lang: str = "vi", **form: str) -> Any:
    return client.post(f"/admin/kb/upload?lang={lang}", {
        # confirmed: a file that replaces titles otherwise asks first (test_confirmations.py)
        "code": "sd", "kind": "subscription", "confirm": "yes", **form,
        "file": (io.BytesIO(data), form.pop("filename", "kbart.txt"))},
        content_type="multipart/form-data")


@pytest.fixture
def loaded(boss, sessions):  # type: ignore[no-untyped-def]
    """Package sd with one title, and the state to compare against."""
    assert upload_kbart(boss, (HEADER + GOOD).encode()).status_code == 200
    return kb_state(sessions)


def refused_kbart(boss: Any, sessions: Any, before: Any, data: bytes, vi: str, en: str) -> None:
    res = upload_kbart(boss, data)
    assert res.status_code == 422, res.status_code
    assert vi in problems(res) and "gói không bị thay đổi" in problems(res)
    res = upload_kbart(boss, data, lang="en")
    assert res.status_code == 422 and en in problems(res)
    assert kb_state(sessions) == before


def test_kbart_in_utf16_cut_in_the_middle_of_a_character(boss, sessions, loaded):
    data = b"\xff\xfe" + (HEADER + GOOD).encode("utf-16-le") + b"\x00\xd8\x41"
    refused_kbart(boss, sessions, loaded, data[:-1],  # an odd number of bytes
                  "tệp văn bản UTF-16 bị cắt giữa một ký tự",
                  "UTF-16 text cut off in the middle of a character")


def test_kbart_in_utf16_with_a_lone_surrogate(boss, sessions, loaded):
    lone = "Tạp chí \ud800 lạ\t\t\t2001\t\thttps://example.org/x\tx\n"
    data = b"\xff\xfe" + (HEADER + GOOD + lone).encode("utf-16-le", "surrogatepass")
    refused_kbart(boss, sessions, loaded, data, "nửa ký tự (surrogate đơn lẻ)",
                  "half of a character (a lone surrogate)")


@pytest.mark.parametrize(("data", "vi", "en"), [
    (PNG, "ảnh PNG", "a PNG image"),
    (ZIP, "tệp nén ZIP hoặc bảng tính Excel", "a ZIP archive or an Excel (.xlsx) workbook"),
], ids=["png", "zip"])
def test_kbart_file_that_is_not_text(boss, sessions, loaded, data, vi, en):
    refused_kbart(boss, sessions, loaded, data, vi, en)


def test_kbart_file_that_is_one_huge_line(boss, sessions, loaded):
    refused_kbart(boss, sessions, loaded, b"publication_title" + b"x" * 3_000_000,
                  "dòng 1 dài hơn 100,000 ký tự", "line 1 is longer than 100,000 characters")


def test_kbart_row_that_is_one_huge_line_is_rejected_not_stored(boss, sessions, loaded):
    huge = "T" * 150_000 + "\t0028-0836\t\t2001\t\thttps://example.org/h\th\n"
    res = upload_kbart(boss, (HEADER + GOOD + huge + GOOD.replace("jh", "jh2")).encode())
    assert res.status_code == 200
    assert "dòng dài hơn 100,000 ký tự" in page_text(res)
    _, titles, _ = kb_state(sessions)
    assert [t[2] for t in titles] == [2, 4] and all(len(t[3]) < 100 for t in titles)


def test_kbart_row_with_a_nul_character_is_rejected(boss, sessions, loaded):
    res = upload_kbart(boss, (HEADER + GOOD + "Bad\x00Title\t\t\t2001\t\t\tb\n").encode(),
                       lang="en")
    assert res.status_code == 200
    assert "NUL character" in page_text(res)
    assert [t[3] for t in kb_state(sessions)[1]] == ["Journal of Hydrology"]


def test_kbart_reimport_of_a_title_with_an_empty_and_a_filled_cell(boss, sessions):
    """Two coverage rows of one title, one with an end date, one without: comparing them
    for the re-import report used to raise TypeError (None < str)."""
    rows = ("Gaps Journal\t1234-5679\t\t\t2000\thttps://example.org/g\tg\n"
            "Gaps Journal\t1234-5679\t\t2005\t\thttps://example.org/g\tg\n")
    assert upload_kbart(boss, (HEADER + rows).encode()).status_code == 200
    res = upload_kbart(boss, (HEADER + rows.replace("2005", "2006")).encode(), lang="en")
    assert res.status_code == 200
    assert '<td class="num" id="n-changed">1</td>' in res.get_data(as_text=True)
    assert "date_first_issue_online" in page_text(res)


def test_kbart_dates_with_a_time_and_one_digit_months(boss, sessions):
    """"2008-5-1 00:00:00" was cut at ten characters into "2008-5-1 0", no date at all."""
    row = "Timed Journal\t1234-5679\t\t2008-5-1 00:00:00\t2010-12-31 00:00\thttps://x.org/t\tt\n"
    res = upload_kbart(boss, (HEADER + row).encode())
    assert res.status_code == 200
    assert [t[5] for t in kb_state(sessions)[1]] == ["2008-5-1"]


def test_kbart_package_name_and_file_name_out_of_bounds(boss, sessions):
    res = upload_kbart(boss, (HEADER + GOOD).encode(), name="Gói " * 200 + "\x00",
                       filename="kbart\x00\u202e.txt")
    assert res.status_code == 200
    (_, _, name, _, _, source), = kb_state(sessions)[0]
    assert len(name) == 300 and "\x00" not in name
    assert source == "kbart.txt"


# --- COUNTER ---------------------------------------------------------------------------

REPORT: dict[str, Any] = {
    "Report_Header": {
        "Report_Name": "Journal Requests (Excluding OA_Gold)", "Report_ID": "TR_J1",
        "Release": "5", "Institution_Name": "Đại học Huế", "Created": "2024-04-03T08:12:45Z",
        "Report_Filters": [{"Name": "Begin_Date", "Value": "2024-01-01"},
                           {"Name": "End_Date", "Value": "2024-02-29"}],
    },
    "Report_Items": [{
        "Title": "Journal of Hydrology", "Platform": "ScienceDirect", "Publisher": "Elsevier",
        "Item_ID": [{"Type": "Print_ISSN", "Value": "0022-1694"}],
        "Performance": [
            {"Period": {"Begin_Date": "2024-01-01", "End_Date": "2024-01-31"},
             "Instance": [{"Metric_Type": "Total_Item_Requests", "Count": 120}]},
            {"Period": {"Begin_Date": "2024-02-01", "End_Date": "2024-02-29"},
             "Instance": [{"Metric_Type": "Total_Item_Requests", "Count": 80}]},
        ],
    }],
}
TABULAR = ("Report_Name\tJournal Requests (Excluding OA_Gold)\nReport_ID\tTR_J1\nRelease\t5\n"
           "Reporting_Period\tBegin_Date=2024-01-01; End_Date=2024-02-29\n\n"
           "Title\tPlatform\tPrint_ISSN\tMetric_Type\tJan-2024\tFeb-2024\n"
           "Journal of Hydrology\tScienceDirect\t0022-1694\tTotal_Item_Requests\t{a}\t{b}\n")


def report(**changes: Any) -> bytes:
    """REPORT with ``changes`` applied: ``count``, ``begin``, ``end``, ``month``,
    ``exceptions``, ``performance``, ``data_type``, ``title``."""
    doc = copy.deepcopy(REPORT)
    item = doc["Report_Items"][0]
    if "count" in changes:
        item["Performance"][0]["Instance"][0]["Count"] = changes["count"]
    if "begin" in changes:
        doc["Report_Header"]["Report_Filters"][0]["Value"] = changes["begin"]
    if "end" in changes:
        doc["Report_Header"]["Report_Filters"][1]["Value"] = changes["end"]
    if "month" in changes:
        item["Performance"][0]["Period"]["Begin_Date"] = changes["month"]
    for key, where in (("exceptions", doc["Report_Header"]), ("performance", item),
                       ("data_type", item), ("title", item)):
        if key in changes:
            where[{"exceptions": "Exceptions", "performance": "Performance",
                   "data_type": "Data_Type", "title": "Title"}[key]] = changes[key]
    # Escaped as a SUSHI server sends it: a lone surrogate can only travel as "\\ud800".
    return json.dumps(doc).encode()


def upload_counter(client: Any, data: bytes, lang: str = "vi") -> Any:
    return client.post(f"/admin/usage/counter?lang={lang}", {
        "institution": "hue", "package": "sd", "file": (io.BytesIO(data), "report.json")},
        content_type="multipart/form-data")


@pytest.fixture
def counted(boss, sessions):  # type: ignore[no-untyped-def]
    """One report imported, and the state to compare against."""
    assert upload_counter(boss, report()).status_code == 200
    return counter_state(sessions)


def refused_counter(boss: Any, sessions: Any, before: Any, data: bytes, vi: str,
                    en: str) -> None:
    res = upload_counter(boss, data)
    assert res.status_code == 422, res.status_code
    assert "Chưa có gì được thay đổi" in problems(res)
    assert vi in problems(res), problems(res)
    res = upload_counter(boss, data, lang="en")
    assert res.status_code == 422 and en in problems(res), problems(res)
    assert counter_state(sessions) == before


def test_counter_in_utf16_cut_in_the_middle_of_a_character(boss, sessions, counted):
    data = b"\xff\xfe" + report().decode().encode("utf-16-le")
    refused_counter(boss, sessions, counted, data[:-1], "bị cắt giữa một ký tự",
                    "cut off in the middle of a character")


def test_counter_in_utf16_with_a_lone_surrogate(boss, sessions, counted):
    text = TABULAR.format(a=5, b=6).replace("Journal of", "Journal \ud800 of")
    data = b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
    refused_counter(boss, sessions, counted, data, "surrogate đơn lẻ", "lone surrogate")


def test_counter_json_nested_100k_deep(boss, sessions, counted):
    data = b'{"Report_Header": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    refused_counter(boss, sessions, counted, data, "JSON lồng nhau quá sâu",
                    "the JSON nests too deeply")


def test_counter_header_nested_deep_within_what_json_reads(boss, sessions, counted):
    doc = json.loads(report())
    doc["Report_Header"]["Report_Attributes"] = json.loads("[" * 400 + "]" * 400)
    refused_counter(boss, sessions, counted, json.dumps(doc).encode(),
                    "lồng nhau sâu hơn 20 tầng", "nests more than 20 levels deep")


@pytest.mark.parametrize(("count", "vi", "en"), [
    (10 ** 30, "lớn hơn 2,147,483,647", "is larger than 2,147,483,647"),
    (1e30, "không phải số nguyên không âm", "not a whole non-negative number"),
    (-5, "số lượt âm", "negative count"),
    (float("nan"), "không phải số nguyên không âm: 'nan'", "'nan'"),
    (float("inf"), "không phải số nguyên không âm: 'inf'", "'inf'"),
    (2.5, "không phải số nguyên không âm", "not a whole non-negative number"),
    ("1" * 5000, "lớn hơn 2,147,483,647", "is larger than 2,147,483,647"),
], ids=["1e30-integer", "1e30-float", "negative", "nan", "infinity", "fraction", "5000-digits"])
def test_counter_json_count_out_of_bounds(boss, sessions, counted, count, vi, en):
    refused_counter(boss, sessions, counted, report(count=count), vi, en)


def test_counter_json_integer_literal_of_5000_digits(boss, sessions, counted):
    data = report(count=7).replace(b'"Count": 7', b'"Count": ' + b"9" * 5000)
    refused_counter(boss, sessions, counted, data, "JSON chứa một số quá dài",
                    "a number too long to read")


def test_counter_month_sums_out_of_bounds(boss, sessions, counted):
    doc = json.loads(report(count=2_000_000_000))
    doc["Report_Items"].append(copy.deepcopy(doc["Report_Items"][0]))
    refused_counter(boss, sessions, counted, json.dumps(doc).encode(),
                    "lớn hơn 2,147,483,647", "add up to 4,000,000,000")


@pytest.mark.parametrize(("changes", "vi", "en"), [
    ({"end": "9999-12-31"}, "9999-12 nằm ngoài khoảng tháng", "9999-12 is outside the months"),
    ({"month": "9999-12-01", "end": "9999-12-31"}, "nằm ngoài khoảng tháng",
     "is outside the months"),
    ({"begin": "0000-00"}, "không phải ngày hợp lệ", "not a date"),
    ({"begin": "2024-13"}, "không phải ngày hợp lệ", "not a date"),
    ({"end": "2999-01-31"}, "2999-01 nằm ngoài", "2999-01 is outside"),
    ({"begin": "1990-01-01"}, "1990-01 nằm ngoài", "1990-01 is outside"),
    ({"begin": "2024-03-01"}, "bắt đầu (2024-03-01) sau khi kết thúc",
     "begins (2024-03-01) after it ends"),
    ({"month": "2023-06-01"}, "ngoài kỳ báo cáo", "outside the reporting period"),
], ids=["end-9999", "row-9999", "0000-00", "2024-13", "far-future", "far-past",
        "begin-after-end", "row-outside-period"])
def test_counter_json_month_out_of_bounds(boss, sessions, counted, changes, vi, en):
    refused_counter(boss, sessions, counted, report(**changes), vi, en)


@pytest.mark.parametrize(("a", "vi", "en"), [
    ("1" + "0" * 30, "lớn hơn 2,147,483,647", "is larger than 2,147,483,647"),
    ("1e30", "không phải số nguyên không âm", "not a whole non-negative number"),
    ("²", "không phải số nguyên không âm", "not a whole non-negative number"),
    ("9" * 5000, "lớn hơn 2,147,483,647", "is larger than 2,147,483,647"),
    ("-3", "số lượt âm", "negative count"),
    ("NaN", "không phải số nguyên không âm", "'NaN'"),
], ids=["1e30", "exponent", "superscript-two", "5000-digits", "negative", "nan"])
def test_counter_tabular_count_out_of_bounds(boss, sessions, counted, a, vi, en):
    data = TABULAR.format(a=a, b=1).encode()
    refused_counter(boss, sessions, counted, data, vi, en)
    assert "dòng 7 (Jan-2024): " in problems(upload_counter(boss, data))  # where, translated


@pytest.mark.parametrize("column", ["Jan-0000", "Dec-9999", "0000-01"])
def test_counter_tabular_month_column_out_of_bounds(boss, sessions, counted, column):
    text = TABULAR.format(a=1, b=2).replace("Feb-2024", column)
    refused_counter(boss, sessions, counted, text.encode(), "nằm ngoài khoảng tháng",
                    "is outside the months a report may cover")


def test_counter_tabular_huge_single_line(boss, sessions, counted):
    text = TABULAR.format(a=1, b=2) + "x" * 300_000
    refused_counter(boss, sessions, counted, text.encode(), "không đọc được dưới dạng TSV",
                    "cannot be read as TSV")


@pytest.mark.parametrize(("data", "vi", "en"), [
    (PNG, "ảnh PNG", "a PNG image"),
    (ZIP, "tệp nén ZIP", "a ZIP archive"),
    (b"Report_ID\tTR_J1\x00\n", "ký tự NUL", "NUL characters"),
], ids=["png", "zip", "nul"])
def test_counter_file_that_is_not_text(boss, sessions, counted, data, vi, en):
    refused_counter(boss, sessions, counted, data, vi, en)


@pytest.mark.parametrize("title", ["Bad \x00 Title", "Half \ud800 Title"], ids=["nul", "surrogate"])
def test_counter_json_strings_no_database_keeps(boss, sessions, counted, title):
    refused_counter(boss, sessions, counted, report(title=title), "ký tự NUL hoặc nửa ký tự",
                    "NUL characters or half characters")


def test_counter_json_escaped_characters_outside_the_bmp_are_fine(boss, sessions):
    res = upload_counter(boss, report(title="Tạp chí \U0001F30F"))  # sent as "\\ud83c\\udf0f"
    assert res.status_code == 200
    assert counter_state(sessions)[1][0][1] == "Tạp chí \U0001F30F"


def test_counter_json_metadata_of_the_wrong_type_is_left_aside(boss, sessions):
    """Exceptions that are no list, an exception code of Infinity (which JSON cannot even
    store again): the figures are imported, the odd metadata kept as text."""
    res = upload_counter(boss, report(exceptions=5))
    assert res.status_code == 200
    res = upload_counter(boss, report(exceptions=[{"Code": float("inf"), "Message": "x"}]))
    assert res.status_code == 200 and "0: x" in page_text(res)
    assert len(counter_state(sessions)[0]) == 2


def test_counter_json_figures_of_the_wrong_type(boss, sessions, counted):
    refused_counter(boss, sessions, counted, report(performance=5), "phải là một danh sách",
                    "must be a list")


def test_counter_long_attribute_values_are_cut_to_their_columns(boss, sessions):
    res = upload_counter(boss, report(data_type="Journal" * 20))
    assert res.status_code == 200
    assert counter_state(sessions)[1][0][3] == 120


def test_report_period_out_of_bounds_falls_back(boss):
    for period in ("from=9999-01&to=9999-12", "from=0001-01&to=0001-12", "from=2024-13"):
        res = boss.get(f"/admin/usage/reports/clicks-by-package?{period}")
        assert res.status_code == 200 and 'class="flash-error"' in res.get_data(as_text=True)
