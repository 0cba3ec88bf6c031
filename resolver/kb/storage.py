"""The knowledge base in the database: KBART import, entitlements, holdings for a citation.

Parsing and diffing are pure (:mod:`resolver.kb.kbart`); this module is the storage edge. An
import replaces a package's titles in the caller's transaction, so a failure anywhere
leaves the previous titles in place; a file that cannot be read as KBART, or that yields
no title at all (a truncated download), changes nothing.
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import datetime as dt
import io
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import Connection, Text, and_, cast, delete, event, func, or_, select
from sqlalchemy.orm import Session

from resolver.kb.coverage import Coverage
from resolver.kb.kbart import (
    KbartError,
    KbartReader,
    KbartTitle,
    RejectedRow,
    TitleChange,
    diff_titles,
    key_of,
    strip_marks,
)
from resolver.kb.models import PACKAGE_KINDS, SUBSCRIPTION, Entitlement, KbTitle, Package
from resolver.registry.models import Institution

__all__ = [
    "ImportReport",
    "KbError",
    "KbSnapshot",
    "PackageInfo",
    "REPORT_SAMPLE",
    "TitleHolding",
    "entitle",
    "fold_title",
    "holdings_rows",
    "import_kbart",
    "kb_generation",
    "kb_packages",
    "kb_titles_mark",
    "kbart_row",
    "load_kb_snapshot",
    "validate_template",
]

log = logging.getLogger("lienhop.kb")

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class KbError(ValueError):
    """An import or entitlement that cannot be applied; nothing was changed.

    A refused KBART file also says which rows were rejected and why (``rejected``, in file
    order; for a file without a KBART header, the line taken for the header), and carries
    the message in Vietnamese (``message_vi``) for the admin pages.
    """

    def __init__(self, message: str, *, message_vi: str = "",
                 rejected: Sequence[RejectedRow] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message
        self.rejected = rejected
        self.warnings = warnings


def fold_title(title: str | None) -> str:
    """Lower-case, diacritic-free, punctuation-free title for exact title matching.

    Vietnamese đ has no decomposition, so it is folded by hand (else "Đại" ≠ "Dai").
    """
    if not title:
        return ""
    s = strip_marks(unicodedata.normalize("NFKD", title.lower().replace("đ", "d")))
    return _NON_WORD.sub(" ", _ARTICLE.sub("", s, count=1)).strip()[:300]


_ARTICLE = re.compile(r"^(the|a|an)\s+")
_NON_WORD = re.compile(r"[\W_]+")


def validate_template(template: str | None, name: str) -> str:
    """A link template must build an http(s) URL whose host comes from the template itself.

    Only ``{title_url}`` (a URL from the KBART file) may stand first; any other leading
    placeholder would let a citation value (from the request) choose the host.
    """
    t = (template or "").strip()
    if not t:
        return ""
    if not (re.match(r"https?://[^/{}]+", t, re.I) or t.startswith("{title_url}")):
        raise KbError(f"{name} {t!r} must start with http(s)://host or {{title_url}}")
    return t


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


_KBART_FIELDS = frozenset(f.name for f in dataclasses.fields(KbartTitle))

# --- how a KBART row is stored ------------------------------------------------------------
#
# The columns hold what the resolver matches and reads (identifiers, folded title, dates,
# embargo, depth); ``data`` holds the rest of the row as JSON: the fields no column has, and
# a column's field in full when the column had to cut it. Rows stored before this layout
# keep every field in ``data`` (with "row" first); both read back the same.

#: KbartTitle field -> the kb_title column holding it (whole up to the length given).
_IN_COLUMNS = {
    "publication_title": ("title", 1000), "print_identifier": ("print_id", 20),
    "online_identifier": ("online_id", 20), "title_id": ("title_id", 300),
    "title_url": ("title_url", 2000), "date_first_issue_online": ("date_first", 10),
    "date_last_issue_online": ("date_last", 10), "embargo_info": ("embargo", 32),
    "coverage_depth": ("coverage_depth", 64), "publication_type": ("publication_type", 16),
}
_IN_DATA = frozenset(f for f in _KBART_FIELDS if f not in _IN_COLUMNS and f != "row")
#: The column-backed fields that can be longer than their column (identifiers, dates and
#: the publication type never are, once parsed).
_LONGER = (("publication_title", 1000), ("title_id", 300), ("title_url", 2000),
           ("embargo_info", 32), ("coverage_depth", 64))
# One encoder for every row: json.dumps() with an option builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _data_json(fields: Mapping[str, Any]) -> str:
    """``data`` for a row's fields (KbartTitle order, empty ones left out)."""
    data = {k: v for k, v in fields.items() if k in _IN_DATA}
    for name, limit in _LONGER:
        value = fields.get(name)
        if value is not None and len(value) > limit:
            data[name] = value
    return _encode(data) if data else "{}"


def _kbart_title(row: int, columns: Sequence[Any], data: Mapping[str, Any] | None
                 ) -> KbartTitle:
    """A stored row as parsed: ``columns`` are title, print_id, online_id, title_id,
    title_url, date_first, date_last, embargo, coverage_depth, publication_type."""
    fields: dict[str, Any] = {"row": row}
    for name, value in zip(_IN_COLUMNS, columns, strict=True):
        if value is not None:
            fields[name] = value
    # Older rows repeat "row" in data: the column is right when a kept row moved.
    fields.update((k, v) for k, v in (data or {}).items() if k in _KBART_FIELDS and k != "row")
    return KbartTitle(**fields)


def kbart_row(row: KbTitle) -> KbartTitle:
    """Rebuild the parsed KBART row stored with a title (for diffs and coverage)."""
    return _kbart_title(row.row, [getattr(row, c) for c, _ in _IN_COLUMNS.values()], row.data)


#: kb_title's columns in :class:`_Writer`'s order: :func:`_to_row`'s, then title_norm
#: (only computed for a row that is written: on SQLite most rows of a re-import are kept).
_COLUMNS = ("package_id", "row", "title", "print_id", "online_id", "title_id", "title_url",
            "date_first", "date_last", "embargo", "coverage_depth", "publication_type", "data",
            "title_norm")


def _to_row(item: tuple[int, dict[str, Any]]) -> tuple[Any, ...]:
    """kb_title's columns for a parsed row (line number, fields): ``row``, then the ones
    that make its content (:data:`_CONTENT_COLUMNS` and ``data``)."""
    rowno, f = item
    title = f["publication_title"]
    title_id = f.get("title_id")
    url = f.get("title_url")
    embargo = f.get("embargo_info")
    return (rowno, title[:1000], f.get("print_identifier"), f.get("online_identifier"),
            title_id and title_id[:300], url if url and len(url) <= 2000 else None,
            f.get("date_first_issue_online"), f.get("date_last_issue_online"),
            embargo and embargo[:32], f["coverage_depth"][:64], f.get("publication_type"),
            _data_json(f))


def _row_key(print_id: str | None, online_id: str | None, title_id: str | None,
             title: str) -> int:
    """A title's diff key (:func:`resolver.kb.kbart.title_key` of the stored columns), hashed:
    old and new rows meet on the columns both have."""
    return hash(key_of(online_id, print_id, title_id, title))


def _canonical_data(text: str | None) -> str:
    """``data`` as this version would store it, whatever version stored it."""
    if not text:
        return "{}"
    if not text.startswith('{"row"'):
        return text
    old = json.loads(text)
    return _data_json({k: v for k, v in old.items() if v is not None and v != {}})


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
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
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
            cursor = self._stack.enter_context(conn.connection.dbapi_connection.cursor())
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

    def __exit__(self, *exc: object) -> None:
        # On an error the COPY is abandoned with the error, which the rollback undoes.
        if exc[0] is None and self.copy is None:
            self._flush()
        self._stack.__exit__(*exc)


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

    rows: dict[int, Any] = field(default_factory=dict)
    keys: dict[int, int] = field(default_factory=dict)
    first_ids: array.array[int] = field(default_factory=lambda: array.array("q"))
    top: int = 0

    def take(self, content: int) -> int | None:
        """The old row with this content that no file row has matched yet, if any."""
        got = self.rows.get(content)
        if type(got) is list:
            packed = got.pop()
            if not got:
                del self.rows[content]
            return packed
        if got is not None:
            del self.rows[content]
        return got

    def left(self) -> Iterator[int]:
        """Ids of the old rows no file row matched."""
        for got in self.rows.values():
            for packed in (got if type(got) is list else (got,)):
                yield packed >> 32

    def ids_of(self, keys: set[int]) -> list[int]:
        """The first row ids of the titles ``keys``."""
        return [self.first_ids[i] for i, key in enumerate(self.keys) if key in keys]


#: kb_title columns (after id and row) that make a stored row's content, in _to_row order.
_CONTENT_COLUMNS = (KbTitle.title, KbTitle.print_id, KbTitle.online_id, KbTitle.title_id,
                    KbTitle.title_url, KbTitle.date_first, KbTitle.date_last, KbTitle.embargo,
                    KbTitle.coverage_depth, KbTitle.publication_type)


def _old_rows(session: Session, package_id: int) -> _Old:
    old = _Old()
    rows, keys, first_ids = old.rows, old.keys, old.first_ids
    stmt = (select(KbTitle.id, KbTitle.row, *_CONTENT_COLUMNS, cast(KbTitle.data, Text))
            .where(KbTitle.package_id == package_id).execution_options(yield_per=_BATCH))
    top = 0
    # Core rows, not ORM ones: loading 600k rows through the ORM cost two seconds more.
    for r in session.connection().execute(stmt):
        rid = r[0]
        content = r[2:]
        data = r[-1]
        if not data or data.startswith('{"row"'):
            content = (*content[:-1], _canonical_data(data))
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
        elif type(got) is list:
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
        if online_id or print_id:
            idents.add(online_id or print_id)
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
            select(KbTitle.id, KbTitle.row, *_CONTENT_COLUMNS, KbTitle.data)
            .where(KbTitle.package_id == package_id, or_(*found))
            .order_by(KbTitle.id)):
        title, print_id, online_id, title_id = columns[:4]
        key = _row_key(print_id, online_id, title_id, title)
        if key in keys:
            out.setdefault(key, []).append((rid, _kbart_title(rowno, columns, data)))
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
            key = _row_key(row[2], row[3], row[4], row[1])
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


def entitle(
    session: Session,
    package: str,
    institution: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    remove: bool = False,
) -> Entitlement | None:
    """Grant (or with ``remove``, withdraw every grant of) a package to an institution.

    A grant with the same start date is updated in place, so re-running a script is safe.
    """
    pkg = session.scalar(select(Package).where(Package.code == package))
    if pkg is None:
        raise KbError(f"no package {package!r} (import it first: lienhop kb import)")
    inst = session.scalar(select(Institution).where(Institution.code == institution))
    if inst is None:
        raise KbError(f"no institution {institution!r} in the registry")
    if start and end and end < start:
        raise KbError(f"entitlement ends ({end}) before it starts ({start})")
    existing = session.scalars(select(Entitlement).where(
        Entitlement.package_id == pkg.id, Entitlement.institution_id == inst.id)).all()
    if remove:
        for e in existing:
            session.delete(e)
        session.flush()
        return None
    for e in existing:
        if e.start == start:
            e.end = end
            session.flush()
            return e
    e = Entitlement(package_id=pkg.id, institution_id=inst.id, start=start, end=end)
    session.add(e)
    session.flush()
    return e


def holdings_rows(
    session: Session,
    *,
    issns: Sequence[str] = (),
    isbns: Sequence[str] = (),
    title: str | None = None,
    packages: Mapping[int, Package] | None = None,
) -> list[tuple[Package, list[KbTitle]]]:
    """KB rows for a citation, grouped by package (package code order).

    Identifiers first (print or online ISSN/ISBN); the folded title only when no
    identifier matched anything, since a title alone also matches unrelated namesakes.
    ``packages`` (id -> package, e.g. a cached snapshot) saves a join per request; a
    package missing from it is read from the database.
    """
    ids = [i for i in (*issns, *isbns) if i]
    rows: Sequence[KbTitle] = []
    if ids:
        rows = session.scalars(
            select(KbTitle).where(or_(KbTitle.print_id.in_(ids), KbTitle.online_id.in_(ids)))
            .order_by(KbTitle.row)
        ).all()
    if not rows and title:
        folded = fold_title(title)
        if folded:
            rows = session.scalars(
                select(KbTitle).where(KbTitle.title_norm == folded).order_by(KbTitle.row)
            ).all()
    known = dict(packages or {})
    missing = {r.package_id for r in rows} - known.keys()
    if missing:
        known.update((p.id, p) for p in session.scalars(
            select(Package).where(Package.id.in_(missing))))
    grouped: dict[int, tuple[Package, list[KbTitle]]] = {}
    for row in rows:
        grouped.setdefault(row.package_id, (known[row.package_id], []))[1].append(row)
    return sorted(grouped.values(), key=lambda g: g[0].code)


# --- the in-memory snapshot the resolver reads -----------------------------------------
#
# A citation used to cost one SQL query plus ORM loading and a KBART coverage parse per
# matched row; the snapshot does that once per process and KB change, leaving a dict lookup.

_generation = itertools.count(1)
_titles_generation = 0


def _titles_changed(_session: Session) -> None:
    global _titles_generation
    _titles_generation = next(_generation)


def kb_generation() -> int:
    """A counter bumped in this process whenever an import is committed."""
    return _titles_generation


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """The package columns the resolver reads: an immutable copy, shared by all threads."""

    id: int
    code: str
    name: str
    kind: str
    article_template: str
    title_template: str


@dataclass(frozen=True, slots=True, eq=False)
class TitleHolding:
    """One KB row as the resolver needs it, its coverage parsed once per snapshot.

    ``coverage`` is None when the stored row cannot be read as a coverage range (rows are
    validated on import; a hand-edited row must not break a link): such a row still counts
    as a match, exactly as the SQL lookup counted it, but offers no holding.
    """

    id: int
    package_id: int
    row: int
    title_url: str | None
    title_id: str | None
    coverage: Coverage | None


def kb_packages(session: Session) -> tuple[tuple[Any, ...], ...]:
    """Every package as a plain tuple (id, code, name, kind, templates, imported_at)."""
    return tuple(tuple(r) for r in session.execute(
        select(Package.id, Package.code, Package.name, Package.kind, Package.article_template,
               Package.title_template, Package.imported_at).order_by(Package.id)))


def kb_titles_mark(session: Session) -> tuple[Any, ...]:
    """What the titles snapshot depends on, read in well under a millisecond.

    Titles are only written by :func:`import_kbart`, which also stamps the package's
    ``imported_at``, or removed with their package, so the package rows plus the highest
    title id change whenever the titles do; the in-process generation covers an import
    with a caller-supplied ``today``. (``count(*)`` over 50k titles would cost 3 ms.)
    """
    generation = kb_generation()  # read first: a later bump must not be lost
    top = session.scalar(select(func.max(KbTitle.id)))
    return (generation, top, kb_packages(session))


def _order(h: TitleHolding) -> tuple[int, int]:
    return h.row, h.id


@dataclass(frozen=True)
class KbSnapshot:
    """Every KB title of every package, indexed by identifier and by folded title."""

    mark: tuple[Any, ...]
    packages: Mapping[int, PackageInfo]
    #: print or online ISSN/ISBN -> rows, in (row, id) order
    by_id: Mapping[str, tuple[TitleHolding, ...]]
    #: folded title -> rows, in (row, id) order
    by_title: Mapping[str, tuple[TitleHolding, ...]]
    titles: int = 0

    def holdings(
        self,
        *,
        issns: Sequence[str] = (),
        isbns: Sequence[str] = (),
        title: str | None = None,
    ) -> list[tuple[PackageInfo, list[TitleHolding]]]:
        """:func:`holdings_rows` answered from memory (same matching, same order)."""
        ids = [i for i in (*issns, *isbns) if i]
        found: list[TitleHolding] = []
        if len(ids) == 1:
            found = list(self.by_id.get(ids[0], ()))
        elif ids:
            # A row matching two identifiers (print and online) is still one row.
            seen = {h.id: h for i in ids for h in self.by_id.get(i, ())}
            found = sorted(seen.values(), key=_order)
        if not found and title:
            folded = fold_title(title)
            if folded:
                found = list(self.by_title.get(folded, ()))
        grouped: dict[int, tuple[PackageInfo, list[TitleHolding]]] = {}
        for h in found:
            grouped.setdefault(h.package_id, (self.packages[h.package_id], []))[1].append(h)
        return sorted(grouped.values(), key=lambda g: g[0].code)


#: The KBART fields :meth:`KbartTitle.coverage` reads, in ``Coverage.from_kbart`` order.
_COVERAGE_FIELDS = (
    "date_first_issue_online", "date_last_issue_online", "num_first_vol_online",
    "num_first_issue_online", "num_last_vol_online", "num_last_issue_online", "embargo_info",
    "coverage_depth",
)


def _stored(name: str) -> Any:
    """SQL for a stored row's KBART field ``name``: from ``data`` when it is there (every
    field of older rows; a field its column had to cut), else from its column."""
    if name in _IN_COLUMNS:
        return func.coalesce(KbTitle.data[name].as_string(),
                             getattr(KbTitle, _IN_COLUMNS[name][0]))
    return KbTitle.data[name].as_string()


def _coverage(fields: tuple[Any, ...], row_id: int) -> Coverage | None:
    first, last, fvol, fiss, lvol, liss, embargo, depth = fields
    try:
        # As KbartTitle.coverage(); a missing depth is the dataclass default, "fulltext".
        return Coverage.from_kbart(first, last, first_volume=fvol, first_issue=fiss,
                                   last_volume=lvol, last_issue=liss, embargo=embargo,
                                   depth=depth)
    except (ValueError, TypeError):  # validated on import; a hand-edited row must not break
        log.warning("kb_title %s has unusable coverage", row_id)
        return None


def load_kb_snapshot(session: Session, mark: tuple[Any, ...] | None = None) -> KbSnapshot:
    """Read every title into a :class:`KbSnapshot` (under a second for 50k titles).

    ``mark`` must be read before the titles (it is, when omitted): a change committed
    in between then makes the next mark differ, and the snapshot is simply rebuilt again.
    """
    if mark is None:
        mark = kb_titles_mark(session)
    packages = {r[0]: PackageInfo(*r[:6]) for r in mark[2]}
    by_id: dict[str, list[TitleHolding]] = {}
    by_title: dict[str, list[TitleHolding]] = {}
    # Only the coverage fields of the stored row, extracted by the database: decoding the
    # whole JSON row of 50k titles took seconds and a few hundred MB at its peak.
    stmt = select(
        KbTitle.id, KbTitle.package_id, KbTitle.row, KbTitle.title_norm, KbTitle.print_id,
        KbTitle.online_id, KbTitle.title_id, KbTitle.title_url,
        *(_stored(k) for k in _COVERAGE_FIELDS),
    ).order_by(KbTitle.row, KbTitle.id).execution_options(yield_per=5000)
    # A KB repeats a few dozen coverage shapes: parse each once and share the (frozen)
    # result. Rows of one package that share a Coverage have equal decisions, so the
    # resolver's ``c is decision.coverage`` still finds the first of them, as before.
    coverages: dict[tuple[Any, ...], Coverage | None] = {}
    n = 0
    for r in session.connection().execute(stmt):
        rid, pid, rowno, norm, print_id, online_id, title_id, url = r[:8]
        if pid not in packages:  # imported after the mark was read: next rebuild has it
            continue
        fields = tuple(r[8:])
        try:
            cov = coverages[fields]
        except KeyError:
            cov = coverages[fields] = _coverage(fields, rid)
        h = TitleHolding(rid, pid, rowno, url, title_id, cov)
        n += 1
        if print_id:
            by_id.setdefault(print_id, []).append(h)
        if online_id and online_id != print_id:
            by_id.setdefault(online_id, []).append(h)
        if norm:
            by_title.setdefault(norm, []).append(h)
    return KbSnapshot(
        mark=mark, packages=packages,
        by_id={k: tuple(v) for k, v in by_id.items()},
        by_title={k: tuple(v) for k, v in by_title.items()},
        titles=n,
    )
