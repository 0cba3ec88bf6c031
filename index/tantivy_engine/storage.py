"""The tantivy engine's generations: an empty tantivy index in a new generation directory.

The layout, the writer lock and the atomic swap are engine-neutral (index/generations.py);
tantivy's own files (``meta.json``, segments, its lock files) and the spelling tables
(``sugg-*``, index/tantivy_engine/vocabulary.py) live inside the generation.
"""

from __future__ import annotations

from pathlib import Path

from index import generations
from index.tantivy_engine.schema import create

ENGINE = "tantivy"


def new_generation(root: Path) -> Path:
    """A new, empty tantivy index directory beside the live one (not yet live)."""
    return generations.new_generation(root, ENGINE, create)


def ensure_index(root: Path, *, readonly: bool) -> None:
    """Make sure ``root`` holds an index (a new one is tantivy)."""
    generations.ensure_index(root, readonly=readonly, engine=ENGINE, create=create)
