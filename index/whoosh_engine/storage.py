"""The Whoosh engine's generations: an empty Whoosh index in a new generation directory.

The directory layout, the writer lock and the atomic swap are engine-neutral
(index/generations.py). Beside each Whoosh segment lie its spelling tables
(``<segment>.sugg_<field>``, index/whoosh_engine/suggest.py), written at commit.
"""

from __future__ import annotations

from pathlib import Path

from whoosh import index as windex

from index import generations
from index.whoosh_engine.schema import build_schema

ENGINE = "whoosh"


def _create(gen: Path) -> None:
    windex.create_in(str(gen), build_schema())


def new_generation(root: Path) -> Path:
    """A new, empty Whoosh index directory beside the live one (not yet live)."""
    return generations.new_generation(root, ENGINE, _create)


def ensure_index(root: Path, *, readonly: bool) -> None:
    """Make sure ``root`` holds an index (a new one is Whoosh; see
    :func:`index.generations.ensure_index`)."""
    generations.ensure_index(root, readonly=readonly, engine=ENGINE, create=_create)
