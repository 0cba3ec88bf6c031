"""`lienhop kb import` names every rejected row (line number and reason) on every path:
some rows rejected, every row rejected, --strict refusal, a file that is not KBART, and
10,000 rejected rows (all printed, each line short, the summary last). A refused file
changes nothing in the knowledge base."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from resolver import db
from resolver.kb.errors import KbError
from resolver.kb.importer import import_kbart
from resolver.kb.kbart import parse_kbart
from resolver.kb.models import KbTitle, Package
from resolver.settings import load_settings

HEADER = ("publication_title\tprint_identifier\tonline_identifier\t"
          "date_first_issue_online\ttitle_url\ttitle_id\n")
GOOD = "Journal of Hydrology\t0022-1694\t\t1963\thttps://example.org/jh\tjh\n"
GOOD2 = "Tạp chí Khoa học\t1859-3100\t\t2010\thttps://example.org/tckh\ttckh\n"
BAD_ISSN = "Broken ISSN Journal\t1234-5678\t\t2001\thttps://example.org/b\tb\n"
NO_TITLE = "\t\t\t2001\thttps://example.org/n\t\n"
BAD_DATE = "Bad Date Journal\t\t\t20xx\thttps://example.org/d\td\n"

# (English reason fragment, Vietnamese reason fragment) of each bad row above
WHY_ISSN = ("print_identifier: ISSN '1234-5678' has a wrong check digit", "sai số kiểm tra")
WHY_TITLE = ("no publication_title", "thiếu tên ấn phẩm")
WHY_DATE = ("date_first_issue_online: '20xx' is not a date", "không phải ngày hợp lệ")

REJECTED = re.compile(r"^  rejected line (\d+): (.*)$")


@pytest.fixture
def kb(runner, lienhop_env, tmp_path):  # type: ignore[no-untyped-def]
    """The CLI on a fresh SQLite instance, with package ``sd`` loaded from two good rows."""
    runner.tmp = tmp_path
    res = invoke(runner, "sd", HEADER + GOOD + GOOD2, "--name", "ScienceDirect")
    assert res.exit_code == 0, res.output
    runner.engine = db.make_engine(load_settings().database_url)
    return runner


def invoke(runner, package: str, text: str, *args: str):  # type: ignore[no-untyped-def]
    path = runner.tmp / f"kbart-{abs(hash(text))}.tsv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke("kb", "import", package, str(path), *args)


def state(engine, code: str = "sd"):  # type: ignore[no-untyped-def]
    """Everything an import may change about a package (None when there is no package)."""
    with db.transaction(db.session_factory(engine)) as s:
        pkg = s.scalar(select(Package).where(Package.code == code))
        if pkg is None:
            return None
        rows = s.execute(select(KbTitle.row, KbTitle.title, KbTitle.print_id)
                         .where(KbTitle.package_id == pkg.id).order_by(KbTitle.row)).all()
        return (pkg.name, pkg.kind, pkg.imported_at, pkg.source_file, [tuple(r) for r in rows])


def rejected_lines(output: str) -> dict[int, str]:
    found = {}
    for line in output.splitlines():
        m = REJECTED.match(line)
        if m:
            assert int(m.group(1)) not in found, f"line {m.group(1)} reported twice"
            found[int(m.group(1))] = m.group(2)
    return found


def assert_reasons(output: str, expected: dict[int, tuple[str, str]]) -> None:
    got = rejected_lines(output)
    assert sorted(got) == sorted(expected), output
    for line, (en, vi) in expected.items():
        assert en in got[line] and vi in got[line], (line, got[line])


def test_some_rows_rejected_each_named_and_the_summary_last(kb):
    res = invoke(kb, "sd", HEADER + GOOD + BAD_ISSN + NO_TITLE + BAD_DATE + GOOD2)
    assert res.exit_code == 0, res.output
    assert_reasons(res.output, {3: WHY_ISSN, 4: WHY_TITLE, 5: WHY_DATE})
    last = res.output.rstrip("\n").splitlines()[-1]
    assert "2 rows from" in last and "rows rejected: 3" in last


def test_every_row_rejected_names_each_row_and_changes_nothing(kb):
    before = state(kb.engine)
    res = invoke(kb, "sd", HEADER + BAD_ISSN + NO_TITLE + BAD_DATE, "--name", "Renamed")
    assert res.exit_code == 2, res.output
    assert_reasons(res.output, {2: WHY_ISSN, 3: WHY_TITLE, 4: WHY_DATE})
    last = res.output.rstrip("\n").splitlines()[-1]
    assert "3 rows rejected" in last and "not changed" in last
    assert "not changed" in res.stderr
    assert state(kb.engine) == before
    # a new package is not created either
    res = invoke(kb, "brand-new", HEADER + BAD_ISSN + NO_TITLE + BAD_DATE)
    assert res.exit_code == 2 and len(rejected_lines(res.output)) == 3
    assert state(kb.engine, "brand-new") is None


def test_strict_names_the_rejected_row_and_changes_nothing(kb):
    before = state(kb.engine)
    res = invoke(kb, "sd", HEADER + GOOD + BAD_DATE + GOOD2, "--strict", "--name", "Renamed")
    assert res.exit_code == 2, res.output
    assert_reasons(res.output, {3: WHY_DATE})
    last = res.output.rstrip("\n").splitlines()[-1]
    assert "1 rows rejected" in last and "--strict" in last and "not changed" in last
    assert state(kb.engine) == before
    # the same file without --strict loads the good rows and still names the bad one
    res = invoke(kb, "sd", HEADER + GOOD + BAD_DATE + GOOD2)
    assert res.exit_code == 0 and rejected_lines(res.output).keys() == {3}


def test_strict_dry_run_refuses_the_same_way(kb):
    before = state(kb.engine)
    res = invoke(kb, "sd", HEADER + BAD_ISSN + GOOD, "--strict", "--dry-run")
    assert res.exit_code == 2
    assert_reasons(res.output, {2: WHY_ISSN})
    assert state(kb.engine) == before


@pytest.mark.parametrize(("text", "line"), [
    ("<html><body>502 Bad Gateway</body></html>\n", 1),
    ("\n\n<html><body>502 Bad Gateway</body></html>\n<p>x</p>\n", 3),
    ("publication_title,print_identifier,online_identifier,title_url\n"
     "Journal of Hydrology,0022-1694,,https://example.org/jh\n", 1),
])
def test_not_kbart_names_the_header_line_and_changes_nothing(kb, text, line):
    before = state(kb.engine)
    res = invoke(kb, "sd", text)
    assert res.exit_code == 2, res.output
    got = rejected_lines(res.output)
    assert list(got) == [line], res.output
    assert "no KBART header row" in got[line] and "tiêu đề KBART" in got[line]
    last = res.output.rstrip("\n").splitlines()[-1]
    assert "not a KBART file" in last and "not changed" in last
    assert state(kb.engine) == before


@pytest.mark.parametrize("with_good_row", [False, True], ids=["refused", "loaded"])
def test_ten_thousand_rejected_rows_all_printed_short_and_summary_last(kb, with_good_row):
    n = 10_000
    huge = "9" * 3000  # a pasted blob in an identifier cell must not blow up each reason
    bad = [f"Blob {i}\t{huge}\t\t2001\thttps://example.org/{i}\t{i}\n" if i % 2 else
           f"Dated {i}\t\t\t{huge}\thttps://example.org/{i}\t{i}\n" for i in range(n)]
    first = 2 + with_good_row
    res = invoke(kb, "sd", HEADER + (GOOD if with_good_row else "") + "".join(bad))
    assert res.exit_code == (0 if with_good_row else 2), res.output[-2000:]
    got = rejected_lines(res.output)
    assert list(got) == list(range(first, first + n))  # every row, in file order
    assert "is not an ISSN" in got[first + 1] and "is not a date" in got[first]
    assert max(len(line) for line in res.output.splitlines()) < 600
    last = res.output.rstrip("\n").splitlines()[-1]
    assert f"{n} rows rejected" in last or f"rows rejected: {n}" in last
    if not with_good_row:
        assert state(kb.engine)[4] == [(2, "Journal of Hydrology", "0022-1694"),
                                       (3, "Tạp chí Khoa học", "1859-3100")]


def test_reasons_stay_short_whatever_the_cell():
    """Each rejected row costs bounded memory: reasons quote at most a prefix of a cell."""
    huge = "x" * 100_000
    rows = [f"T\t{huge}\t\t\t\t\n", f"T\t\t{'1' * 100_000}\t\t\t\n", f"T\t\t\t{huge}\t\t\n",
            f"T\t\t\t\t{huge}\t\n", f"T\t\t\t2001\t\t\t{huge}\n"]
    header = HEADER.rstrip("\n") + "\tembargo_info\n"
    parsed = parse_kbart((header + "".join(rows)).encode())
    assert len(parsed.rejected) == len(rows) and not parsed.titles
    for r in parsed.rejected:
        assert len(r.reason_en) < 300 and len(r.reason_vi) < 300, r.reason_en[:80]
        assert len(r.raw) <= 500


def test_import_api_refusal_carries_the_rejected_rows(kb):
    data = (HEADER + GOOD + BAD_DATE).encode()
    with db.transaction(db.session_factory(kb.engine)) as s:
        with pytest.raises(KbError) as exc:
            import_kbart(s, "sd", data, strict=True)
        assert [r.row for r in exc.value.rejected] == [3]
        assert "1 rows rejected" in str(exc.value) and exc.value.message_vi
        with pytest.raises(KbError) as exc:
            import_kbart(s, "sd", b"<html>502</html>\n")
        assert [r.row for r in exc.value.rejected] == [1]
        assert "tiêu đề KBART" in exc.value.rejected[0].reason_vi


def test_a_file_that_cannot_be_read_is_still_a_plain_error(kb):
    res = kb.invoke("kb", "import", "sd", str(Path(kb.tmp) / "missing.tsv"))
    assert res.exit_code == 1 and "cannot read" in res.output
