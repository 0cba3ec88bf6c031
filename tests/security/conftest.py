"""Hostile-request tests reuse the admin tests' cheap password hashes (still scrypt)."""

from tests.admin.conftest import cheap_hashes  # noqa: F401 - an autouse fixture
