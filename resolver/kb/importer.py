"""KBART files into the knowledge base: a package's titles replaced by a file's rows.

Parsing and diffing are pure (:mod:`resolver.kb.kbart`); this module is the storage edge
(how a row is laid out: :mod:`resolver.kb.rows`). An import replaces a package's titles in
the caller's transaction, so a failure anywhere leaves the previous titles in place; a file
that cannot be read as KBART, or that yields no title at all (a truncated download),
changes nothing.
"""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, BinaryIO

from sqlalchemy import Connection, Text, and_, cast, delete, event, or_, select
from sqlalchemy.orm import Session

from resolver.kb.diff import TitleChange, diff_titles, key_of
from resolver.kb.errors import KbError
from resolver.kb.kbart import (
    KbartError,
    KbartReader,
    KbartTitle,
    RejectedRow,
)
from resolver.kb.linktemplates import validate_template
from resolver.kb.models import PACKAGE_KINDS, SUBSCRIPTION, KbTitle, Package
from resolver.kb.rows import (
    CONTENT_COLUMNS,
    canonical_data,
    data_json,
    fold_title,
    row_key,
    stored_title,
)
from resolver.kb.snapshot import titles_changed
from resolver.registry.codes import CODE_RE

__all__ = ["ImportReport", "REPORT_SAMPLE", "import_kbart"]


#: Titles of each kind an import report names; its counts are always complete.
REPORT_SAMPLE = 200


@dataclass
class ImportReport:
    """What an import did (or would do): rows loaded, titles added/changed/removed, rows
    rejected.

    ``added``, ``changed`` and ``removed`` name the first :data:`REPORT_SAMPLE` of each (a
    600k-row package must not make a list of 600k titles); ``n_added``, ``n_changed`` and
    ``n_removed`` count them all: added and removed *rows*, changed *titles* (keys).
    """

    package: str
    created: bool
    titles: int
    added: list[KbartTitle] = field(default_factory=list)
    changed: list[TitleChange] = field(default_factory=list)
    removed: list[KbartTitle] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_added: int = 0
    n_changed: int = 0
    n_removed: int = 0


#: kb_title's columns in :class:`_Writer`'s order: :func:`_to_row`'s, then title_norm
#: (only computed for a row that is written: on SQLite most rows of a re-import are kept).
_COLUMNS = ("package_id", "row", "title", "print_id", "online_id", "title_id", "title_url",
            "date_first", "date_last", "embargo", "coverage_depth", "publication_type", "data",
            "title_norm")


def _to_row(item: tuple[int, dict[str, Any]]) -> tuple[Any, ...]:
    """kb_title's columns for a parsed row (line number, fields): ``row``, then the ones
    that make its content (:data:`resolver.kb.rows.CONTENT_COLUMNS` and ``data``)."""
    rowno, f = item
    title = f["publication_title"]
    title_id = f.get("title_id")
    url = f.get("title_url")
    embargo = f.get("embargo_info")
    return (rowno, title[:1000], f.get("print_identifier"), f.get("online_identifier"),
            title_id and title_id[:300], url if url and len(url) <= 2000 else None,
            f.get("date_first_issue_online"), f.get("date_last_issue_online"),
            embargo and embargo[:32], f["coverage_depth"][:64], f.get("publication_type"),
            data_json(f))


# --- import: rows go straight from the file into kb_title ---------------------------------
#
# A 600k-row package used to become 600k KbartTitle objects, 600k ORM objects and two diff
# copies: gigabytes, and far past the web server's 30 s. Now each row is written as it is
# read, in batches; the old rows are known by a hash of their content, so the report is
# exact, and on SQLite a row that did not change stays where it is (rewriting 600k rows in
# SQLite's indexes cost more than everything else together).

_BATCH = 5000

#: SQLite's page cache during an import, in KiB. With the default 2 MiB the inserts into
#: kb_title's identifier indexes (in no useful order) keep reading pages back: 600k new rows
#: took 18.7 s, 15.6 s with this; more gained nothing (bench/kbart_import.py). Given back
#: when the import ends.
SQLITE_IMPORT_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def _roomy_cache(session: Session) -> Iterator[None]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


class _Writer:
    """Appends rows to kb_title: COPY on PostgreSQL (psycopg), else batched executemany."""

    def __init__(self, session: Session, package_id: int) -> None:
        self.package_id = package_id
        self._batch: list[tuple[Any, ...]] = []
        self._stack = contextlib.ExitStack()
        conn = session.connection()
        self.copy = None
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            # psycopg's own connection: COPY (cursor.copy) is psycopg's, not DB-API's.
            raw: Any = conn.connection.dbapi_connection
            cursor = self._stack.enter_context(raw.cursor())
            self.copy = self._stack.enter_context(cursor.copy(
                f"COPY kb_title ({', '.join(_COLUMNS)}) FROM STDIN"))
        else:
            self._sql = f"INSERT INTO kb_title ({', '.join(_COLUMNS)}) VALUES ({_marks(conn)})"
            self._conn = conn

    def add(self, row: tuple[Any, ...]) -> None:
        full = (self.package_id, *row, fold_title(row[1]))
        if self.copy is not None:
            self.copy.write_row(full)
            return
        self._batch.append(full)
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._conn.exec_driver_sql(self._sql, self._batch)
            self._batch = []

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # On an error the COPY is abandoned with the error, which the rollback undoes.
        if exc_type is None and self.copy is None:
            self._flush()
        self._stack.__exit__(exc_type, exc, tb)


def _marks(conn: Connection, n: int = len(_COLUMNS)) -> str:
    return ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * n)


def _unpack(packed: int) -> tuple[int, int]:
    """An old row's id and line from how :class:`_Old` keeps them (``id << 32 | row``)."""
    return packed >> 32, packed & 0xFFFFFFFF


@dataclass
class _Old:
    """A package's rows before the import, in bounded memory (a few ints per row).

    ``rows``: content hash -> old row (``id << 32 | row``; a list for identical rows), taken
    out as the file's rows match them; what is left was not in the file. ``keys``: title
    key hash -> 2 × its rows not matched yet, + 1 once the file has had the title.
    ``first_ids``: the id of each title's first row, in ``keys`` order. ``top``: the
    highest old id; every row added by the import gets a higher one.
    """

    rows: dict[int, int | list[int]] = field(default_factory=dict)
    keys: dict[int, int] = field(default_factory=dict)
    first_ids: array.array[int] = field(default_factory=lambda: array.array("q"))
    top: int = 0

    def take(self, content: int) -> int | None:
        """The old row with this content that no file row has matched yet, if any."""
        got = self.rows.get(content)
        if got is None:
            return None
        if isinstance(got, int):
            del self.rows[content]
            return got
        packed = got.pop()
        if not got:
            del self.rows[content]
        return packed

    def left(self) -> Iterator[int]:
        """Ids of the old rows no file row matched."""
        for got in self.rows.values():
            for packed in (got if isinstance(got, list) else (got,)):
                yield packed >> 32

    def ids_of(self, keys: set[int]) -> list[int]:
        """The first row ids of the titles ``keys``."""
        return [self.first_ids[i] for i, key in enumerate(self.keys) if key in keys]


def _old_rows(session: Session, package_id: int) -> _Old:
    old = _Old()
    rows, keys, first_ids = old.rows, old.keys, old.first_ids
    stmt = (select(KbTitle.id, KbTitle.row, *CONTENT_COLUMNS, cast(KbTitle.data, Text))
            .where(KbTitle.package_id == package_id).execution_options(yield_per=_BATCH))
    top = 0
    # Core rows, not ORM ones: loading 600k rows through the ORM cost two seconds more.
    for r in session.connection().execute(stmt):
        rid = r[0]
        content: tuple[Any, ...] = r[2:]
        data = r[-1]
        if not data or data.startswith('{"row"'):
            content = (*content[:-1], canonical_data(data))
        key = hash(key_of(r[4], r[3], r[5], r[2]))
        n = keys.get(key)
        if n is None:
            first_ids.append(rid)
            n = 0
        keys[key] = n + 2
        h = hash(tuple(content))
        packed = (rid << 32) | r[1]
        got = rows.get(h)
        if got is None:
            rows[h] = packed
        elif isinstance(got, list):
            got.append(packed)
        else:
            rows[h] = [got, packed]
        if rid > top:
            top = rid
    old.top = top
    return old


def _content_hash(row: tuple[Any, ...]) -> int:
    """The hash :func:`_old_rows` computes for the same stored row."""
    return hash(row[1:])


def _sample_rows(session: Session, package_id: int, old: _Old, keys: set[int]
                 ) -> dict[int, list[tuple[int, KbartTitle]]]:
    """Every row (id, parsed) of the titles ``keys``, in id order, by title key.

    Found through the identifiers of each title's first old row and the indexes on them,
    not by reading the whole package again.
    """
    idents: set[str] = set()
    title_ids: set[str] = set()
    by_title = False
    for online_id, print_id, title_id in session.execute(
            select(KbTitle.online_id, KbTitle.print_id, KbTitle.title_id)
            .where(KbTitle.id.in_(old.ids_of(keys)))):
        ident = online_id or print_id
        if ident:
            idents.add(ident)
        elif title_id:
            title_ids.add(title_id)
        else:
            by_title = True
    no_id = and_(KbTitle.online_id.is_(None), KbTitle.print_id.is_(None))
    found = [KbTitle.online_id.in_(idents), KbTitle.print_id.in_(idents),
             and_(no_id, KbTitle.title_id.in_(title_ids))]
    if by_title:  # keyed by the title alone: few rows, read to compare their keys
        found.append(and_(no_id, KbTitle.title_id.is_(None)))
    out: dict[int, list[tuple[int, KbartTitle]]] = {}
    for rid, rowno, *columns, data in session.execute(
            select(KbTitle.id, KbTitle.row, *CONTENT_COLUMNS, KbTitle.data)
            .where(KbTitle.package_id == package_id, or_(*found))
            .order_by(KbTitle.id)):
        title, print_id, online_id, title_id = columns[:4]
        key = row_key(print_id, online_id, title_id, title)
        if key in keys:
            out.setdefault(key, []).append((rid, stored_title(rowno, columns, data)))
    return out


def import_kbart(
    session: Session,
    code: str,
    data: bytes | BinaryIO,
    *,
    name: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    article_template: str | None = None,
    title_template: str | None = None,
    source: str = "",
    strict: bool = False,
    today: dt.datetime | None = None,
) -> ImportReport:
    """Replace package ``code``'s titles with the KBART ``data`` (creating the package).

    ``data`` is the file's bytes or a binary stream (read once, from its position, never
    held whole in memory). Runs in ``session``'s transaction: the caller commits (or rolls
    back for a dry run). Raises :class:`KbError` when the file has no KBART header, no valid
    title, or, with ``strict``, any rejected row; the package is then as it was.
    """
    if not CODE_RE.match(code or ""):
        raise KbError(f"package code {code!r}: use lower-case letters, digits, '.', '_', '-'")
    if kind is not None and kind not in PACKAGE_KINDS:
        raise KbError(f"kind {kind!r}: use one of {', '.join(PACKAGE_KINDS)}")
    article_template = validate_template(article_template, "article template") if (
        article_template is not None) else None
    title_template = validate_template(title_template, "title template") if (
        title_template is not None) else None
    for label, template in (("article template", article_template),
                            ("title template", title_template)):
        if template and len(template) > 1000:
            raise KbError(f"{label}: at most 1000 characters; the package was not changed",
                          message_vi=f"{label}: tối đa 1000 ký tự; gói không bị thay đổi")
    name = name and name[:300]
    platform = platform and platform[:100]
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    try:
        reader = KbartReader(stream)
    except KbartError as exc:
        raise KbError(f"not a KBART file: {exc}; the package was not changed",
                      message_vi=f"không phải tệp KBART: {exc.message_vi}; "
                                 "gói không bị thay đổi",
                      rejected=exc.rejected) from exc
    try:
        with _roomy_cache(session):
            return _import(session, code, reader, strict=strict, source=source, today=today,
                           settings={"name": name, "platform": platform, "kind": kind,
                                     "article_template": article_template,
                                     "title_template": title_template})
    finally:
        reader.close()


def _import(session: Session, code: str, reader: KbartReader, *, strict: bool, source: str,
            today: dt.datetime | None, settings: dict[str, str | None]) -> ImportReport:
    # Locked (on PostgreSQL) until the commit: a second import of the package waits, then
    # reads the rows the first one left, instead of adding its own beside them.
    pkg = session.scalar(select(Package).where(Package.code == code).with_for_update())
    created = pkg is None
    if pkg is None:
        pkg = Package(code=code, name=settings["name"] or code,
                      platform=settings["platform"] or "",
                      kind=settings["kind"] or SUBSCRIPTION,
                      article_template=settings["article_template"] or "",
                      title_template="{title_url}" if settings["title_template"] is None
                      else settings["title_template"])
        session.add(pkg)
        session.flush()
        old = _Old()
    else:
        old = _old_rows(session, pkg.id)
    report = ImportReport(package=code, created=created, titles=0, warnings=reader.warnings)
    # Rows are added above old.top while the file is read; old rows change only once the
    # whole file has been accepted, and a refusal deletes the added rows instead.
    renumber = array.array("q")  # (id, new line) pairs of old rows that stay
    changed: dict[int, None] = {}  # title keys with a row that is new, in file order
    keys = old.keys
    with _Writer(session, pkg.id) as writer:
        # PostgreSQL copies rows at little cost (in the server); SQLite does not.
        keep = writer.copy is None
        for item in reader:
            if isinstance(item, RejectedRow):
                report.rejected.append(item)
                continue
            row = _to_row(item)
            report.titles += 1
            key = row_key(row[2], row[3], row[4], row[1])
            seen = keys.get(key)
            if seen is None:
                report.n_added += 1
                if len(report.added) < REPORT_SAMPLE:
                    report.added.append(KbartTitle(row=item[0], **item[1]))
            else:
                packed = old.take(_content_hash(row))
                if packed is None:
                    changed[key] = None
                    keys[key] = seen | 1
                else:
                    keys[key] = (seen - 2) | 1
                    if keep:
                        rid, rowno = _unpack(packed)
                        if rowno != row[0]:
                            renumber.extend((rid, row[0]))
                        continue
            writer.add(row)
    n = len(report.rejected)
    refusal = None
    if not report.titles:
        refusal = KbError(f"no valid title in the file ({n} rows rejected); "
                          "the package was not changed",
                          message_vi=f"tệp không có tên ấn phẩm hợp lệ nào ({n} dòng bị loại); "
                                     "gói không bị thay đổi",
                          rejected=report.rejected, warnings=report.warnings)
    elif strict and report.rejected:
        refusal = KbError(f"{n} rows rejected and --strict given; the package was not changed",
                          message_vi=f"{n} dòng bị loại và đã chọn không thay đổi gì nếu có "
                                     "dòng bị loại; gói không bị thay đổi",
                          rejected=report.rejected, warnings=report.warnings)
    if refusal is not None:
        session.execute(delete(KbTitle).where(KbTitle.package_id == pkg.id,
                                              KbTitle.id > old.top))
        if created:
            session.delete(pkg)
        session.flush()
        raise refusal
    # A title the file had whose old rows were not all matched changed too.
    changed.update((k, None) for k, v in keys.items() if v & 1 and v > 1)
    report.n_changed = len(changed)
    removed = [k for k, v in keys.items() if not v & 1]
    report.n_removed = sum(keys[k] // 2 for k in removed)
    _describe(session, pkg.id, old, report, list(itertools.islice(changed, REPORT_SAMPLE)),
              removed[:REPORT_SAMPLE], keep)
    _finish(session, pkg.id, old, renumber, keep)
    if not created:
        for attr, value in settings.items():
            if value is not None:
                setattr(pkg, attr, value)
    pkg.imported_at = (today or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    pkg.source_file = source[:500]
    session.flush()
    # Snapshots in this process notice the commit at once, even if imported_at is unchanged
    # (a caller-supplied ``today``); other processes rely on the mark read from the database.
    event.listen(session, "after_commit", _titles_changed, once=True)
    return report


def _finish(session: Session, package_id: int, old: _Old, renumber: array.array[int],
            keep: bool) -> None:
    """Make the accepted file the package: drop the old rows (all of them, or with ``keep``
    those no file row matched) and give the kept ones their new line numbers."""
    if not keep:
        if old.top:
            session.execute(delete(KbTitle).where(KbTitle.package_id == package_id,
                                                  KbTitle.id <= old.top))
        return
    conn = session.connection()
    gone = sorted(old.left())
    for i in range(0, len(gone), 500):  # SQLite before 3.32 takes 999 parameters
        session.execute(delete(KbTitle).where(KbTitle.id.in_(gone[i:i + 500])))
    sql = f"UPDATE kb_title SET row = {_marks(conn, 1)} WHERE id = {_marks(conn, 1)}"
    for i in range(0, len(renumber), 2 * _BATCH):
        pairs = renumber[i:i + 2 * _BATCH]
        conn.exec_driver_sql(sql, list(zip(pairs[1::2], pairs[0::2], strict=True)))


def _describe(session: Session, package_id: int, old: _Old, report: ImportReport,
              changed: list[int], removed: list[int], keep: bool) -> None:
    """Fill the report's samples of changed and removed titles from the stored rows, before
    :func:`_finish`: rows above ``old.top`` are the file's, and with ``keep`` so are the
    old rows the file matched."""
    if not changed and not removed:
        return
    rows = _sample_rows(session, package_id, old, {*changed, *removed})
    for key in removed:
        report.removed.extend(t for _, t in rows.get(key, ()))
    del report.removed[REPORT_SAMPLE:]
    left = set(old.left()) if keep else set()
    for key in changed:
        group = rows.get(key, [])
        before = [t for rid, t in group if rid <= old.top]
        after = [t for rid, t in group if rid > old.top or keep and rid not in left]
        report.changed.extend(diff_titles(before, after).changed)


def _titles_changed(_session: Session) -> None:
    titles_changed()
