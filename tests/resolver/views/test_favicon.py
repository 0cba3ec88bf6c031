"""The site has an icon: linked from every page (an SVG, and the ICO browsers ask for at
/favicon.ico whatever a page links), served from this site, never a 404."""

from __future__ import annotations

import re


def test_favicon_ico_is_served(web):
    resp = web.get("/favicon.ico")
    assert resp.status_code == 200
    assert resp.mimetype == "image/vnd.microsoft.icon"
    assert resp.data[:4] == b"\x00\x00\x01\x00"  # an icon resource
    assert resp.data.count(b"\x89PNG") == 3  # 16, 32 and 48 px


def test_every_page_links_icons_of_this_site(web):
    for url in ("/", "/search?q=thu+vien", "/advanced", "/admin/login", "/no/such/page"):
        html = web.get(url).get_data(as_text=True)
        icons = re.findall(r'<link rel="icon" href="([^"]+)"[^>]*>', html)
        assert len(icons) == 2, url
        for href in icons:
            assert href.startswith("/"), href  # nothing from the internet
            resp = web.get(href)
            assert resp.status_code == 200 and resp.mimetype.startswith("image/"), href
