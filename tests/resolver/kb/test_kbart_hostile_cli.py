"""`lienhop kb import` with hostile files: each class of bad input ends with a clear message
and exit code 2, never a traceback, and changes nothing in the database (compared before and
after); inputs that used to crash a re-import now import. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from resolver import db
from resolver.kb.models import KbTitle, Package

HEADER = ("publication_title\tprint_identifier\tonline_identifier\t"
          "date_first_issue_online\tdate_last_issue_online\ttitle_url\ttitle_id\n")
GOOD = "Journal of Hydrology\t0022-1694\t\t1963\t\thttps://example.org/jh\tjh\n"


@pytest.fixture
def kb(runner, db_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The CLI on a fresh database, package ``sd`` loaded with one title."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    runner.tmp = tmp_path
    runner.engine = db.make_engine(db_url)
    res = invoke(runner, (HEADER + GOOD).encode())
    assert res.exit_code == 0, res.output
    yield runner
    runner.engine.dispose()


def invoke(runner: Any, data: bytes, *args: str) -> Any:
    path = Path(runner.tmp) / f"kbart-{abs(hash(data))}.txt"
    path.write_bytes(data)
    return runner.invoke("kb", "import", "sd", str(path), *args)


def state(engine: Any) -> tuple[Any, ...]:
    with db.session_factory(engine)() as s:
        return ([tuple(r) for r in s.execute(select(
                    Package.id, Package.code, Package.name, Package.imported_at,
                    Package.source_file).order_by(Package.id))],
                [tuple(r) for r in s.execute(select(
                    KbTitle.id, KbTitle.row, KbTitle.title, KbTitle.date_first)
                    .order_by(KbTitle.id))])


def refused(kb: Any, data: bytes, why: str, *args: str) -> None:
    before = state(kb.engine)
    res = invoke(kb, data, *args)
    assert res.exit_code == 2, res.output
    assert why in res.output and "the package was not changed" in res.output
    assert "Traceback" not in res.output
    assert state(kb.engine) == before


def test_utf16_cut_in_the_middle_of_a_character(kb):
    data = b"\xff\xfe" + (HEADER + GOOD).encode("utf-16-le")
    refused(kb, data + b"\x41", "UTF-16 text cut off in the middle of a character")


def test_utf16_with_a_lone_surrogate(kb):
    text = HEADER + "Tạp chí \ud800\t\t\t2001\t\thttps://example.org/x\tx\n"
    refused(kb, b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass"),
            "half of a character (a lone surrogate)")


@pytest.mark.parametrize(("data", "why"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "a PNG image"),
    (b"PK\x03\x04\x14\x00\x00\x00" + bytes(range(256)) * 4, "a ZIP archive"),
    (b"\x00\x01\x02\x03" * 1000, "binary data (NUL bytes"),
], ids=["png", "zip", "nul-bytes"])
def test_file_that_is_not_text(kb, data, why):
    refused(kb, data, why)


def test_file_that_is_one_huge_line(kb):
    refused(kb, b"publication_title\t" + b"y" * 2_000_000, "longer than 100,000 characters")


def test_template_longer_than_its_column(kb):
    refused(kb, (HEADER + GOOD).encode(), "at most 1000 characters",
            "--article-template", "https://doi.org/" + "x" * 1000 + "{doi}")


def test_reimport_of_a_title_with_an_empty_and_a_filled_cell(kb):
    """Two coverage rows of one title, one with an end date and one without: sorting them
    for the report raised TypeError (None < str), a traceback for every such re-import."""
    rows = ("Gaps Journal\t1234-5679\t\t\t2000\thttps://example.org/g\tg\n"
            "Gaps Journal\t1234-5679\t\t2005\t\thttps://example.org/g\tg\n")
    assert invoke(kb, (HEADER + rows).encode()).exit_code == 0
    res = invoke(kb, (HEADER + rows.replace("2005", "2006")).encode())
    assert res.exit_code == 0, res.output
    assert "changed: Gaps Journal (date_first_issue_online)" in res.output
    assert "changed: 1," in res.output.splitlines()[-1]


def test_dates_with_a_time_and_one_digit_months(kb):
    row = "Timed Journal\t1234-5679\t\t2008-5-1 00:00:00\t2010-12-31\thttps://x.org/t\tt\n"
    res = invoke(kb, (HEADER + row).encode())
    assert res.exit_code == 0, res.output
    assert [r[3] for r in state(kb.engine)[1]] == ["2008-5-1"]
