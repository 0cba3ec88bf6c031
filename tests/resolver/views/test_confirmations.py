"""No admin POST deletes in one click: each asks on a confirmation page (no JavaScript needed)
that says what will happen, and only its own form, posted again, does it.

The URL map is walked: an admin POST endpoint whose name or path says it deletes must have a
case here, so a new one cannot slip in without its confirmation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.kb.entitlements import entitle
from resolver.kb.models import Entitlement, Package
from resolver.registry.models import IpRange, PendingIpRange, Repository
from tests.support.accounts import add_user
from tests.support.admin import AdminClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: what an endpoint that deletes is called (its name or its path)
DELETES = re.compile(r"delete|remove|reject|withdraw|unentitle|revoke|purge|drop|erase|clear",
                     re.IGNORECASE)


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


@dataclass(frozen=True)
class Case:
    endpoint: str
    #: makes what will be deleted; returns the URL and the form of the button that deletes it
    setup: Callable[[Any], tuple[str, dict[str, str]]]
    #: how many of the things it deletes exist
    present: Callable[[Any], int]
    #: words the confirmation page must say (English)
    says: tuple[str, ...]


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
]


def confirmation_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's confirming form, as a browser posts it."""
    m = re.search(r'<form method="post" action="([^"]+)" id="confirm-form">(.*?)</form>',
                  page, re.S)
    assert m, "no confirmation form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             m.group(2)))
    return html.unescape(m.group(1)), {k: html.unescape(v) for k, v in fields.items()}


def test_every_admin_post_that_deletes_has_a_case(admin_app):
    deleting = {rule.endpoint for rule in admin_app.url_map.iter_rules()
                if "POST" in (rule.methods or ()) and rule.rule.startswith("/admin")
                and DELETES.search(f"{rule.endpoint} {rule.rule}")}
    assert deleting == {case.endpoint for case in CASES}


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
        assert fields[key] == value  # the same request, confirmed
    done = chief.http.post(action, data=fields)
    assert done.status_code == 302, done.get_data(as_text=True)[-2000:]
    assert case.present(sessions) == 0


def test_the_confirmation_page_is_in_vietnamese_too(admin_app, boss):
    page = boss.post("/admin/repositories/tvu-ojs/delete?lang=vi").get_data(as_text=True)
    assert "Xin xác nhận" in page and 'lang="vi"' in page
