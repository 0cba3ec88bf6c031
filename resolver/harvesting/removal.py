"""A repository's records out of search and out of the OAI provider, when it leaves the
registry.

Removing a repository from the registry stops its harvests; its records would otherwise
stay searchable (and counted) until the next ``lienhop index rebuild``, and stay listed by
lienhop's own OAI-PMH provider. They go the way a harvested deletion goes: through the
index sink and :class:`resolver.oai.feed.OaiFeedSink`, so the index drops them and the
provider announces them as deleted (persistent deletions), their works re-formed around
the other members' copies.

The raw archive file is kept: ``lienhop index rebuild`` and ``lienhop oai sync`` read only
the repositories the registry lists, so it is inert, and it is what a repository added back
under the same code would be rebuilt from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from harvesters.archive import RawArchive
from harvesters.sinks import WriterSink
from index import index_engine, open_index
from index.record import make_record_id
from resolver.oai.feed import OaiFeedSink
from resolver.settings import Settings

#: ids handed to the index and the provider per commit
BATCH = 2000
#: how long to wait for the index writer (a harvest holds it a page at a time)
WRITER_TIMEOUT = 60.0
_ID_TAIL = re.compile(r"-[0-9a-f]{12}\Z")


def is_record_of(record_id: str, code: str) -> bool:
    """Whether ``record_id`` is a record id of repository ``code`` (``index.record.
    make_record_id``: the code, a hyphen, 12 hex digits; ``hue`` owns no ``hue-dspace-…``)."""
    return bool(_ID_TAIL.search(record_id)) and record_id[:-13] == code


def record_ids(settings: Settings, code: str) -> Iterator[str]:
    """Every id of ``code``'s records: from its raw archive (deleted ones too, harmless to
    delete again), else, for an instance without one, from the index itself."""
    archive = RawArchive(settings.archive_dir)
    if archive.path(code).exists():
        for header, _prefix, _xml in archive.iter_records(code, include_deleted=True):
            yield make_record_id(code, header.identifier)
        return
    if index_engine(settings.index_dir) is None:
        return
    ix = open_index(settings.index_dir, readonly=True)
    try:
        yield from (rid for rid in ix.iter_ids() if is_record_of(rid, code))
    finally:
        ix.close()


def remove_repository_records(settings: Settings, sessions: sessionmaker[Session],
                              code: str) -> int:
    """Delete ``code``'s records from the index and tombstone them in the OAI provider;
    returns how many ids were handed over. ``index.IndexLocked`` when the index writer stays
    busy for :data:`WRITER_TIMEOUT` seconds (what was committed before stays removed; a
    second call finishes the rest)."""
    ids = list(dict.fromkeys(record_ids(settings, code)))
    if not ids or index_engine(settings.index_dir) is None:
        return 0
    ix = open_index(settings.index_dir)
    try:
        sink = OaiFeedSink(WriterSink(lambda: ix.writer(timeout=WRITER_TIMEOUT)), sessions)
        for start in range(0, len(ids), BATCH):
            sink.delete(ids[start:start + BATCH])
            sink.commit()
    finally:
        ix.close()
    return len(ids)
