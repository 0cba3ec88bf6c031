"""The raw archive: every harvested record's XML, as served, kept compressed.

It lets us rebuild the index without touching the network (rerun the crosswalk over
:meth:`RawArchive.iter_records`) and it is the memory of a full re-harvest: identifiers the
archive holds that a full run did not list were deleted at the source without a tombstone
(DSpace only does transient deletions, DSpace#10592), see :meth:`RepositoryArchive.unseen`.

One SQLite file per repository under the archive directory, so parallel harvests of different
repositories never contend for a lock::

    archive = RawArchive("instance/archive")
    with archive.open("hue-dspace") as repo:
        repo.put(header, "oai_dc", xml_bytes, run_id="r1")
        repo.commit()
    for header, prefix, xml in archive.iter_records("hue-dspace"):
        record = crosswalk(prefix, etree.fromstring(xml)..., header, ...)
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from harvesters.crosswalk import Header

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    identifier      TEXT PRIMARY KEY,
    datestamp       TEXT NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    metadata_prefix TEXT NOT NULL,
    sets            TEXT NOT NULL DEFAULT '',
    xml             BLOB,
    harvested_at    TEXT NOT NULL,
    seen_run        TEXT
);
CREATE INDEX IF NOT EXISTS records_seen_run ON records (seen_run);
"""
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RepositoryArchive:
    """The archive of one repository: an open SQLite connection (one thread at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path)
        # WAL + synchronous=NORMAL: a killed process never loses a committed page; only an
        # OS crash might lose the last one, which the next harvest then re-fetches.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RepositoryArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self) -> None:
        self.conn.commit()

    def put(self, header: Header, metadata_prefix: str, xml: bytes, *, run_id: str = "") -> bool:
        """Upsert one record; return ``True`` if the identifier was not archived (or was
        archived as deleted) before, i.e. the record is new to us."""
        row = self.conn.execute(
            "SELECT deleted FROM records WHERE identifier = ?", (header.identifier,)
        ).fetchone()
        self.conn.execute(
            "INSERT INTO records (identifier, datestamp, deleted, metadata_prefix, sets, xml,"
            " harvested_at, seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(identifier) DO UPDATE SET datestamp=excluded.datestamp,"
            " deleted=excluded.deleted, metadata_prefix=excluded.metadata_prefix,"
            " sets=excluded.sets, xml=excluded.xml, harvested_at=excluded.harvested_at,"
            " seen_run=excluded.seen_run",
            (
                header.identifier, header.datestamp, int(header.deleted), metadata_prefix,
                "\n".join(header.sets), zlib.compress(xml, 6), _now(), run_id or None,
            ),
        )
        return row is None or bool(row[0])

    def mark_deleted(self, identifier: str, datestamp: str = "", *, run_id: str = "") -> bool:
        """Flag a record deleted (its last XML is kept); return whether it was live before."""
        row = self.conn.execute(
            "SELECT deleted FROM records WHERE identifier = ?", (identifier,)
        ).fetchone()
        if row is None:
            self.conn.execute(
                "INSERT INTO records (identifier, datestamp, deleted, metadata_prefix, xml,"
                " harvested_at, seen_run) VALUES (?, ?, 1, '', NULL, ?, ?)",
                (identifier, datestamp, _now(), run_id or None),
            )
            return False
        self.conn.execute(
            "UPDATE records SET deleted = 1, datestamp = COALESCE(NULLIF(?, ''), datestamp),"
            " harvested_at = ?, seen_run = COALESCE(NULLIF(?, ''), seen_run)"
            " WHERE identifier = ?",
            (datestamp, _now(), run_id, identifier),
        )
        return not row[0]

    def mark_seen(self, identifiers: Iterable[str], run_id: str) -> None:
        """Record that ``run_id`` listed these identifiers (even if they failed to parse)."""
        self.conn.executemany(
            "UPDATE records SET seen_run = ? WHERE identifier = ?",
            [(run_id, i) for i in identifiers],
        )

    def unseen(self, run_id: str) -> list[str]:
        """Live identifiers ``run_id`` did not list: candidates for deletion after a full run."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT identifier FROM records WHERE deleted = 0"
                " AND (seen_run IS NULL OR seen_run != ?) ORDER BY identifier",
                (run_id,),
            )
        ]

    def get(self, identifier: str) -> tuple[Header, str, bytes] | None:
        row = self.conn.execute(
            "SELECT identifier, datestamp, deleted, sets, metadata_prefix, xml FROM records"
            " WHERE identifier = ?",
            (identifier,),
        ).fetchone()
        return _row(row) if row else None

    def iter_records(self, *, include_deleted: bool = False) -> Iterator[tuple[Header, str, bytes]]:
        """Yield ``(header, metadata_prefix, xml)`` in identifier order, streaming."""
        sql = "SELECT identifier, datestamp, deleted, sets, metadata_prefix, xml FROM records"
        if not include_deleted:
            sql += " WHERE deleted = 0"
        for row in self.conn.execute(sql + " ORDER BY identifier"):
            yield _row(row)

    def count(self, *, include_deleted: bool = False) -> int:
        sql = "SELECT COUNT(*) FROM records" + ("" if include_deleted else " WHERE deleted = 0")
        (count,) = self.conn.execute(sql).fetchone()
        return int(count)


#: a ``records`` row as :meth:`RepositoryArchive.iter_records` selects it
_Row = tuple[str, str, int, str, str, bytes | None]


def _row(row: _Row) -> tuple[Header, str, bytes]:
    identifier, datestamp, deleted, sets, prefix, blob = row
    header = Header(
        identifier=identifier,
        datestamp=datestamp,
        sets=tuple(s for s in sets.split("\n") if s) if sets else (),
        deleted=bool(deleted),
    )
    return header, prefix, zlib.decompress(blob) if blob else b""


class RawArchive:
    """The archive directory: one :class:`RepositoryArchive` file per repository code."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, repository: str) -> Path:
        return self.root / f"{_SAFE.sub('_', repository)}.sqlite3"

    def open(self, repository: str) -> RepositoryArchive:
        return RepositoryArchive(self.path(repository))

    def repositories(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.sqlite3"))

    def iter_records(
        self, repository: str, *, include_deleted: bool = False
    ) -> Iterator[tuple[Header, str, bytes]]:
        """Yield ``(header, metadata_prefix, xml)`` of one repository (see module docstring)."""
        if not self.path(repository).exists():
            return
        with self.open(repository) as repo:
            yield from repo.iter_records(include_deleted=include_deleted)
