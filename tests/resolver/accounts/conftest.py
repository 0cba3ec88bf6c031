"""Accounts fixtures: the admin app and its clients (tests/support/admin.py)."""

from tests.support.admin import admin_app, anon, boss, hue_admin  # noqa: F401 - fixtures
