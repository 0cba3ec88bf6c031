"""Linking fixtures: the resolver's consortium with a knowledge base (tests/support/kb_site.py)
and, for the document-delivery admin pages, the admin app and its clients
(tests/support/admin.py)."""

from tests.support.admin import (  # noqa: F401 - fixtures
    admin_app,
    boss,
    hue_admin,
    sessions,
    tvu_admin,
)
from tests.support.kb_site import kb_app, kb_client, kb_env  # noqa: F401 - fixtures
