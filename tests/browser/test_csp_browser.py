"""The pages work under the Content-Security-Policy, in headless Chromium: no violation on
the public pages, the resolver's pages and the admin pages, and their styles still apply
(the year bars' lengths, the hashed <style> blocks)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from resolver import db
from resolver.accounts.auth import create_user
from tests.support.sample import THESIS

# This test sits beside the other browser tests so that one Playwright session serves them all
# (two session fixtures of sync_playwright cannot live in one process); the sample site's
# fixture ``site`` comes in through tests/browser/conftest.py.

pytestmark = pytest.mark.browser

PASSWORD = "a long enough test password"
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def served(site, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setattr("resolver.accounts.auth.generate_password_hash",
                        functools.partial(generate_password_hash, method="scrypt:1024:8:1"))
    with db.transaction(site.extensions["lienhop.sessions"]) as s:
        create_user(s, "boss", PASSWORD, role="consortium", institution_id=None)
    server = make_server("127.0.0.1", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(browser_or_skip, served):  # type: ignore[no-untyped-def]
    context = browser_or_skip.new_context(base_url=served, locale="en-US")
    context.add_init_script(WATCH)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    console: list[str] = []
    pg.on("console", lambda m: console.append(m.text)
          if "Content Security Policy" in m.text else None)
    pg.csp_console = console  # type: ignore[attr-defined]
    yield pg
    context.close()


def violations(pg) -> list[str]:  # type: ignore[no-untyped-def]
    return list(pg.evaluate("window.__csp")) + list(pg.csp_console)


def test_public_and_resolver_pages_break_no_rule(page):
    for url in ("/", "/search", "/search?q=thu+vien", f"/record/{THESIS.id}", "/advanced",
                "/resolve?rft.btitle=Thu+vien", "/resolve/delivery?rft.btitle=Thu+vien",
                "/admin/login"):
        res = page.goto(url)
        assert res is not None and res.ok, url
        page.wait_for_load_state("load")
        assert violations(page) == [], url
    page.goto("/resolve?rft.btitle=Thu+vien")
    # the menu's own <style> block applies: allowed by its hash
    background = page.eval_on_selector(".who", "e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(244, 241, 232)"


def test_year_bars_have_their_lengths(page):
    page.goto("/search")
    widths = page.eval_on_selector_all(
        ".histogram .bar", "bars => bars.map(b => b.getBoundingClientRect().width)")
    track = page.eval_on_selector(
        ".histogram li a", "a => a.querySelector('.bar').parentElement"
        ".getBoundingClientRect().width")
    assert widths and max(widths) > 20 and max(widths) < track
    assert len({round(w) for w in widths}) > 1  # not all one length
    assert violations(page) == []


def test_admin_pages_break_no_rule(page):
    page.goto("/admin/login?lang=en")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/(?!login)"))
    for url in ("/admin/repositories", "/admin/jobs", "/admin/institutions",
                "/admin/kb/packages", "/admin/kb/upload", "/admin/usage",
                "/admin/usage/reports/clicks-by-package",
                "/admin/usage/counter", "/admin/audit"):
        res = page.goto(url)
        assert res is not None and res.status < 400, (url, res and res.status)
        assert violations(page) == [], url
    page.goto("/admin/repositories")
    # the admin layout's <style> block applies: allowed by its hash
    assert page.eval_on_selector(".admin-nav", "e => getComputedStyle(e).display") == "flex"
