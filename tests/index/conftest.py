"""The index tests' fixtures: every engine behind ``index`` (``engine``), and the catalogue
of tests/support/catalogue.py indexed once a module and engine (``ix``).

Tests that make an index themselves take ``engine`` and pass it to ``open_index`` /
``rebuild``; each runs once per engine (ids ``[whoosh]``, ``[tantivy]``).
"""

from __future__ import annotations

import pytest

from index import open_index
from index.api import ENGINES
from tests.support.catalogue import CATALOGUE


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture(scope="module")
def ix(tmp_path_factory, engine):  # type: ignore[no-untyped-def]
    index = open_index(tmp_path_factory.mktemp("ix") / "index", engine=engine)
    with index.writer() as w:
        w.add(CATALOGUE)
    return index
