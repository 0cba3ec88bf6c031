"""Campus IP ranges: an institution administrator's new range waits for a consortium
administrator's approval, and nobody may claim other people's addresses.

Detection is checked where it matters, on ``/resolve/api`` from a client address.
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from sqlalchemy import select

from resolver.accounts.models import AuditEntry
from resolver.registry.models import IpRange, PendingIpRange
from tests.support.admin import AdminClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

CITATION = "rft.genre=article&rft.atitle=Groundwater&rft.issn=0022-1694&rft.date=2019"
CAMPUS = "192.0.3.0/24"  # not a documentation range: a real network someone holds
CLIENT = "192.0.3.77"


def detected(app, ip: str) -> str | None:  # type: ignore[no-untyped-def]
    res = app.test_client().get("/resolve/api?" + CITATION, environ_base={"REMOTE_ADDR": ip})
    assert res.status_code == 200
    return res.get_json()["institution"]


def in_force(app) -> set[str]:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return set(s.scalars(select(IpRange.cidr)))


def waiting(app) -> set[str]:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return set(s.scalars(select(PendingIpRange.cidr)))


def audit(app, prefix: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return [e for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if e.action.startswith(prefix)]


@pytest.fixture
def tvu_admin(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    c = AdminClient(admin_app)
    assert c.login("tvu-admin").status_code == 302
    return c


def test_a_range_from_an_institution_admin_waits_and_detects_nobody(admin_app, hue_admin):
    res = hue_admin.post("/admin/institutions/hue/ranges?lang=en", {"cidr": CAMPUS})
    assert res.status_code == 302
    assert detected(admin_app, CLIENT) is None
    assert detected(admin_app, "203.0.113.5") == "hue"  # the approved range still works
    assert CAMPUS not in in_force(admin_app) and waiting(admin_app) == {CAMPUS}
    page = hue_admin.get("/admin/institutions/hue?lang=en").get_data(as_text=True)
    assert "takes effect once a consortium administrator approves it" in page
    assert CAMPUS in page and "waiting for approval" in page
    assert CAMPUS not in page.split("Waiting for approval")[0]  # not among ranges in force
    (entry,) = audit(admin_app, "ip_range.add")
    assert entry.username == "hue-admin" and entry.details["waiting_for_approval"] == [CAMPUS]


def test_approval_puts_the_range_in_force_audited(admin_app, hue_admin, boss):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    listing = boss.get("/admin/institutions?lang=en").get_data(as_text=True)
    assert "IP ranges waiting for approval: 1" in listing
    page = boss.get("/admin/ranges/pending?lang=en").get_data(as_text=True)
    assert CAMPUS in page and "hue-admin" in page and "/admin/institutions/hue/ranges/approve" \
        in page and "/admin/institutions/hue/ranges/reject" in page
    inst_page = boss.get("/admin/institutions/hue?lang=en").get_data(as_text=True)
    assert "Approve " + CAMPUS in inst_page and "Reject " + CAMPUS in inst_page

    res = boss.post("/admin/institutions/hue/ranges/approve",
                    {"cidr": CAMPUS, "next": "/admin/ranges/pending"})
    assert res.status_code == 302 and res.headers["Location"].endswith("/admin/ranges/pending")
    assert CAMPUS in in_force(admin_app) and waiting(admin_app) == set()
    assert detected(admin_app, CLIENT) == "hue"
    (entry,) = audit(admin_app, "range.approve")
    assert entry.username == "boss" and entry.details["cidr"] == CAMPUS
    assert entry.details["requested_by"] == "hue-admin" and entry.institution_id is not None
    # the institution administrator sees the decision in their own trail
    assert "range.approve" in hue_admin.get("/admin/audit").get_data(as_text=True)
    assert "waiting for approval" not in hue_admin.get(
        "/admin/institutions/hue?lang=en").get_data(as_text=True)


def test_rejection_removes_the_request_audited(admin_app, hue_admin, boss):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    res = boss.post("/admin/institutions/hue/ranges/reject", {"cidr": CAMPUS, "confirm": "yes"})
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/admin/institutions/hue#ranges")
    assert waiting(admin_app) == set() and CAMPUS not in in_force(admin_app)
    assert detected(admin_app, CLIENT) is None
    (entry,) = audit(admin_app, "range.reject")
    assert entry.details["cidr"] == CAMPUS and entry.username == "boss"
    # a decision on a range nobody asked for is a 404, not a 500
    assert boss.post("/admin/institutions/hue/ranges/approve", {"cidr": CAMPUS}
                     ).status_code == 404


def test_only_a_consortium_administrator_decides(admin_app, hue_admin, boss):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    assert hue_admin.post("/admin/institutions/hue/ranges/approve", {"cidr": CAMPUS}
                          ).status_code == 403
    assert hue_admin.post("/admin/institutions/hue/ranges/reject", {"cidr": CAMPUS}
                          ).status_code == 403
    assert hue_admin.get("/admin/ranges/pending").status_code == 403
    assert "Approve" not in hue_admin.get("/admin/institutions/hue?lang=en").get_data(
        as_text=True)
    # without the CSRF token nothing is decided
    assert boss.http.post("/admin/institutions/hue/ranges/approve",
                          data={"cidr": CAMPUS}).status_code == 400
    assert waiting(admin_app) == {CAMPUS} and detected(admin_app, CLIENT) is None


def test_the_institution_admin_withdraws_a_waiting_range(admin_app, hue_admin):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    res = hue_admin.post("/admin/institutions/hue/ranges/delete",
                         {"cidr": CAMPUS, "confirm": "yes"})
    assert res.status_code == 302 and waiting(admin_app) == set()
    assert [e.details["cidr"] for e in audit(admin_app, "ip_range.withdraw")] == [CAMPUS]


def test_a_consortium_administrators_range_is_in_force_at_once(admin_app, boss):
    assert boss.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS}).status_code == 302
    assert CAMPUS in in_force(admin_app) and waiting(admin_app) == set()
    assert detected(admin_app, CLIENT) == "hue"


def test_an_institution_admin_cannot_claim_wide_or_special_ranges(admin_app, hue_admin):
    for cidr in ["0.0.0.0/1 ::/3", "0.0.0.0/1", "::/3", "10.0.0.0/15", "2400::/31",
                 "127.0.0.0/16", "169.254.0.0/16", "224.1.0.0/16", "240.0.0.0/16",
                 "fe80::/64", "ff02::/16", "::ffff:0:0/104", "::1/128", "::/128"]:
        res = hue_admin.post("/admin/institutions/hue/ranges?lang=en", {"cidr": cidr})
        assert res.status_code == 422, cidr
        html = res.get_data(as_text=True)
        assert "too wide" in html or "cannot be a campus range" in html, cidr
    assert waiting(admin_app) == set()
    assert in_force(admin_app) == {"203.0.113.0/24", "198.51.100.0/24"}
    assert detected(admin_app, "8.8.8.8") is None and not audit(admin_app, "ip_range.")


def test_the_refusal_is_in_vietnamese_by_default(admin_app, hue_admin):
    res = hue_admin.post("/admin/institutions/hue/ranges", {"cidr": "0.0.0.0/1 10.0.0.0/15"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert "không thể là dải IP" in html and "quá rộng" in html and "/16" in html


def test_ranges_up_to_the_limit_and_private_ranges_may_be_requested(admin_app, hue_admin):
    cidrs = ["10.20.0.0/16", "172.16.5.0/24", "2400:cb00::/32", "fd12:3456:789a::/48"]
    for cidr in cidrs:
        assert hue_admin.post("/admin/institutions/hue/ranges", {"cidr": cidr}
                              ).status_code == 302, cidr
    assert waiting(admin_app) == set(cidrs)


def test_a_consortium_administrator_is_held_to_the_registry_limits(admin_app, boss):
    for cidr, ok in [("16.0.0.0/8", True), ("10.0.0.0/12", True), ("2400::/24", True),
                     ("32.0.0.0/7", False), ("0.0.0.0/1", False), ("127.0.0.0/8", False),
                     ("2600::/23", False)]:
        res = boss.post("/admin/institutions/tvu/ranges?lang=en", {"cidr": cidr})
        assert res.status_code == (302 if ok else 422), cidr
        assert (cidr in in_force(admin_app)) is ok


def test_a_range_holding_a_trusted_proxy_is_refused(admin_app, boss):
    settings = admin_app.config["LIENHOP"]
    admin_app.config["LIENHOP"] = dataclasses.replace(
        settings, trusted_proxies=(ipaddress.ip_network("10.9.0.1/32"),))
    res = boss.post("/admin/institutions/tvu/ranges?lang=en", {"cidr": "10.9.0.0/16"})
    assert res.status_code == 422 and "reverse proxy" in res.get_data(as_text=True)
    assert "10.9.0.0/16" not in in_force(admin_app)


def test_a_request_overlapping_anothers_waiting_range_is_refused(admin_app, hue_admin,
                                                                 tvu_admin):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    res = tvu_admin.post("/admin/institutions/tvu/ranges?lang=en", {"cidr": "192.0.3.128/25"})
    assert res.status_code == 422
    assert "waiting to have approved" in res.get_data(as_text=True)
    # and one overlapping a range in force, as before
    res = tvu_admin.post("/admin/institutions/tvu/ranges?lang=en", {"cidr": "203.0.113.0/25"})
    assert res.status_code == 422 and "overlaps 203.0.113.0/24" in res.get_data(as_text=True)
    # the same range twice from one institution is refused too
    res = hue_admin.post("/admin/institutions/hue/ranges?lang=en", {"cidr": CAMPUS})
    assert res.status_code == 422
    assert waiting(admin_app) == {CAMPUS}


def test_an_approval_that_became_an_overlap_is_refused(admin_app, hue_admin, boss):
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    assert boss.post("/admin/institutions/tvu/ranges", {"cidr": "192.0.3.0/25"}
                     ).status_code == 302
    res = boss.post("/admin/institutions/hue/ranges/approve?lang=en", {"cidr": CAMPUS})
    assert res.status_code == 422
    assert "192.0.3.0/25 overlaps 192.0.3.0/24" in res.get_data(as_text=True)
    assert waiting(admin_app) == {CAMPUS} and detected(admin_app, CLIENT) == "tvu"
    assert not audit(admin_app, "range.approve")


def test_ranges_per_institution_are_capped(admin_app, hue_admin, boss):
    many = " ".join(f"100.64.{i}.0/24" for i in range(64))  # 65 with hue's own range
    res = hue_admin.post("/admin/institutions/hue/ranges?lang=en", {"cidr": many})
    assert res.status_code == 422 and "at most 64" in res.get_data(as_text=True)
    res = boss.post("/admin/institutions/hue/ranges?lang=en", {"cidr": many})
    assert res.status_code == 422 and "at most 64" in res.get_data(as_text=True)
    assert waiting(admin_app) == set() and len(in_force(admin_app)) == 2


def test_the_registry_export_keeps_only_ranges_in_force(admin_app, hue_admin, boss):
    from resolver.registry.sync import export_registry

    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": CAMPUS})
    with admin_app.extensions["lienhop.sessions"]() as s:
        text = export_registry(s)
    assert CAMPUS not in text and "203.0.113.0/24" in text
    # an edit of the institution's other data keeps the request waiting
    assert boss.post("/admin/institutions/hue", {"name_vi": "Đại học Huế", "status": "member"}
                     ).status_code == 302
    assert waiting(admin_app) == {CAMPUS}
