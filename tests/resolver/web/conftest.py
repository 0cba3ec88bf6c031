"""Web-service fixtures: the sample site (tests/support/sample.py)."""

from tests.support.sample import site, web  # noqa: F401 - fixtures
