"""Every resolution is logged with its outcome: requests and turnaways come from here."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from resolver import create_app
from resolver.settings import load_settings
from resolver.usage.models import ResolveLog
from tests.support.kb_site import HYDROLOGY, TRUSTED_PROXY, seed


@pytest.fixture
def client(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_TRUSTED_PROXIES", TRUSTED_PROXY)
    app = create_app(load_settings())
    seed(app.extensions["lienhop.sessions"])
    return app, app.test_client()


def logged(app) -> list[ResolveLog]:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return list(s.scalars(select(ResolveLog).order_by(ResolveLog.id)))


def test_outcomes_of_the_menu_and_the_api(client):
    app, c = client
    assert c.get("/resolve?" + HYDROLOGY + "&inst=hue").status_code == 200
    assert c.get("/resolve/api?" + HYDROLOGY + "&inst=nasati").status_code == 200
    assert c.get("/resolve/api?rft.jtitle=Tap%20chi%20Khong%20Co&rft.issn=2525-2518"
                 "&inst=hue").status_code == 200
    rows = logged(app)
    assert [(r.institution, r.outcome, r.package) for r in rows] == [
        ("hue", "fulltext", None),
        ("nasati", "turnaway", "sd"),  # ScienceDirect holds it; nasati has no entitlement
        ("hue", "nomatch", None),
    ]
    assert rows[0].doi == "10.1016/j.jhydrol.2019.01.001" and rows[0].issn == "0022-1694"
    assert "sd" in rows[1].packages.split()


def test_bad_openurls_are_not_requests(client):
    app, c = client
    assert c.get("/resolve?foo=bar").status_code == 400
    assert logged(app) == []
