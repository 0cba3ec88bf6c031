"""How a KBART row is stored in ``kb_title`` and read back, and the folded title it is
matched by.

The columns hold what the resolver matches and reads (identifiers, folded title, dates,
embargo, depth); ``data`` holds the rest of the row as JSON: the fields no column has, and
a column's field in full when the column had to cut it. Rows stored before this layout
keep every field in ``data`` (with "row" first); both read back the same. The importer
(:mod:`resolver.kb.importer`) writes rows this way, the snapshot
(:mod:`resolver.kb.snapshot`) reads their coverage fields.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func

from resolver.kb.diff import key_of, strip_marks
from resolver.kb.kbart import KbartTitle
from resolver.kb.models import KbTitle

__all__ = [
    "CONTENT_COLUMNS",
    "IN_COLUMNS",
    "canonical_data",
    "data_json",
    "fold_title",
    "kbart_row",
    "row_key",
    "stored_field",
    "stored_title",
]


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

_KBART_FIELDS = frozenset(f.name for f in dataclasses.fields(KbartTitle))

#: KbartTitle field -> the kb_title column holding it (whole up to the length given).
IN_COLUMNS = {
    "publication_title": ("title", 1000), "print_identifier": ("print_id", 20),
    "online_identifier": ("online_id", 20), "title_id": ("title_id", 300),
    "title_url": ("title_url", 2000), "date_first_issue_online": ("date_first", 10),
    "date_last_issue_online": ("date_last", 10), "embargo_info": ("embargo", 32),
    "coverage_depth": ("coverage_depth", 64), "publication_type": ("publication_type", 16),
}
_IN_DATA = frozenset(f for f in _KBART_FIELDS if f not in IN_COLUMNS and f != "row")
#: The column-backed fields that can be longer than their column (identifiers, dates and
#: the publication type never are, once parsed).
_LONGER = (("publication_title", 1000), ("title_id", 300), ("title_url", 2000),
           ("embargo_info", 32), ("coverage_depth", 64))
# One encoder for every row: json.dumps() with an option builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode

#: kb_title columns (after id and row) that make a stored row's content, in the order of
#: the columns the importer writes (:func:`resolver.kb.importer._to_row`).
CONTENT_COLUMNS = (KbTitle.title, KbTitle.print_id, KbTitle.online_id, KbTitle.title_id,
                   KbTitle.title_url, KbTitle.date_first, KbTitle.date_last, KbTitle.embargo,
                   KbTitle.coverage_depth, KbTitle.publication_type)


def data_json(fields: Mapping[str, Any]) -> str:
    """``data`` for a row's fields (KbartTitle order, empty ones left out)."""
    data = {k: v for k, v in fields.items() if k in _IN_DATA}
    for name, limit in _LONGER:
        value = fields.get(name)
        if value is not None and len(value) > limit:
            data[name] = value
    return _encode(data) if data else "{}"


def stored_title(row: int, columns: Sequence[Any], data: Mapping[str, Any] | None
                 ) -> KbartTitle:
    """A stored row as parsed: ``columns`` are title, print_id, online_id, title_id,
    title_url, date_first, date_last, embargo, coverage_depth, publication_type."""
    fields: dict[str, Any] = {"row": row}
    for name, value in zip(IN_COLUMNS, columns, strict=True):
        if value is not None:
            fields[name] = value
    # Older rows repeat "row" in data: the column is right when a kept row moved.
    fields.update((k, v) for k, v in (data or {}).items() if k in _KBART_FIELDS and k != "row")
    return KbartTitle(**fields)


def kbart_row(row: KbTitle) -> KbartTitle:
    """Rebuild the parsed KBART row stored with a title (for diffs and coverage)."""
    return stored_title(row.row, [getattr(row, c) for c, _ in IN_COLUMNS.values()], row.data)


def row_key(print_id: str | None, online_id: str | None, title_id: str | None,
            title: str) -> int:
    """A title's diff key (:func:`resolver.kb.kbart.title_key` of the stored columns), hashed:
    old and new rows meet on the columns both have."""
    return hash(key_of(online_id, print_id, title_id, title))


def canonical_data(text: str | None) -> str:
    """``data`` as this version would store it, whatever version stored it."""
    if not text:
        return "{}"
    if not text.startswith('{"row"'):
        return text
    old = json.loads(text)
    return data_json({k: v for k, v in old.items() if v is not None and v != {}})


def stored_field(name: str) -> Any:
    """SQL for a stored row's KBART field ``name``: from ``data`` when it is there (every
    field of older rows; a field its column had to cut), else from its column."""
    if name in IN_COLUMNS:
        return func.coalesce(KbTitle.data[name].as_string(),
                             getattr(KbTitle, IN_COLUMNS[name][0]))
    return KbTitle.data[name].as_string()
