"""The audit page shows every time in Vietnam time, also the times inside an entry's details
(a lock's end, when a range was requested), which are stored in UTC."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from resolver import db
from resolver.accounts.models import AuditEntry

pytestmark = pytest.mark.usefixtures("cheap_hashes")

EVENING_UTC = dt.datetime(2024, 2, 1, 20, 0)


def test_times_inside_audit_details_are_vietnam_time(admin_app, boss):
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        s.add(AuditEntry(at=EVENING_UTC, username="(worker)", action="login.lock",
                         object="user:x", ip="127.0.0.1",
                         details={"scope": "account", "until": "2024-02-01T20:15:00.250000"}))
        s.add(AuditEntry(at=EVENING_UTC, username="hue-admin", action="ip_range.withdraw",
                         object="institution:hue", ip="127.0.0.1",
                         details={"cidr": "192.0.2.0/24", "since": "2004-10-01",
                                  "requested_at": "2024-02-01T19:59:59"}))
    page = html.unescape(boss.get("/admin/audit").get_data(as_text=True))
    assert '"until": "2024-02-02 03:15:00"' in page
    assert '"requested_at": "2024-02-02 02:59:59"' in page
    assert '"since": "2004-10-01"' in page  # a date stays a date
    assert "2024-02-01T2" not in page and "2024-02-01T19" not in page
    with admin_app.extensions["lienhop.sessions"]() as s:  # stored as it was: UTC
        stored = {e.action: e.details for e in s.query(AuditEntry)}
    assert stored["login.lock"]["until"] == "2024-02-01T20:15:00.250000"
