"""`lienhop usage import-counter` (and `usage report`) with hostile input: each class ends
with a clear message and a non-zero exit, never a traceback, and a refused file changes
nothing in the database (compared before and after). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from resolver import db
from resolver.usage.models import CounterImport, CounterMonth, CounterUsage
from tests.support.usage import FIXTURES

JSON_REPORT = FIXTURES / "tr_j1_sciencedirect_hue_2024.json"
TSV_REPORT = FIXTURES / "tr_j1_springer_ctu_2024.tsv"


@pytest.fixture
def cli(runner, db_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The CLI on a fresh database holding one imported report."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    runner.tmp = tmp_path
    runner.engine = db.make_engine(db_url)
    res = runner.invoke("usage", "import-counter", str(JSON_REPORT), "--institution", "hue",
                        "--package", "sd")
    assert res.exit_code == 0, res.output
    yield runner
    runner.engine.dispose()


def state(engine: Any) -> tuple[Any, ...]:
    with db.session_factory(engine)() as s:
        return ([tuple(r) for r in s.execute(select(CounterImport.id, CounterImport.report_id))],
                [tuple(r) for r in s.execute(select(CounterUsage.id, CounterUsage.count))],
                [tuple(r) for r in s.execute(select(CounterMonth.month, CounterMonth.count))])


def refused(cli: Any, data: bytes, why: str, *, package: str = "sd") -> None:
    path = Path(cli.tmp) / "report.txt"
    path.write_bytes(data)
    before = state(cli.engine)
    res = cli.invoke("usage", "import-counter", str(path), "--institution", "hue",
                     "--package", package)
    assert res.exit_code == 1, res.output
    assert why in res.output and "Traceback" not in res.output
    assert state(cli.engine) == before


def json_report(**edit: Any) -> bytes:
    doc = json.loads(JSON_REPORT.read_text(encoding="utf-8"))
    first = doc["Report_Items"][0]["Performance"][0]
    if "count" in edit:
        first["Instance"][0]["Count"] = edit["count"]
    if "end" in edit:
        doc["Report_Header"]["Report_Filters"][4]["Value"] = edit["end"]
    return json.dumps(doc).encode()


def test_utf16_cut_in_the_middle_of_a_character(cli):
    data = b"\xff\xfe" + TSV_REPORT.read_text(encoding="utf-8").encode("utf-16-le")
    refused(cli, data[:-1], "cut off in the middle of a character")


def test_utf16_with_a_lone_surrogate(cli):
    text = TSV_REPORT.read_text(encoding="utf-8").replace("Mekong", "Mek\udc00ong")
    refused(cli, b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass"), "lone surrogate")


def test_json_nested_100k_deep(cli):
    refused(cli, b"[" * 100_000 + b"]" * 100_000, "nests too deeply")


@pytest.mark.parametrize(("count", "why"), [
    (10 ** 30, "is larger than 2,147,483,647"), (-1, "negative count"),
    (float("nan"), "not a whole non-negative number: 'nan'"),
    (float("inf"), "not a whole non-negative number: 'inf'"),
    (0.5, "not a whole non-negative number: '0.5'"),
], ids=["1e30", "negative", "nan", "infinity", "fraction"])
def test_json_count_out_of_bounds(cli, count, why):
    refused(cli, json_report(count=count), why)


@pytest.mark.parametrize(("end", "why"), [
    ("9999-12-31", "9999-12 is outside the months a report may cover"),
    ("0000-00", "not a date"),
    ("2024-13", "not a date"),
], ids=["9999-12", "0000-00", "2024-13"])
def test_json_month_out_of_bounds(cli, end, why):
    refused(cli, json_report(end=end), why)


@pytest.mark.parametrize(("old", "new", "why"), [
    ("\t10\t20\t30", "\t10\t" + "2" + "0" * 30 + "\t30", "is larger than 2,147,483,647"),
    ("\t10\t20\t30", "\t10\t²\t30", "not a whole non-negative number: '²'"),
    ("Jan-2024", "Jan-0000", "'Jan-0000' is outside the months a report may cover"),
    ("Mar-2024", "Dec-9999", "'Dec-9999' is outside the months a report may cover"),
], ids=["1e30", "superscript-two", "jan-0000", "dec-9999"])
def test_tabular_out_of_bounds(cli, old, new, why):
    text = TSV_REPORT.read_text(encoding="utf-8")
    assert old in text
    refused(cli, text.replace(old, new, 1).encode(), why)


def test_tabular_huge_single_line(cli):
    text = TSV_REPORT.read_text(encoding="utf-8")
    refused(cli, (text + "x" * 500_000).encode(), "cannot be read as TSV")


def test_file_that_is_not_text(cli):
    refused(cli, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "a PNG image")


def test_package_code_longer_than_its_column(cli):
    refused(cli, JSON_REPORT.read_bytes(), "use lower-case letters", package="p" * 100)


def test_report_period_out_of_bounds(cli):
    res = cli.invoke("usage", "report", "downloads-by-package", "--from", "9999-01",
                     "--to", "9999-12")
    assert res.exit_code == 2 and "a month from 2000-01 to" in res.output
