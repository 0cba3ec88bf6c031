"""The streamed KBART import (rows written as they are read, kept in place on SQLite, copied
on PostgreSQL) stores exactly what a parse of the file says, counts every change even past
the titles the report names, and a refusal leaves the package as it was even when the
caller commits afterwards. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from sqlalchemy import select

from resolver import db
from resolver.kb.errors import KbError
from resolver.kb.importer import REPORT_SAMPLE, import_kbart
from resolver.kb.kbart import parse_kbart
from resolver.kb.models import KbTitle, Package
from resolver.kb.rows import kbart_row
from resolver.kb.snapshot import load_kb_snapshot

HEADER = ("publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\t"
          "date_last_issue_online\ttitle_url\ttitle_id\tembargo_info\tpublisher_name\tzdb_id\n")
N = 1500


def issn(n: int) -> str:
    body = f"{n:07d}"
    check = (11 - sum((8 - i) * int(c) for i, c in enumerate(body)) % 11) % 11
    return f"{body[:4]}-{body[4:]}{'X' if check == 10 else check}"


def row(i: int, first: str = "2001") -> str:
    return (f"Tạp chí số {i}\t{issn(2 * i)}\t{issn(2 * i + 1)}\t{first}\t\t"
            f"https://example.org/{i}\tt{i}\t{'P1Y' if i % 3 else ''}\tNXB {i % 7}\tz{i}\n")


def package_text(rows: list[str]) -> bytes:
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def sessions(db_url):  # type: ignore[no-untyped-def]
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()


def stored(sessions: Any, code: str = "big") -> list[dict[str, Any]] | None:
    with sessions() as s:
        pkg = s.scalar(select(Package).where(Package.code == code))
        if pkg is None:
            return None
        return [dataclasses.asdict(kbart_row(t)) for t in s.scalars(
            select(KbTitle).where(KbTitle.package_id == pkg.id).order_by(KbTitle.row))]


def parsed(data: bytes) -> list[dict[str, Any]]:
    return [dataclasses.asdict(t) for t in parse_kbart(data).titles]


def test_first_import_stores_every_row_and_counts_past_the_sample(sessions):
    data = package_text([row(i) for i in range(N)])
    with db.transaction(sessions) as s:
        report = import_kbart(s, "big", io.BytesIO(data))
    assert report.titles == N and report.n_added == N
    assert len(report.added) == REPORT_SAMPLE
    assert report.added[0].publication_title == "Tạp chí số 0"
    assert stored(sessions) == parsed(data)


def test_reimport_stores_the_new_file_exactly_and_reports_each_change(sessions):
    before = [row(i) for i in range(N)]
    with db.transaction(sessions) as s:
        import_kbart(s, "big", package_text(before))
    # Two new titles on top (every line moves down), one changed, one gone, one repeated.
    after = [row(N), row(N + 1)] + before
    after[10] = row(8, first="1999")
    del after[500]
    after.append(before[20])
    data = package_text(after)
    with db.transaction(sessions) as s:
        report = import_kbart(s, "big", data)
    assert (report.titles, report.n_added, report.n_changed, report.n_removed) == (
        N + 2, 2, 2, 1)  # title 20 changed too: it has two rows now
    assert {c.key for c in report.changed} == {f"id:{issn(17)}", f"id:{issn(41)}"}
    assert [c.fields for c in report.changed if c.key == f"id:{issn(17)}"] == [
        ("date_first_issue_online",)]
    assert [t.publication_title for t in report.removed] == ["Tạp chí số 498"]
    assert stored(sessions) == parsed(data)  # contents and line numbers
    with sessions() as s:
        snapshot = load_kb_snapshot(s)
        holdings = snapshot.holdings(issns=[issn(2 * 20)])[0][1]
        assert [h.row for h in holdings] == [24, len(after) + 1]


def test_reimport_of_the_same_file_changes_no_title(sessions):
    data = package_text([row(i) for i in range(300)])
    for _ in range(2):
        with db.transaction(sessions) as s:
            report = import_kbart(s, "big", data)
    assert (report.n_added, report.n_changed, report.n_removed) == (0, 0, 0)
    assert stored(sessions) == parsed(data)


def test_refusal_after_rows_were_written_leaves_the_package_even_if_committed(sessions):
    """--strict is decided at the end of the file, after its rows went in: the refusal
    takes them out again, so a caller that commits anyway changes nothing."""
    with db.transaction(sessions) as s:
        import_kbart(s, "big", package_text([row(i) for i in range(200)]), name="Big")
    before = stored(sessions)
    bad = package_text([row(i, first="1998") for i in range(300)] + ["Bad\t1234-5678\n"])
    with db.transaction(sessions) as s:
        with pytest.raises(KbError, match="1 rows rejected"):
            import_kbart(s, "big", bad, strict=True, name="Renamed")
        with pytest.raises(KbError, match="1 rows rejected"):
            import_kbart(s, "fresh", bad, strict=True)
    assert stored(sessions) == before and stored(sessions, "fresh") is None
    with sessions() as s:
        assert s.scalar(select(Package.name).where(Package.code == "big")) == "Big"
