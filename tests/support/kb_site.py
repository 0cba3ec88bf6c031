"""A small consortium with a knowledge base, served through the Flask test client.

Institutions: ``hue`` (campus 203.0.113.0/24, entitled to ``sd`` since 2000, EZproxy,
catalogue), ``ctu`` (campus 198.51.100.0/24, entitlement ended yesterday), ``vnu`` (joins
tomorrow), ``nasati`` (never entitled). Packages: ``sd`` (subscription, DOI article links)
and ``oa`` (an open collection). One open platform with an example search template.

Its fixtures (``kb_env``, ``kb_app``, ``kb_client``) are pulled into the conftest of each
folder whose tests use them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from resolver import create_app, db
from resolver.kb.entitlements import entitle
from resolver.kb.importer import import_kbart
from resolver.registry.models import Institution, IpRange, OpenPlatform, ResolverSettings
from resolver.settings import load_settings
from tests.support.paths import TEST_FIXTURES

FIXTURES = TEST_FIXTURES / "kbart_web"
TODAY = dt.date.today()
PROXY = "https://ezproxy.hue.example.edu.vn/login?url="
TRUSTED_PROXY = "10.0.0.1"

HYDROLOGY = ("url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal"
             "&rft.genre=article&rft.atitle=Groundwater%20in%20the%20Mekong%20delta"
             "&rft.jtitle=Journal%20of%20Hydrology&rft.issn=0022-1694&rft.date=2019"
             "&rft.volume=570&rft.spage=1&rft_id=info:doi/10.1016/j.jhydrol.2019.01.001"
             "&rft.aulast=Nguyen")


def seed(sessions) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        for code, vi, en, cidr in (
            ("hue", "Đại học Huế", "Hue University", "203.0.113.0/24"),
            ("ctu", "Đại học Cần Thơ", "Can Tho University", "198.51.100.0/24"),
            ("vnu", "Đại học Quốc gia Hà Nội", "Vietnam National University, Hanoi", None),
            ("nasati", "Cục Thông tin KH&CN Quốc gia", "NASATI", None),
        ):
            inst = Institution(code=code, name_vi=vi, name_en=en, status="member")
            if cidr:
                inst.ip_ranges.append(IpRange(cidr=cidr))
            s.add(inst)
        s.flush()
        import_kbart(s, "sd", (FIXTURES / "sciencedirect_2024.tsv").read_bytes(),
                     name="ScienceDirect", platform="sciencedirect",
                     article_template="https://doi.org/{doi}", title_template="{title_url}")
        import_kbart(s, "oa", (FIXTURES / "open_collection.tsv").read_bytes(),
                     name="Open Things", kind="open")
        entitle(s, "sd", "hue", dt.date(2000, 1, 1))
        entitle(s, "sd", "ctu", dt.date(2000, 1, 1), TODAY - dt.timedelta(days=1))
        entitle(s, "sd", "vnu", TODAY + dt.timedelta(days=1))
        hue = s.query(Institution).filter_by(code="hue").one()
        s.add(ResolverSettings(institution_id=hue.id, proxy_prefix=PROXY,
                               catalogue_template="https://opac.hue.example.edu.vn/search?"
                                                  "issn={issn} https://opac.hue.example.edu.vn/"
                                                  "search?q={title}",
                               catalogue_name="Hue Library", redirect_default=False))
        # An example template: check Openscience.vn's real search URL before production use.
        s.add(OpenPlatform(code="openscience", name="Openscience.vn",
                           url_template="https://openscience.vn/search?q={atitle}",
                           position=1, enabled=True))


@pytest.fixture
def kb_env(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_TRUSTED_PROXIES", TRUSTED_PROXY)
    return lienhop_env


@pytest.fixture
def kb_app(kb_env):  # type: ignore[no-untyped-def]
    app = create_app(load_settings())
    seed(app.extensions["lienhop.sessions"])
    return app


@pytest.fixture
def kb_client(kb_app):  # type: ignore[no-untyped-def]
    return kb_app.test_client()
