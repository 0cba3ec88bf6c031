"""No admin POST deletes in one click: each asks on a confirmation page (no JavaScript needed)
that says what will happen, and only its own form, posted again, does it.

The URL map is walked: an admin POST endpoint whose name or path says it deletes (or cancels,
or deactivates) must have a case here, so a new one cannot slip in without its confirmation;
so must the endpoints whose form destroys something by its fields (:data:`DESTROYS_BY_FORM`:
deactivating an account, a KBART file replacing a package's titles).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.accounts.models import AdminUser
from resolver.harvesting.models import ACTIVE_STATUSES, HarvestJob
from resolver.harvesting.queue import create_job
from resolver.kb.entitlements import entitle
from resolver.kb.importer import import_kbart
from resolver.kb.models import Entitlement, KbTitle, Package
from resolver.registry.models import IpRange, PendingIpRange, Repository
from tests.support.accounts import add_user
from tests.support.admin import AdminClient
from tests.support.confirm import confirmation_form, kbart

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: what an endpoint that deletes is called (its name or its path)
DELETES = re.compile(r"delete|remove|reject|withdraw|unentitle|revoke|purge|drop|erase|clear"
                     r"|cancel|deactivat|replace",
                     re.IGNORECASE)
#: endpoints that destroy something through what their form says, not through their name
DESTROYS_BY_FORM = {"admin.user_edit", "admin_kb.upload"}


def count(sessions: Any, query: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)


def add_pending(sessions: Any) -> None:
    with db.transaction(sessions) as s:
        inst = s.scalar(select(Repository.institution_id).where(Repository.code == "hue-dspace"))
        s.add(PendingIpRange(institution_id=inst, cidr="192.0.2.0/24", requested_by="hue-admin"))


def add_entitlement(sessions: Any) -> int:
    with db.transaction(sessions) as s:
        s.add(Package(code="sd", name="ScienceDirect"))
        s.flush()
        grant = entitle(s, "sd", "hue")
        assert grant is not None
        s.flush()
        return grant.id


def add_job(sessions: Any) -> tuple[str, dict[str, str]]:
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        job = create_job(s, repo, "incremental", "chief")
        job_id = job.id
    return f"/admin/jobs/{job_id}/cancel", {}


def add_leaving_user(sessions: Any) -> tuple[str, dict[str, str]]:
    add_user(sessions, "leaving")
    with sessions() as s:
        user_id = s.scalar(select(AdminUser.id).where(AdminUser.username == "leaving"))
    # the account form with "Active" unticked (a browser sends no field for it)
    return f"/admin/users/{user_id}", {"role": "consortium", "password": ""}


def add_package_to_replace(sessions: Any) -> tuple[str, dict[str, Any]]:
    with db.transaction(sessions) as s:
        import_kbart(s, "sd", kbart(("Hydrology Journal", "0028-0836"),
                                    ("Tạp chí Thủy văn", "0036-8075")), kind="subscription")
    new_file = kbart(("Hydrology Journal", "0028-0836"), ("Coastal Science", "0140-6736"))
    return "/admin/kb/upload", {"code": "sd", "file": (io.BytesIO(new_file), "sd-2025.tsv")}


@dataclass(frozen=True)
class Case:
    endpoint: str
    #: makes what will be deleted; returns the URL and the form of the button that deletes it
    setup: Callable[[Any], tuple[str, dict[str, str]]]
    #: how many of the things it deletes exist
    present: Callable[[Any], int]
    #: words the confirmation page must say (English)
    says: tuple[str, ...]
    #: the status of the confirmed request's answer
    done: int = 302


CASES = [
    Case("admin_registry.range_delete",
         lambda s: ("/admin/institutions/hue/ranges/delete", {"cidr": "203.0.113.0/24"}),
         lambda s: count(s, select(IpRange).where(IpRange.cidr == "203.0.113.0/24")),
         ("no longer identify hue",)),
    Case("admin_registry.range_delete",  # withdrawing a range waiting for approval
         lambda s: (add_pending(s), ("/admin/institutions/hue/ranges/delete",
                                     {"cidr": "192.0.2.0/24"}))[1],
         lambda s: count(s, select(PendingIpRange)),
         ("no longer waiting for approval",)),
    Case("admin_registry.range_reject",
         lambda s: (add_pending(s), ("/admin/institutions/hue/ranges/reject",
                                     {"cidr": "192.0.2.0/24"}))[1],
         lambda s: count(s, select(PendingIpRange)),
         ("request of hue-admin for 192.0.2.0/24 is deleted",)),
    Case("admin_registry.repository_delete",
         lambda s: ("/admin/repositories/tvu-ojs/delete", {}),
         lambda s: count(s, select(Repository).where(Repository.code == "tvu-ojs")),
         ("removed from search", "announces them as deleted", "only stop harvesting")),
    Case("admin_kb.entitlement_delete",
         lambda s: (f"/admin/kb/entitlements/{add_entitlement(s)}/delete", {}),
         lambda s: count(s, select(Entitlement)),
         ("no longer offered the full text of sd",)),
    Case("admin_jobs.job_cancel", add_job,
         lambda s: count(s, select(HarvestJob).where(HarvestJob.status.in_(ACTIVE_STATUSES))),
         ("Job 1 (harvest of hue-dspace (Đại học Huế)) will not run",
          "nothing already in search changes")),
    Case("admin.user_edit", add_leaving_user,
         lambda s: count(s, select(AdminUser).where(AdminUser.username == "leaving",
                                                   AdminUser.active.is_(True))),
         ("leaving can no longer log in", "every session of the account ends now")),
    Case("admin_kb.upload", add_package_to_replace,
         lambda s: count(s, select(KbTitle).where(KbTitle.title == "Tạp chí Thủy văn")),
         ("Package sd: 1 titles added, 0 changed and 1 removed",
          "Titles removed: Tạp chí Thủy văn"),
         done=200),
]


def test_every_admin_post_that_deletes_has_a_case(admin_app):
    deleting = {rule.endpoint for rule in admin_app.url_map.iter_rules()
                if "POST" in (rule.methods or ()) and rule.rule.startswith("/admin")
                and DELETES.search(f"{rule.endpoint} {rule.rule}")}
    endpoints = {rule.endpoint for rule in admin_app.url_map.iter_rules()}
    assert endpoints >= DESTROYS_BY_FORM  # renamed? then say so here
    assert deleting | DESTROYS_BY_FORM == {case.endpoint for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_a_delete_asks_first_and_the_confirmation_page_does_it(admin_app, case):
    sessions = admin_app.extensions["lienhop.sessions"]
    add_user(sessions, "chief")
    chief = AdminClient(admin_app)
    assert chief.login("chief").status_code == 302
    url, form = case.setup(sessions)
    before = case.present(sessions)
    assert before == 1
    asked = chief.post(url + "?lang=en", form)
    assert asked.status_code == 200, asked.get_data(as_text=True)[-2000:]
    page = asked.get_data(as_text=True)
    assert case.present(sessions) == before  # nothing deleted yet
    for words in case.says:
        assert words in html.unescape(page), words
    assert 'id="confirm-cancel"' in page  # and a way back that changes nothing
    action, fields = confirmation_form(page)
    assert action == url and fields["confirm"] == "yes"
    for key, value in form.items():
        if isinstance(value, str):
            assert fields[key] == value  # the same request, confirmed
    done = chief.http.post(action, data=fields)
    assert done.status_code == case.done, done.get_data(as_text=True)[-2000:]
    assert case.present(sessions) == 0


def test_the_confirmation_page_is_in_vietnamese_too(admin_app, boss):
    page = boss.post("/admin/repositories/tvu-ojs/delete?lang=vi").get_data(as_text=True)
    assert "Xin xác nhận" in page and 'lang="vi"' in page


def test_cancelling_a_job_and_deactivating_an_account_ask_in_vietnamese_too(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    url, form = add_job(sessions)
    page = html.unescape(boss.post(url + "?lang=vi", form).get_data(as_text=True))
    assert "Dừng tác vụ thu thập 1?" in page and "sẽ không chạy" in page
    url, form = add_leaving_user(sessions)
    page = html.unescape(boss.post(url + "?lang=vi", form).get_data(as_text=True))
    assert "Ngừng kích hoạt tài khoản leaving?" in page
    assert "không đăng nhập được nữa" in page


def test_an_edit_that_keeps_the_account_active_asks_nothing(admin_app, boss):
    url, form = add_leaving_user(admin_app.extensions["lienhop.sessions"])
    res = boss.post(url, {**form, "active": "on"})
    assert res.status_code == 302
