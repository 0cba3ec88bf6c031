"""Reading what a page shows: its CSRF token, its /go/ links."""

from __future__ import annotations

import re


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def go_links(html: str) -> list[str]:
    return re.findall(r'href="(/go/[^"]+)"', html)
