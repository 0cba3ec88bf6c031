"""The document-delivery queue: statuses, e-mails ready to copy, who sees which request."""

from __future__ import annotations

import html as htmlmod

import pytest
from sqlalchemy import select

from resolver import db
from resolver.accounts.models import AuditEntry
from resolver.linking.models import DeliveryRequest
from resolver.views.admin.delivery import cite

pytestmark = pytest.mark.usefixtures("cheap_hashes")

ARTICLE = {"genre": "article", "atitle": "Nuôi tôm ở Đồng bằng sông Cửu Long",
           "jtitle": "Aquaculture", "authors": ["Nguyễn, Văn A", "Trần, Thị B"],
           "volume": "12", "issue": "3", "spage": "45", "epage": "60", "year": 2021,
           "doi": "10.1016/j.aqua.2021.1", "issn": "0044-8486"}


def add_requests(sessions):  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        s.add_all([
            DeliveryRequest(institution="hue", citation=ARTICLE, requester_name="Lê Văn C",
                            requester_email="c@hueuni.edu.vn", note="gấp", status="new"),
            DeliveryRequest(institution="tvu", citation={"title": "Sách của TVU"},
                            requester_name="<script>alert(1)</script>",
                            requester_email="x@tvu.edu.vn", status="new"),
            DeliveryRequest(institution="hue", citation={"title": "Đã xong"},
                            requester_name="D", requester_email="d@hueuni.edu.vn",
                            status="delivered"),
        ])


def test_cite_builds_one_readable_line():
    assert cite(ARTICLE) == ("Nguyễn, Văn A; Trần, Thị B. Nuôi tôm ở Đồng bằng sông Cửu Long. "
                             "Aquaculture 12(3): 45-60. 2021. "
                             "DOI 10.1016/j.aqua.2021.1, ISSN 0044-8486")
    many = cite({"authors": ["A", "B", "C", "D"], "btitle": "Sách"})
    assert many == "A; B; C et al. Sách"
    assert cite({}) == ""


def test_queue_shows_open_requests_and_filters(boss, sessions):
    add_requests(sessions)
    page = boss.get("/admin/delivery?lang=en").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert "Lê Văn C" in body and "Sách của TVU" in body and "Đã xong" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    done = boss.get("/admin/delivery?status=delivered").get_data(as_text=True)
    assert "Đã xong" in done.split("<tbody>")[1]
    assert boss.get("/admin/delivery?status=bogus").status_code == 400


def test_status_changes_are_audited(boss, sessions):
    add_requests(sessions)
    res = boss.post("/admin/delivery/1/status", {"status": "in progress"})
    assert res.status_code == 302
    assert boss.post("/admin/delivery/1/status", {"status": "lost"}).status_code == 400
    with sessions() as s:
        assert s.get(DeliveryRequest, 1).status == "in progress"
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "delivery.status"))
        assert entry.details == {"before": "new", "after": "in progress"}
        assert entry.object == "delivery:1" and entry.institution_id is not None


def test_emails_in_both_languages_follow_the_status(boss, sessions):
    add_requests(sessions)
    page = htmlmod.unescape(boss.get("/admin/delivery/1?lang=en").get_data(as_text=True))
    vi = page.split('id="body-vi"')[1].split("</textarea>")[0]
    en = page.split('id="body-en"')[1].split("</textarea>")[0]
    assert "Kính gửi Lê Văn C," in vi and "đang tìm bản sao" in vi
    assert "Dear Lê Văn C," in en and "looking for a copy" in en
    for text in (vi, en):
        assert "Aquaculture 12(3): 45-60" in text and "gấp" in text and "Đại học Huế" in text
    assert "Yêu cầu cung cấp tài liệu số 1" in page
    assert "Your document delivery request no. 1" in page
    boss.post("/admin/delivery/1/status", {"status": "delivered"})
    page = htmlmod.unescape(boss.get("/admin/delivery/1").get_data(as_text=True))
    assert "attached to this message" in page and "được gửi kèm thư này" in page
    escaped = boss.get("/admin/delivery/2").get_data(as_text=True)
    assert "<script>alert(1)" not in escaped


def test_institution_admin_sees_only_their_requests(hue_admin, tvu_admin, sessions):
    add_requests(sessions)
    body = hue_admin.get("/admin/delivery?status=all").get_data(as_text=True).split(
        "<tbody>")[1]
    assert "Lê Văn C" in body and "Sách của TVU" not in body
    assert hue_admin.get("/admin/delivery/2").status_code == 404
    assert hue_admin.post("/admin/delivery/2/status", {"status": "refused"}).status_code == 404
    assert tvu_admin.post("/admin/delivery/2/status", {"status": "refused"}).status_code == 302
    with sessions() as s:
        assert s.get(DeliveryRequest, 2).status == "refused"
