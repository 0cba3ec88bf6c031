"""Issue 16's "done when", in Chromium and in Vietnamese: a consortium administrator, starting
from the demo consortium, sets the 2025 cost of a package, compares equal / by-use / hybrid
with a 50 % sponsor share, adopts one, and prints each member's statement — whose amounts add
up to the total the members share. Then the same pages on a 375 px phone: nothing scrolls
sideways, and a printed statement leaves the menus out.

A real `lienhop run` over an instance made by `lienhop demo load --no-harvest` (the demo's
shared ScienceDirect subscription, its members, usage, rates and 2024 policy:
resolver/demo/cost_sharing.toml); Chromium is Debian's (see conftest.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.admin_site import ADMIN, LIENHOP, PASSWORD, instance_env, serve

pytestmark = pytest.mark.browser

#: the package the demo shares among its members, and what the administrator types for it
PACKAGE, COST_TYPED, COST = "sd", "22.000", Decimal("22000")
#: the demo's exchange rate for 2025 (VND per USD)
RATE_2025 = Decimal("25400")
PHONE = {"width": 375, "height": 740}
WIDER_THAN_THE_SCREEN = \
    "document.documentElement.scrollWidth > document.documentElement.clientWidth"
#: the elements that reach past the right edge, for the failure message
WIDEST = """() => {
  const edge = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > edge + 0.5)
    .slice(0, 8)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
         + " " + Math.round(e.getBoundingClientRect().right) + "px");
}"""


@pytest.fixture
def demo_site(tmp_path: Path) -> Iterator[str]:
    env = instance_env(tmp_path, "browser-cost-sharing", retries=1)
    subprocess.run([LIENHOP, "demo", "load", "--no-harvest"], env=env, check=True,
                   capture_output=True, timeout=180)
    with serve(env) as url:
        yield url


def test_an_administrator_shares_the_2025_cost_and_prints_each_statement(browser_or_skip,
                                                                          demo_site):
    from playwright.sync_api import expect

    context = browser_or_skip.new_context(base_url=demo_site, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        # log in, in Vietnamese (the site's default language)
        page.goto("/admin/usage/costs")
        assert "/admin/login" in page.url
        page.locator("#username").fill(ADMIN)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/admin/usage/costs**")

        # the 2025 cost of the package, typed the Vietnamese way
        page.locator("#package").fill(PACKAGE)
        page.locator("#institution").select_option("")  # the whole consortium
        page.locator("#year").fill("2025")
        page.locator("#amount").fill(COST_TYPED)
        page.locator("#currency").select_option("USD")
        page.get_by_role("button", name="Lưu", exact=True).click()
        expect(page.locator(".flashes")).to_contain_text("22.000,00 USD")

        # compare equal / by use / hybrid with the sponsor paying half
        page.get_by_role("link", name="Chia sẻ chi phí").click()
        page.wait_for_url("**/admin/usage/cost-sharing**")
        page.locator("#package").select_option(PACKAGE)
        page.locator("#year").fill("2025")
        page.locator("#p1").select_option("equal")
        page.locator("#p2").select_option("use")
        page.locator("#p3").select_option("hybrid")
        page.locator("#sponsor").fill("50")
        page.get_by_role("button", name="So sánh").click()
        page.wait_for_url("**sponsor=50**")
        expect(page.locator("#cost")).to_contain_text("22.000,00 USD")
        expect(page.locator("#rate")).to_contain_text("25.400")
        headers = page.locator("#sharing-table th[scope=colgroup]").all_inner_texts()
        assert headers == ["Chia đều", "Theo mức sử dụng", "Kết hợp 40/60/0"]
        members = page.locator("#sharing-table tbody tr")
        assert members.count() == 5  # the demo's five members of the sub-consortium
        expect(page.locator("#sharing-table tfoot tr.members_total")).to_contain_text(
            "11.000,00")
        assert page.locator("#chart svg").count() == 1

        # adopt the hybrid policy: the page asks first
        page.locator("#adopt-3").click()
        expect(page.locator("#consequences")).to_contain_text("Kết hợp 40/60/0")
        page.locator("#confirm-form button[type=submit]").click()
        page.wait_for_url("**#adopted")
        expect(page.locator(".flashes")).to_contain_text("22.000,00 USD")
        links = page.locator("#statements a")
        assert links.count() == 5
        urls = [links.nth(i).get_attribute("href") for i in range(links.count())]

        # each member's statement; together they are the members' total, to the cent and đồng
        usd, vnd = Decimal(0), Decimal(0)
        for url in urls:
            assert url
            page.goto(url)
            statement = page.locator("#statement")
            expect(statement).to_contain_text("Thông báo chia sẻ chi phí năm 2025")
            expect(statement).to_contain_text("Kết hợp 40/60/0")
            amount = page.locator("data.amount-usd")
            shown = amount.inner_text()
            value = Decimal(amount.get_attribute("value") or "0")
            # shown the Vietnamese way: "1.234,56"
            assert shown == f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(
                " ", ".")
            usd += value
            vnd += Decimal(page.locator("data.amount-vnd").get_attribute("value") or "0")
        assert usd == COST / 2
        assert vnd == COST / 2 * RATE_2025

        # printed, a statement has no menus
        page.emulate_media(media="print")
        assert not page.locator(".admin-nav").is_visible()
        assert not page.locator(".sub-nav").is_visible()
        assert page.locator("#statement").is_visible()
        page.emulate_media(media="screen")

        # on a phone, neither the comparison nor a statement scrolls sideways
        comparison = f"/admin/usage/cost-sharing?package={PACKAGE}&year=2025&sponsor=50"
        phone = browser_or_skip.new_context(base_url=demo_site, viewport=PHONE, is_mobile=True,
                                            has_touch=True, storage_state=context.storage_state())
        try:
            small = phone.new_page()
            small.set_default_timeout(20_000)
            pages = [comparison, *urls, "/admin/usage/cost-sharing/inputs?year=2025"]
            for url in [f"{u}{'&' if '?' in u else '?'}lang={lang}" for lang in ("vi", "en")
                        for u in pages]:
                small.goto(url)
                assert "/admin/login" not in small.url
                assert not small.evaluate(WIDER_THAN_THE_SCREEN), (url, small.evaluate(WIDEST))
        finally:
            phone.close()
    finally:
        context.close()
