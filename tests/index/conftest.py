"""The index tests' fixture: the catalogue of tests/support/catalogue.py, indexed once a module."""

from __future__ import annotations

import pytest

from index import open_index
from tests.support.catalogue import CATALOGUE


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = open_index(tmp_path_factory.mktemp("ix") / "index")
    with index.writer() as w:
        w.add(CATALOGUE)
    return index
