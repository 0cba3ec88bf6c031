"""Registry fixtures: the admin app and its logged-in clients (tests/support/admin.py)."""

from tests.support.admin import admin_app, boss, hue_admin  # noqa: F401 - fixtures
