"""Page fixtures: the sample site (tests/support/sample.py) and the admin app with its
logged-in clients (tests/support/admin.py)."""

from tests.support.admin import admin_app, boss, hue_admin  # noqa: F401 - fixtures
from tests.support.sample import site, web  # noqa: F401 - fixtures
