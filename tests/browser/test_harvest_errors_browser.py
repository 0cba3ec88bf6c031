"""A harvest that failed on a refused connection, seen in Chromium on a desktop screen: the
repositories table shows the short cause and stays within the page, every button on one
line; the job page holds the whole error text."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.admin_site import (
    LIENHOP,
    PASSWORD,
    import_hue_repository,
    instance_env,
    serve,
)

pytestmark = pytest.mark.browser


#: per button, the number of lines its label takes; the page's own and scrolled widths
MEASURE = """() => {
  const lines = el => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
  const table = document.querySelector('#repositories');
  return {buttons: [...table.querySelectorAll('button')].map(lines),
          client: document.documentElement.clientWidth,
          scroll: document.documentElement.scrollWidth,
          table: Math.round(table.getBoundingClientRect().right)};
}"""


@pytest.fixture
def failed_site(tmp_path: Path) -> Iterator[str]:
    """`lienhop run` over an instance whose only repository refused the harvest."""
    env = instance_env(tmp_path, "browser-errors", retries=0)
    import_hue_repository(env, tmp_path, "http://127.0.0.1:9/oai")
    refused = subprocess.run([LIENHOP, "harvest", "hue-dspace"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1 and "Errno 111" in refused.stdout, refused.stdout
    with serve(env) as url:
        yield url


def test_a_refused_harvest_keeps_the_table_in_the_page(browser_or_skip, failed_site):
    context = browser_or_skip.new_context(base_url=failed_site, locale="en-US",
                                          viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/admin/login?lang=en&next=/admin/repositories")
        page.get_by_label("Username").fill("chief")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/repositories")
        row = page.locator("#repo-hue-dspace")
        assert "Connection refused by the repository" in row.inner_text()
        assert "HTTPConnectionPool" not in row.inner_text()
        seen = page.evaluate(MEASURE)
        assert seen["buttons"] and set(seen["buttons"]) == {1}, seen  # no button wraps
        assert seen["scroll"] <= seen["client"] and seen["table"] <= seen["client"], seen
        # the whole text, for whoever fixes the repository, one click away
        row.locator("td.cause summary").click()
        assert "Errno 111" in row.locator("td.cause .detail").inner_text()
    finally:
        context.close()
