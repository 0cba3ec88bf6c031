"""Times the command line prints are Vietnam time and say so (``+07:00``), like every page
(resolver/web/times.py): `lienhop kb list` showed the import time in UTC without a zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from resolver import db
from resolver.kb.models import Package
from resolver.settings import load_settings
from tests.support.kb_site import FIXTURES


def test_kb_list_shows_the_import_time_in_vietnam_time(runner, lienhop_env):
    res = runner.invoke("kb", "import", "sd", str(FIXTURES / "sciencedirect_2024.tsv"))
    assert res.exit_code == 0, res.output
    sessions = db.open_database(load_settings()).sessions
    with db.transaction(sessions) as s:
        s.scalar(select(Package).where(Package.code == "sd")).imported_at = \
            dt.datetime(2024, 2, 1, 20, 0)  # stored UTC: 03:00 the next day in Vietnam
    listing = runner.invoke("kb", "list").output
    assert "imported 2024-02-02 03:00 +07:00" in listing, listing
    assert "2024-02-01 20:00" not in listing
