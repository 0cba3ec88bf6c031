"""Knowledge-base pages: KBART upload with its report, entitlements, templates, settings,
platforms; role boundaries, audit and CSRF."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from resolver.accounts.models import AuditEntry
from resolver.kb.models import Entitlement, KbTitle, Package
from resolver.registry.models import OpenPlatform, ResolverSettings
from tests.support.paths import TEST_FIXTURES

pytestmark = pytest.mark.usefixtures("cheap_hashes")

KBART = TEST_FIXTURES / "kbart_web"


def upload(client, name: str, code: str = "sd", **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/kb/upload", {
        # confirmed: a file that replaces titles otherwise asks first (test_confirmations.py)
        "code": code, "kind": "subscription", "confirm": "yes", **extra,
        "file": (io.BytesIO((KBART / name).read_bytes()), name)},
        content_type="multipart/form-data")


def titles(sessions, code: str = "sd") -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return sorted(s.scalars(select(KbTitle.title).join(Package).where(Package.code == code)))


def audits(sessions, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count_in(html: str, ident: str) -> int:
    return int(html.split(f'id="{ident}">')[1].split("<")[0])


def test_kbart_upload_stores_titles_and_shows_the_report(boss, sessions):
    res = upload(boss, "sciencedirect_2024.tsv")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert (count_in(html, "n-titles"), count_in(html, "n-added"),
            count_in(html, "n-rejected")) == (4, 4, 0)
    assert titles(sessions) == ["Embargoed Letters", "Journal of Hydrology", "Old Chemistry",
                                "Tạp chí Khoa học và Công nghệ"]
    assert [a.details["added"] for a in audits(sessions, "kb.import")] == [4]
    # the 2025 file: Old Chemistry gone, New Materials new, Hydrology's coverage ended,
    # and two bad rows (a broken ISSN, a javascript: URL) rejected with reasons
    html = upload(boss, "sciencedirect_2025.tsv").get_data(as_text=True)
    assert count_in(html, "n-removed") == 1 and count_in(html, "n-added") == 1
    assert count_in(html, "n-changed") >= 1 and count_in(html, "n-rejected") == 2
    assert "Old Chemistry" in html.split("id=\"report-h\"")[1]
    assert "New Materials" in titles(sessions) and "Old Chemistry" not in titles(sessions)


def test_bad_kbart_changes_nothing_and_says_why(boss, sessions):
    upload(boss, "sciencedirect_2024.tsv")
    before = titles(sessions)
    for name in ("not_kbart.tsv", "all_rejected.tsv"):
        res = upload(boss, name)
        assert res.status_code == 422, name
        assert 'class="problems"' in res.get_data(as_text=True)
        assert titles(sessions) == before
    res = upload(boss, "not_kbart.tsv", code="brand-new")
    assert res.status_code == 422
    with sessions() as s:
        assert s.scalar(select(Package).where(Package.code == "brand-new")) is None
    # strict: one rejected row is enough to change nothing
    assert upload(boss, "sciencedirect_2025.tsv", strict="on").status_code == 422
    assert titles(sessions) == before
    assert len(audits(sessions, "kb.import")) == 1


def test_trial_run_reports_but_stores_nothing(boss, sessions):
    html = upload(boss, "open_collection.tsv", code="doaj", dry_run="on").get_data(
        as_text=True)
    assert count_in(html, "n-added") >= 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Package)) == 0
    assert audits(sessions, "kb.import") == []


def test_institution_admin_cannot_touch_packages(hue_admin, sessions):
    assert hue_admin.get("/admin/kb/upload").status_code == 403
    assert hue_admin.get("/admin/kb/packages").status_code == 403
    assert upload(hue_admin, "sciencedirect_2024.tsv").status_code == 403
    assert titles(sessions) == []


def test_entitlements_with_dates_and_role_boundaries(boss, hue_admin, tvu_admin, sessions):
    upload(boss, "sciencedirect_2024.tsv")
    res = boss.post("/admin/kb/entitlements", {"package": "sd", "institution": "hue",
                                               "start": "2024-01-01", "end": "2024-12-31"})
    assert res.status_code == 302
    boss.post("/admin/kb/entitlements", {"package": "sd", "institution": "tvu",
                                         "start": "2099-01-01", "end": ""})
    with sessions() as s:
        grants = {(e.institution.code, str(e.start), str(e.end))
                  for e in s.scalars(select(Entitlement))}
    assert grants == {("hue", "2024-01-01", "2024-12-31"), ("tvu", "2099-01-01", "None")}
    [entry, _tvu] = audits(sessions, "kb.entitle")
    assert entry.details == {"package": "sd", "institution": "hue", "start": "2024-01-01",
                             "end": "2024-12-31"} and entry.institution_id is not None
    hue_page = hue_admin.get("/admin/kb/entitlements?institution=tvu").get_data(as_text=True)
    table = hue_page.split("<tbody>")[1]
    assert "hue" in table and "tvu" not in table  # the filter cannot widen the view
    assert "2024-12-31" in table and "ended" in hue_admin.get(
        "/admin/kb/entitlements?lang=en").get_data(as_text=True)
    assert "not yet started" in tvu_admin.get("/admin/kb/entitlements?lang=en").get_data(
        as_text=True)
    assert hue_admin.post("/admin/kb/entitlements", {"package": "sd", "institution": "hue"}
                          ).status_code == 403
    with sessions() as s:
        grant_id = s.scalar(select(Entitlement.id).join(Entitlement.institution)
                            .where(Entitlement.start.is_not(None)).limit(1))
    assert hue_admin.post(f"/admin/kb/entitlements/{grant_id}/delete").status_code == 403
    assert boss.post(f"/admin/kb/entitlements/{grant_id}/delete",
                     {"confirm": "yes"}).status_code == 302
    assert len(audits(sessions, "kb.unentitle")) == 1


def test_bad_entitlements_change_nothing(boss, sessions):
    upload(boss, "sciencedirect_2024.tsv")
    for form in ({"package": "sd", "institution": "hue", "start": "2024-13-01"},
                 {"package": "sd", "institution": "hue", "start": "2024-06-01",
                  "end": "2024-01-01"},
                 {"package": "nope", "institution": "hue"},
                 {"package": "sd", "institution": "nope"}):
        res = boss.post("/admin/kb/entitlements", form, follow_redirects=True)
        assert 'class="flash-error"' in res.get_data(as_text=True)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Entitlement)) == 0
    assert audits(sessions, "kb.entitle") == []


def test_link_templates_are_validated(boss, sessions):
    upload(boss, "sciencedirect_2024.tsv")
    bad = boss.post("/admin/kb/packages/sd", {"kind": "subscription", "name": "SD",
                                              "article_template": "{doi}.evil.example/x",
                                              "title_template": "{title_url}"})
    assert bad.status_code == 422
    good = boss.post("/admin/kb/packages/sd", {
        "kind": "subscription", "name": "ScienceDirect", "platform": "sciencedirect",
        "article_template": "https://doi.org/{doi}", "title_template": "{title_url}"})
    assert good.status_code == 302
    with sessions() as s:
        pkg = s.scalar(select(Package).where(Package.code == "sd"))
        assert (pkg.name, pkg.article_template) == ("ScienceDirect", "https://doi.org/{doi}")
    [entry] = audits(sessions, "kb.package.update")
    assert entry.details["before"]["article_template"] == ""
    page = boss.get("/admin/kb/packages/sd?q=hydrology").get_data(as_text=True)
    assert "Journal of Hydrology" in page and "Old Chemistry" not in page
    assert boss.get("/admin/kb/packages/nope").status_code == 404


def test_proxy_settings_by_the_institution_admin(hue_admin, sessions):
    res = hue_admin.post("/admin/kb/settings/hue", {
        "proxy_prefix": "https://ezproxy.hueuni.edu.vn/login?url=",
        "catalogue_template": "https://opac.hueuni.edu.vn/search?issn={issn}",
        "catalogue_name": "OPAC Huế", "redirect_default": "on"})
    assert res.status_code == 302
    assert hue_admin.post("/admin/kb/settings/tvu", {"proxy_prefix": ""}).status_code == 403
    bad = hue_admin.post("/admin/kb/settings/hue", {"proxy_prefix": "javascript:alert(1)//"})
    assert bad.status_code == 422
    with sessions() as s:
        rows = s.scalars(select(ResolverSettings)).all()
        assert [(r.proxy_prefix, r.redirect_default) for r in rows] == [
            ("https://ezproxy.hueuni.edu.vn/login?url=", True)]
    [entry] = audits(sessions, "kb.settings")
    assert entry.username == "hue-admin" and entry.details["before"] is None
    page = hue_admin.get("/admin/kb/settings").get_data(as_text=True)
    assert 'id="inst-hue"' in page and 'id="inst-tvu"' not in page


def test_open_platforms(boss, hue_admin, sessions):
    res = boss.post("/admin/kb/platforms", {"code": "openscience", "name": "Openscience.vn",
                                            "url_template": "https://openscience.vn/s?q={title}",
                                            "position": "1", "enabled": "on"})
    assert res.status_code == 302
    assert boss.post("/admin/kb/platforms", {"code": "x", "name": "X",
                                             "url_template": "{title}"}).status_code == 422
    with sessions() as s:
        assert [p.code for p in s.scalars(select(OpenPlatform))] == ["openscience"]
    assert hue_admin.get("/admin/kb/platforms").status_code == 403
    assert len(audits(sessions, "kb.platform")) == 1


def test_every_form_needs_its_csrf_token(boss, sessions):
    for url in ("/admin/kb/entitlements", "/admin/kb/settings/hue", "/admin/kb/platforms",
                "/admin/kb/upload", "/admin/kb/linkcheck", "/admin/usage/costs",
                "/admin/usage/counter"):
        res = boss.http.post(url, data={"package": "sd", "institution": "hue"})
        assert res.status_code == 400, url
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Entitlement)) == 0
