"""An administrator, in Chromium: log in, harvest a repository, watch the job finish, see the
record count change. A real `lienhop run`, a real `lienhop worker` and a live OAI-PMH
endpoint, each its own process or thread; Chromium is Debian's (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harvesters.demo_server import OAIDevServer
from resolver.demo import FORMATS, demo_records
from tests.support.admin_site import PASSWORD, import_hue_repository, instance_env, serve

pytestmark = pytest.mark.browser



@pytest.fixture
def admin_site(tmp_path: Path) -> Iterator[str]:
    _, records = demo_records("hue-dspace")
    oai = OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]},
                       deleted_record="transient").start()
    # a little slowness per page, so the browser sees the job running before it is done
    oai.inject("delay", times=3, verb="ListRecords", seconds=0.7)
    try:
        env = instance_env(tmp_path, "browser-admin", retries=1)
        import_hue_repository(env, tmp_path, oai.url)
        with serve(env, worker=True) as url:
            yield url
    finally:
        oai.stop()


def test_admin_harvests_the_demo_repository_and_sees_the_counts(browser_or_skip, admin_site):
    context = browser_or_skip.new_context(base_url=admin_site, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/admin/repositories")
        assert "/admin/login" in page.url  # not logged in yet
        page.goto("/admin/login?lang=en&next=/admin/repositories")  # English, remembered
        page.get_by_label("Username").fill("chief")
        page.get_by_label("Password").fill("wrong password!")
        page.get_by_role("button", name="Log in").click()
        assert "Wrong username or password" in page.locator("#login-error").inner_text()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/repositories**")
        row = page.locator("#repo-hue-dspace")
        assert row.locator(".records-held").inner_text().strip() == "0"
        page.get_by_role("button", name="Harvest hue-dspace now").click()
        page.wait_for_url("**/admin/jobs/*")
        # the page polls its JSON and reloads when the job is over
        # (not wait_for_function: it evaluates a string, which the CSP rightly forbids)
        from playwright.sync_api import expect

        expect(page.locator("#job-status")).to_have_text("done", timeout=60_000)
        assert page.locator("#job-pages").inner_text().strip() == "3"
        assert page.locator("#job-records").inner_text().strip() == "6"
        assert "event=finish status=ok" in page.locator("#job-log").inner_text()
        page.get_by_role("link", name="Back to the repositories").click()
        row = page.locator("#repo-hue-dspace")
        assert row.locator(".records-held").inner_text().strip() == "5"
        assert "ok" in row.inner_text()
    finally:
        context.close()
