"""The links of ``/resolve/api`` and the menu are on each request's own scheme, host and script
root (or on the public base URL), whatever requests of other shapes came before them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from resolver import create_app
from resolver.settings import load_settings
from tests.support.kb_site import HYDROLOGY, seed


def api_targets(client, base_url: str) -> list[dict]:  # type: ignore[no-untyped-def]
    res = client.get("/resolve/api?" + HYDROLOGY + "&inst=hue", base_url=base_url)
    assert res.status_code == 200
    targets: list[dict] = res.get_json()["targets"]
    assert any(t["url"] for t in targets)
    return targets


def test_api_links_follow_each_requests_scheme_and_host(kb_client) -> None:  # type: ignore[no-untyped-def]
    shapes = ["http://a.example", "http://b.example:8080", "https://a.example",
              "http://a.example"] + [f"http://h{i}.example" for i in range(80)]
    for base in shapes:
        for t in api_targets(kb_client, base):
            assert t["url"] is None or t["url"].startswith(base + "/go/"), (base, t)


def test_links_keep_the_script_root(kb_client) -> None:  # type: ignore[no-untyped-def]
    for root in ("/lh", "", "/thu-vien/lh", ""):
        base = "http://lib.example" + root
        targets = api_targets(kb_client, base)
        for t in targets:
            assert t["url"] is None or t["url"].startswith(base + "/go/"), (root, t)
        menu = kb_client.get("/resolve?" + HYDROLOGY + "&inst=hue", base_url=base)
        prefixes = re.findall(r'href="([^"]*/go/)', menu.get_data(as_text=True))
        assert prefixes and set(prefixes) == {root + "/go/"}
        # the delivery form is one of our own pages, under the same root
        delivery = next(t["url"] for t in targets if t["kind"] == "delivery")
        follow = kb_client.get(urlsplit(delivery).path[len(root):], base_url=base)
        assert follow.status_code == 302
        assert follow.headers["Location"].startswith(root + "/resolve/delivery?")


def test_links_on_the_public_base_url_whatever_the_host(kb_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_BASE_URL", "https://lienhop.example.vn/thu-vien")
    app = create_app(load_settings())
    seed(app.extensions["lienhop.sessions"])
    client = app.test_client()
    for base in ("http://evil.example", "http://localhost", "https://lienhop.example.vn"):
        for t in api_targets(client, base):
            assert t["url"] is None or t["url"].startswith(
                "https://lienhop.example.vn/thu-vien/go/"), (base, t)
