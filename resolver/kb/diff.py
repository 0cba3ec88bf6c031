"""What a re-import of a KBART file changes: titles added, changed and removed (pure).

A title keeps its identity across re-imports by :func:`title_key` (its online identifier,
else its print identifier, else the provider's title id, else its folded title), so a file
re-sent with rows in another order or with a corrected cell reports the change, not a
removal and an addition.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from resolver.kb.kbart import KbartTitle


@functools.cache
def _marks() -> dict[int, None]:
    # Built on first use (a fifth of a second) from this Python's own Unicode tables.
    return dict.fromkeys(c for c in range(sys.maxunicode + 1)
                         if unicodedata.combining(chr(c)))


#: The combining marks of Latin script (Vietnamese tones and vowel marks among them), but
#: U+034F, the grapheme joiner, which combines with nothing.
_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")


def strip_marks(s: str) -> str:
    """``s`` without its combining marks (decompose first to strip accents)."""
    if s.isascii():
        return s
    # Latin marks by a small character class first: five times faster than translate()
    # with the whole table, which only text in other scripts still needs.
    s = _LATIN_MARKS.sub("", s)
    return s if s.isascii() else s.translate(_marks())


def key_of(online_id: str | None, print_id: str | None, title_id: str | None,
           title: str) -> str:
    """:func:`title_key` of a row given by those four fields."""
    if online_id:
        return f"id:{online_id}"
    if print_id:
        return f"id:{print_id}"
    if title_id:
        return f"title_id:{title_id}"
    s = strip_marks(unicodedata.normalize("NFKD", title.lower()))
    return "title:" + _NON_WORD.sub(" ", s).strip()


_NON_WORD = re.compile(r"[\W_]+")


def title_key(t: KbartTitle) -> str:
    """Online id, else print id, else title_id, else the normalised title."""
    return key_of(t.online_identifier, t.print_identifier, t.title_id, t.publication_title)


@dataclass(frozen=True, slots=True)
class TitleChange:
    """A title present in both files whose rows differ; ``fields`` names what changed."""

    key: str
    old: tuple[KbartTitle, ...]
    new: tuple[KbartTitle, ...]
    fields: tuple[str, ...]


@dataclass(slots=True)
class TitleDiff:
    """Re-import report: rows grouped by title key."""

    added: list[KbartTitle] = field(default_factory=list)
    changed: list[TitleChange] = field(default_factory=list)
    removed: list[KbartTitle] = field(default_factory=list)


_IGNORED_IN_DIFF = {"row"}


def _content(t: KbartTitle) -> tuple[Any, ...]:
    # (is set, value): a title's rows are sorted by content, and an empty cell (None) beside
    # a filled one must sort too instead of raising TypeError.
    return tuple(
        (f.name, (value is not None, value))
        for f in dataclasses.fields(t)
        if f.name not in _IGNORED_IN_DIFF
        for value in (getattr(t, f.name) if f.name != "extra"
                      else tuple(sorted(t.extra.items())),)
    )


def _group(titles: Iterable[KbartTitle]) -> dict[str, list[KbartTitle]]:
    groups: dict[str, list[KbartTitle]] = {}
    for t in titles:
        groups.setdefault(title_key(t), []).append(t)
    return groups


def diff_titles(old: Iterable[KbartTitle], new: Iterable[KbartTitle]) -> TitleDiff:
    """Compare two imports; several coverage rows for one title are compared as a set."""
    og, ng = _group(old), _group(new)
    diff = TitleDiff()
    for key, rows in ng.items():
        if key not in og:
            diff.added.extend(rows)
            continue
        before = sorted(_content(t) for t in og[key])
        after = sorted(_content(t) for t in rows)
        if before != after:
            names = {
                name
                for b, a in zip(before, after, strict=False)
                for (name, bv), (_, av) in zip(b, a, strict=True)
                if bv != av
            }
            if len(before) != len(after):
                names.add("coverage rows")
            diff.changed.append(TitleChange(key, tuple(og[key]), tuple(rows),
                                            tuple(sorted(names))))
    for key, rows in og.items():
        if key not in ng:
            diff.removed.extend(rows)
    return diff
