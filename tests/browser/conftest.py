"""A real lienhop server (subprocess) over the sample consortium, and headless Chromium.

Chromium is Debian's (/usr/bin/chromium; `make test` installs it through
scripts/system-deps.sh); Playwright only drives it, so no browser is ever downloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port, wait_for_port
from tests.support.sample import site  # noqa: F401 - a fixture (test_csp_browser.py)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing — run `make test` (it installs "
                "Debian's chromium package) or `apt-get install chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "BROWSER TESTS SKIPPED: the playwright package is missing (pip install -e .[test])"
    return None


@pytest.fixture(scope="session")
def browser_or_skip():  # type: ignore[no-untyped-def]
    reason = _skip_reason()
    if reason:
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `lienhop run` on a free port, its index built from tests/support/sample.py."""
    from tests.support.long_record import LONG
    from tests.support.sample import EVIL, INSTITUTIONS, build_index, records

    home = tmp_path_factory.mktemp("browser-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_HOME=str(home), LIENHOP_ENV="testing", LIENHOP_SECRET_KEY="browser-tests")
    lienhop = str(Path(sys.executable).with_name("lienhop"))
    # The demo registry names the same institutions (codes) as the sample records.
    subprocess.run([lienhop, "demo", "load", "--no-harvest"], env=env, check=True,
                   capture_output=True, timeout=120)
    assert {code for code, *_ in INSTITUTIONS} <= {"nasati", "hue", "vnuhcm", "tvu"}
    # The hostile record is the client tests' job; here it would only spoil the screenshots.
    # The record with very long identifiers is for the narrow-screen tests.
    build_index(home / "index", [r for r in records() if r.id != EVIL.id] + [LONG])
    port = free_port()
    proc = subprocess.Popen([lienhop, "run", "--port", str(port), "--no-reload"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def page(browser_or_skip, server):  # type: ignore[no-untyped-def]
    context = browser_or_skip.new_context(base_url=server, accept_downloads=True,
                                          viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
