"""The repository form refuses an oai_url inside the consortium's own network (issue 11)."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest
from sqlalchemy import select

from resolver.registry.models import Repository

pytestmark = pytest.mark.usefixtures("cheap_hashes")

BASE = {"metadata_prefix": "oai_dc", "schedule": "daily", "enabled": "on"}


def _oai_url(app, code: str) -> str | None:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return s.scalar(select(Repository.oai_url).where(Repository.code == code))


@pytest.mark.parametrize("url, why", [
    ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 (link-local)"),
    ("http://10.0.0.5:8080/oai", "address 10.0.0.5 (private)"),
    ("http://[::ffff:192.168.1.1]/oai", "address ::ffff:192.168.1.1 (private)"),
    ("http://0.0.0.0:5000/", "address 0.0.0.0 (unspecified)"),
])
def test_new_repository_inside_the_network_is_refused(admin_app, hue_admin, url, why):
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(BASE, code="hue-koha", oai_url=url))
    page = html.unescape(res.get_data(as_text=True))
    assert res.status_code == 422
    # the form's own (translated) label, then the policy and the setting that changes it
    assert f"Địa chỉ gốc OAI-PMH: {why}" in page
    assert "LIENHOP_HARVEST_ALLOWED_NETWORKS" in page
    assert _oai_url(admin_app, "hue-koha") is None


def test_loopback_is_refused_unless_the_consortium_allows_it(admin_app, hue_admin):
    settings = admin_app.config["LIENHOP"]
    assert settings.harvest_allowed_networks  # the tests allow 127.0.0.0/8, like the demo
    admin_app.config["LIENHOP"] = replace(settings, harvest_allowed_networks=())
    try:
        res = hue_admin.post("/admin/institutions/hue/repositories/new",
                             dict(BASE, code="hue-koha", oai_url="http://localhost:5000/admin"))
        page = html.unescape(res.get_data(as_text=True))
        assert res.status_code == 422
        assert "host 'localhost' resolves to 127.0.0.1 (loopback)" in page
    finally:
        admin_app.config["LIENHOP"] = settings
    res = hue_admin.post("/admin/institutions/hue/repositories/new",
                         dict(BASE, code="hue-koha", oai_url="http://localhost:5000/oai"))
    assert res.status_code == 302
    assert _oai_url(admin_app, "hue-koha") == "http://localhost:5000/oai"


def test_editing_a_repository_is_checked_too(admin_app, hue_admin):
    before = _oai_url(admin_app, "hue-dspace")
    res = hue_admin.post("/admin/repositories/hue-dspace/edit",
                         dict(BASE, oai_url="http://169.254.169.254/latest/"))
    assert res.status_code == 422
    assert _oai_url(admin_app, "hue-dspace") == before
    res = hue_admin.post("/admin/repositories/hue-dspace/edit",
                         dict(BASE, oai_url="https://dlib.hueuni.edu.vn/oai/request"))
    assert res.status_code == 302  # a name is not resolved here: the harvester checks it
    assert _oai_url(admin_app, "hue-dspace") == "https://dlib.hueuni.edu.vn/oai/request"
