"""Lists people read, in Vietnamese alphabetical order, and the name they read.

The order itself has one home, :func:`index.collation.sort_key` (a ă â b c d đ e ê … o ô ơ …
u ư …, tones as a tie-break); this module applies it to what a page shows. SQL ``ORDER BY``
cannot be used for it: SQLite compares code points and PostgreSQL follows the database's
collation, and both put "Đại học …" after "Trường …" and "Viện …".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Protocol, TypeVar

from flask_babel import get_locale

from index.collation import sort_key

T = TypeVar("T")


class Named(Protocol):
    """An institution as the registry keeps it (a database row or the resolver's snapshot)."""

    @property
    def name_vi(self) -> str: ...

    @property
    def name_en(self) -> str: ...


N = TypeVar("N", bound=Named)


@lru_cache(maxsize=8192)
def people_order(text: str) -> tuple[str, str]:
    """The sort key of ``text`` in Vietnamese order; the text itself breaks exact ties, so
    the order is the same on every call. Cached: the same few hundred names are sorted on
    every resolver page."""
    return sort_key(text), text


def by_name(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """``items`` in Vietnamese alphabetical order of ``name(item)``."""
    return sorted(items, key=lambda item: people_order(name(item)))


def ui_english() -> bool:
    """Whether the page is in English (``vi`` otherwise: the consortium's language)."""
    return str(get_locale()) == "en"


def institution_name(inst: Named) -> str:
    """An institution's name in the page's language (the Vietnamese one when it has no
    English name)."""
    return inst.name_en if ui_english() and inst.name_en else inst.name_vi


def institutions_by_name(items: Iterable[N]) -> list[N]:
    """Institutions in Vietnamese alphabetical order of the name the page shows."""
    return by_name(items, institution_name)
