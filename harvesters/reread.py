"""One archived record read again: the raw archive's bytes back into a Record (no network).

An index rebuild and an OAI sync re-read the whole raw archive (harvesters/archive.py) with
the harvest's own parser and record reading (:func:`harvesters.page.parse_archived_record`),
so they keep every record the harvest accepted. The function is top-level and total (a
record that cannot be read gives the message saying why, instead of raising) so that a
rebuild can name it to its worker processes (index/convert.py) and still report each
failure in the rebuilding process, in its place.
"""

from __future__ import annotations

from typing import NamedTuple

from harvesters.crosswalk import Header, crosswalk
from harvesters.page import parse_archived_record
from index.record import Record

#: :func:`record_from_archive` by name, for ``index.rebuild(..., convert=...)``
RECORD_FROM_ARCHIVE = "harvesters.reread:record_from_archive"


class ArchivedItem(NamedTuple):
    """One live record of the archive with what its crosswalk needs (cheap to pickle)."""

    repository: str
    institution: str
    header: Header
    metadata_prefix: str
    xml: bytes


def record_from_archive(item: ArchivedItem) -> Record | str:
    """The item's Record, or ``"<repository> <identifier>: <error type>: <error>"``."""
    repository, institution, header, prefix, xml = item
    try:
        page_record = parse_archived_record(xml)
        return crosswalk(prefix, page_record.metadata, header, repository=repository,
                         institution=institution)
    except Exception as exc:  # noqa: BLE001  (one bad archived record must not stop a rebuild)
        return f"{repository} {header.identifier}: {type(exc).__name__}: {exc}"
