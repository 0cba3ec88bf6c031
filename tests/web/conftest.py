"""A site with a small index (tests/web/sample.py) and its institutions registered."""

from __future__ import annotations

import pytest

from tests.web.sample import add_institutions, build_index


@pytest.fixture
def site(app):  # type: ignore[no-untyped-def]
    build_index(app.config["LIENHOP"].index_dir)
    add_institutions(app)
    return app


@pytest.fixture
def web(site):  # type: ignore[no-untyped-def]
    """A test client of the site, in Vietnamese (the default)."""
    return site.test_client()
