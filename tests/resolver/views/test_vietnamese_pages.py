"""The main public and admin pages rendered in Vietnamese show none of the English words
lienhop stores as codes (job and run states, schedules, the resolver's notes, "Status").

Only what a reader reads is searched: text, not attributes, classes or ``data-*`` values;
not ``<code>``/``<pre>`` (audit details, job logs: quoted as stored), not ``<script>``/
``<style>``, not what is marked ``lang="en"`` (an institution's English name). Each missing
translation fails with the page and the sentence it was found in.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from resolver import db
from resolver.harvesting.models import HarvestJob, HarvestRun
from resolver.registry.models import Repository
from tests.resolver.views.test_resolver_language import FLOOD, MESSY

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: English that leaked into Vietnamese pages before (issue 15), as whole words
ENGLISH = re.compile(
    r"\b(queued|running|done|failed|partial|cancelled|ok|manual|hourly|daily|weekly|monthly|"
    r"every \d+\s*[mhd]|Status|missing|accepted|never|Liên hiệp)\b", re.I)
SKIPPED = {"script", "style", "code", "pre", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Text(HTMLParser):
    """The text a reader sees (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        skipped = (bool(self.stack) and self.stack[-1]) or tag in SKIPPED \
            or dict(attrs).get("lang") == "en"
        self.stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_in(page: str) -> list[str]:
    reader = _Text()
    reader.feed(page)
    text = re.sub(r"\s+", " ", " ".join(reader.parts))
    return [text[max(0, m.start() - 40):m.end() + 40] for m in ENGLISH.finditer(text)]


def test_the_reader_finds_what_leaked_and_skips_what_is_quoted():
    page = ('<p>Trạng thái: <b>queued</b></p><pre>2024 INFO done</pre>'
            '<span lang="en">Hue University, every 6h</span><td class="status-ok">thành công</td>')
    found = english_in(page)
    assert len(found) == 1 and "Trạng thái: queued" in found[0]


def test_public_pages_in_vietnamese(site, web):
    record = "/record/hue-dspace-thesis1"
    for url in ("/", "/search?q=th%C6%B0%20vi%E1%BB%87n", "/advanced", record, MESSY, FLOOD):
        res = web.get(url + ("&" if "?" in url else "?") + "lang=vi")
        assert res.status_code == 200, url
        assert not english_in(res.get_data(as_text=True)), url


def test_admin_pages_in_vietnamese(admin_app, boss):
    sessions = admin_app.extensions["lienhop.sessions"]
    evening = dt.datetime(2024, 2, 1, 20, 0)
    with db.transaction(sessions) as s:
        hue = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        tvu = s.scalar(select(Repository).where(Repository.code == "tvu-ojs"))
        hue.schedule, tvu.schedule = "every 6h", "30 2 * * *"
        s.add(HarvestRun(repository_id=hue.id, status="ok", started_at=evening))
        s.add(HarvestRun(repository_id=tvu.id, status="partial", started_at=evening))
        for status in ("done", "partial", "failed", "cancelled", "queued"):
            s.add(HarvestJob(repository_id=tvu.id if status != "queued" else hue.id,
                             kind="incremental", status=status, enqueued_by="boss",
                             enqueued_at=evening, finished_at=evening, attempts=1,
                             cancel_requested=False, worker="", task_id="", error="",
                             log="2024-02-01T20:00:00Z INFO page 1 done\n"))
    jobs = [j for j, in db_rows(sessions)]
    pages = ["/admin/repositories", "/admin/jobs", *(f"/admin/jobs/{j}" for j in jobs),
             "/admin/institutions", "/admin/institutions/hue", "/admin/institutions/new",
             "/admin/institutions/hue/repositories/new", "/admin/repositories/hue-dspace/edit",
             "/admin/audit", "/admin/users", "/admin/users/new", "/admin/ranges/pending",
             "/admin/kb/packages", "/admin/kb/entitlements", "/admin/kb/settings",
             "/admin/kb/platforms", "/admin/kb/upload", "/admin/kb/linkcheck", "/admin/usage",
             "/admin/usage/counter", "/admin/usage/costs", "/admin/delivery",
             "/admin/usage/reports/requests"]
    for url in pages:
        res = boss.get(url + "?lang=vi")
        assert res.status_code == 200, url
        assert not english_in(res.get_data(as_text=True)), url


def db_rows(sessions):  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.execute(select(HarvestJob.id).order_by(HarvestJob.id)).all()


def test_status_is_trang_thai_and_membership_is_tu_cach(site, web, admin_app, boss):
    for url in ("/admin/repositories", "/admin/jobs", "/admin/delivery"):
        page = boss.get(url + "?lang=vi").get_data(as_text=True)
        assert '<th scope="col">Trạng thái</th>' in page and "Tư cách" not in page, url
    page = boss.get("/admin/institutions?lang=vi").get_data(as_text=True)
    assert '<th scope="col">Tư cách</th>' in page
    home = web.get("/?lang=vi").get_data(as_text=True)
    assert '<th scope="col">Tư cách</th>' in home
    assert '<th scope="col">Status</th>' in web.get("/?lang=en").get_data(as_text=True)
