"""A harvest that failed on a refused connection, seen in Chromium on a desktop screen: the
repositories table shows the short cause and stays within the page, every button on one
line; the job page holds the whole error text."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port, wait_for_port

pytestmark = pytest.mark.browser

LIENHOP = str(Path(sys.executable).with_name("lienhop"))
PASSWORD = "browser admin password"

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_HOME=str(tmp_path / "instance"), LIENHOP_ENV="testing",
               LIENHOP_SECRET_KEY="browser-errors", LIENHOP_HARVEST_DELAY="0",
               LIENHOP_HARVEST_RETRIES="0", LIENHOP_ADMIN_USER="chief",
               LIENHOP_ADMIN_PASSWORD=PASSWORD,
               LIENHOP_HARVEST_ALLOWED_NETWORKS="127.0.0.0/8")
    registry = tmp_path / "registry.toml"
    registry.write_text("""
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"

[[institution.repository]]
code = "hue-dspace"
oai_url = "http://127.0.0.1:9/oai"
schedule = "manual"
""", encoding="utf-8")
    subprocess.run([LIENHOP, "registry", "import", str(registry)], env=env, check=True,
                   capture_output=True, timeout=120)
    refused = subprocess.run([LIENHOP, "harvest", "hue-dspace"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1 and "Errno 111" in refused.stdout, refused.stdout
    port = free_port()
    web = subprocess.Popen([LIENHOP, "run", "--port", str(port), "--no-reload"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        web.terminate()
        web.wait(timeout=15)


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
