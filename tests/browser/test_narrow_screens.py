"""No public page scrolls sideways on a 375 px phone, in either language: the resolver's menu
(where every catalogue link lands) with its library chooser, record pages with a very long
DOI, URL and title word (tests/support/long_record.py), search results with their facets, the
error pages and the login page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.long_record import LONG, LONG_DOI, LONG_WORD
from tests.support.sample import FLOOD_HUE, FLOOD_TVU, THESIS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}

#: the elements that reach past the right edge, for the failure message
WIDEST = """() => {
  const edge = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > edge + 0.5)
    .slice(0, 8)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
         + (e.className && typeof e.className === "string" ? "." + e.className : "")
         + " " + Math.round(e.getBoundingClientRect().right) + "px");
}"""

RESOLVE_LONG = "/resolve?" + urlencode({
    "url_ver": "Z39.88-2004", "rft_id": f"info:doi/{LONG_DOI}", "rft.atitle": LONG.title,
    "rft.jtitle": "IEEE Access", "rft.issn": "2169-3536", "rft.date": "2023",
    "rft.volume": "11", "rft.issue": "7", "rft.spage": "65001"})

PAGES = [
    "/",
    "/search",                                   # every facet, with the long subject value
    "/search?q=thu+vien",
    "/search?" + urlencode({"q": LONG_WORD}),
    "/search?q=khong+co+ket+qua+nao+xyzxyz",
    "/advanced",
    f"/record/{LONG.id}",
    f"/record/{THESIS.id}",
    f"/record/{FLOOD_HUE.id}",
    "/resolve?rft.btitle=Thu+vien+so&rft.isbn=9780306406157",   # the library chooser
    RESOLVE_LONG,
    # a member's restricted copy: the publisher's page through its DOI, a staff note
    "/resolve?" + urlencode({"rft_id": f"info:doi/{FLOOD_TVU.doi}", "rft.atitle": FLOOD_TVU.title}),
    "/resolve?rft.atitle=Khong+co+bai+nay&rft.jtitle=Tap+chi+khong+ton+tai&rft.date=2020",
    "/resolve?foo=bar",                          # a link the resolver cannot read
    "/resolve/delivery?" + urlencode({"rft_id": f"info:doi/{LONG_DOI}",
                                      "rft.atitle": LONG.title}),
    "/record/khong-co-ban-ghi-nay",              # error pages
    "/trang/khong/ton/tai",
    "/admin/login",
]


@pytest.fixture
def phone(browser_or_skip, server):  # type: ignore[no-untyped-def]
    ctx = browser_or_skip.new_context(base_url=server, viewport=PHONE, is_mobile=True,
                                      has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    ctx.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_public_page_scrolls_sideways_on_a_phone(phone, lang):
    wide = {}
    for url in PAGES:
        phone.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
        scroll, client = phone.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            wide[url] = (scroll, phone.evaluate(WIDEST))
    assert wide == {}, "pages wider than a 375 px phone:\n" + "\n".join(
        f"{url}: {scroll}px; {culprits}" for url, (scroll, culprits) in wide.items())
