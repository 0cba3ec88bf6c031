"""What a researcher does in a real browser: search, narrow, switch language, open, export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.browser import SCREENSHOTS
from tests.support.sample import FLOOD_HUE, THESIS

pytestmark = pytest.mark.browser


def search_from_home(page, q: str) -> None:
    page.goto("/")
    page.fill("#q", q)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?"))


@pytest.mark.parametrize("q", ["thư viện số", "thu vien so"])
def test_search_with_and_without_diacritics(page, q):
    search_from_home(page, q)
    assert page.locator(f'a[href="/record/{THESIS.id}"]').first.is_visible()
    assert page.locator(".hit mark").count() > 0
    assert page.locator("#header-q").input_value() == q


def test_apply_and_remove_a_facet(page):
    search_from_home(page, "thu vien")
    before = page.locator(".hit").count()
    page.locator(".facet a", has_text="Đại học Huế").click()
    page.wait_for_url(re.compile(r"institution=hue"))
    chip = page.locator("a.chip", has_text="Đại học Huế")
    assert chip.is_visible()
    assert page.locator(".hit").count() <= before
    chip.click()
    page.wait_for_load_state()
    assert page.locator("a.chip").count() == 0
    assert "institution" not in page.url


def test_sort_menu_applies_itself(page):
    page.goto("/search?q=bao+cao")
    page.select_option("#sort", "oldest")
    page.wait_for_url(re.compile(r"sort=oldest"))
    years = [int(y) for y in page.locator(".hit .meta span").all_inner_texts()
             if re.fullmatch(r"\d{4}", y)]
    assert years == sorted(years) and years[0] == 1990


def test_switch_language_and_it_is_remembered(page):
    page.goto("/search?q=thu+vien")
    page.click("text=English")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Results for" in page.locator("h1").inner_text()
    assert "thu vien" in page.locator("h1").inner_text()  # the search survived the switch
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("text=Tiếng Việt")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"


def test_open_a_record_and_export_ris(page):
    search_from_home(page, "hoc may du bao lu")
    page.locator(".hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/record/"))
    assert page.locator("h1").inner_text() == FLOOD_HUE.title
    assert page.locator("table.holdings tbody tr").count() == 2
    with page.expect_download() as info:
        page.click("a:text-is('RIS')")
    download = info.value
    assert download.suggested_filename.endswith(".ris")
    body = Path(download.path()).read_text(encoding="utf-8")
    assert body.startswith("TY  - JOUR") and FLOOD_HUE.title in body


def test_keyboard_only(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"  # the first stop is "skip to content", and it shows
    assert page.locator("a.skip").bounding_box()["x"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.focus("#q")
    page.keyboard.type("thu vien so")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    # Tab from the results heading to the first result's title link, then open it.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('.hit h2')"):
            break
    else:
        pytest.fail("the first result title is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link has no visible focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/record/"))
    assert page.locator("h1").is_visible()


def test_phone_width_has_no_sideways_scrolling(browser_or_skip, server):
    ctx = browser_or_skip.new_context(base_url=server, viewport={"width": 375, "height": 740},
                                      is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    try:
        for url in ("/", "/search?q=thu+vien", f"/record/{THESIS.id}", "/advanced"):
            pg.goto(url)
            wide = pg.evaluate("document.documentElement.scrollWidth")
            assert wide <= 375, f"{url} is {wide}px wide on a 375px phone"
        pg.goto("/search?q=thu+vien")
        pg.screenshot(path=str(SCREENSHOTS / "results-phone.png"), full_page=True)
    finally:
        ctx.close()


def test_screenshots(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in (("home", "/"), ("results", "/search?q=thu+vien"),
                      ("record", f"/record/{FLOOD_HUE.id}")):
        page.goto(url)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
