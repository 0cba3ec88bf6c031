"""The resolver end to end through the Flask client: menu, redirect, API, click log."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import inspect, select

from resolver import db
from resolver.registry.models import Institution, ResolverSettings
from resolver.usage.models import ClickLog
from tests.support.kb_site import HYDROLOGY, PROXY, TODAY
from tests.support.pages import go_links

DOI_URL = "https://doi.org/10.1016/j.jhydrol.2019.01.001"
HUE_IP = {"REMOTE_ADDR": "203.0.113.40"}


def clicks(app) -> list[ClickLog]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(ClickLog).order_by(ClickLog.id)))


def api(client, query: str, **kw):  # type: ignore[no-untyped-def]
    res = client.get("/resolve/api?" + query, **kw)
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()


def test_menu_puts_entitled_article_full_text_first_and_logs_the_click(kb_app, kb_client):
    res = kb_client.get("/resolve?" + HYDROLOGY + "&inst=hue")
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "Groundwater in the Mekong delta" in html
    assert "Toàn văn bài viết – ScienceDirect" in html  # Vietnamese by default
    links = go_links(html)
    assert links, "no click-through link on the menu"
    first = kb_client.get(links[0])
    assert first.status_code == 302
    # Article level, behind Hue's EZproxy (url= form takes the target raw).
    assert first.headers["Location"] == PROXY + DOI_URL
    [click] = clicks(kb_app)
    assert (click.institution, click.package, click.kind) == ("hue", "sd", "fulltext")
    assert click.doi == "10.1016/j.jhydrol.2019.01.001" and click.issn == "0022-1694"
    assert click.title == "Groundwater in the Mekong delta"


def test_click_log_stores_no_ip_address(kb_app, kb_client):
    kb_client.get("/resolve?" + HYDROLOGY + "&redirect=1", environ_base=HUE_IP)
    columns = {c["name"] for c in inspect(kb_app.extensions["lienhop.engine"]).get_columns(
        "click_log")}
    assert not {c for c in columns if "ip" in c.split("_") or "addr" in c or "agent" in c}
    [click] = clicks(kb_app)
    assert "203.0.113" not in repr(vars(click))


def test_redirect_1_sends_straight_to_the_kb_built_full_text(kb_app, kb_client):
    res = kb_client.get("/resolve?" + HYDROLOGY + "&redirect=1", environ_base=HUE_IP)
    assert res.status_code == 302
    assert res.headers["Location"] == PROXY + DOI_URL
    assert [c.kind for c in clicks(kb_app)] == ["fulltext"]


def test_redirect_1_without_entitled_full_text_shows_the_menu(kb_app, kb_client):
    res = kb_client.get("/resolve?" + HYDROLOGY + "&redirect=1&inst=nasati")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    # Not entitled: ScienceDirect is listed as unavailable with the reason.
    assert "thư viện của bạn không tham gia gói này" in html
    assert clicks(kb_app) == []


def test_institution_redirect_default_and_explicit_opt_out(kb_app, kb_client):
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        hue = s.scalar(select(Institution).where(Institution.code == "hue"))
        s.get(ResolverSettings, hue.id).redirect_default = True
    assert kb_client.get("/resolve?" + HYDROLOGY + "&inst=hue").status_code == 302
    assert kb_client.get("/resolve?" + HYDROLOGY + "&inst=hue&redirect=0").status_code == 200


def test_post_openurl_from_a_catalogue_needs_no_csrf_token(kb_client):
    res = kb_client.post("/resolve", data=HYDROLOGY + "&inst=hue&redirect=1",
                         content_type="application/x-www-form-urlencoded")
    assert res.status_code == 302 and res.headers["Location"] == PROXY + DOI_URL
    api_res = kb_client.post("/resolve/api", data=HYDROLOGY + "&inst=hue",
                             content_type="application/x-www-form-urlencoded")
    assert api_res.status_code == 200 and api_res.get_json()["institution"] == "hue"


def test_api_contract(kb_client):
    body = api(kb_client, HYDROLOGY + "&inst=hue")
    assert set(body) == {"citation", "institution", "targets"}
    assert body["institution"] == "hue"
    assert body["citation"]["doi"] == "10.1016/j.jhydrol.2019.01.001"
    assert body["citation"]["jtitle"] == "Journal of Hydrology"
    kinds = [t["kind"] for t in body["targets"]]
    assert kinds[0] == "fulltext"
    assert {"fulltext", "open", "catalogue", "delivery"} <= set(kinds)
    for t in body["targets"]:
        assert set(t) == {"kind", "label", "package", "available", "reason", "url"}
        assert t["kind"] in ("fulltext", "open", "catalogue", "delivery")
        assert isinstance(t["available"], bool) and t["label"] and t["reason"]
        if t["available"]:
            assert t["url"].startswith("http://localhost/go/")
        else:
            assert t["url"] is None
    assert body["targets"][0]["package"] == "sd"
    assert body["targets"][0]["available"] is True


def test_api_follows_the_language_switch(kb_client):
    vi = api(kb_client, HYDROLOGY + "&inst=nasati")
    en = api(kb_client, HYDROLOGY + "&inst=nasati&lang=en")
    sd_vi = next(t for t in vi["targets"] if t["package"] == "sd")
    sd_en = next(t for t in en["targets"] if t["package"] == "sd")
    assert "không tham gia" in sd_vi["reason"]
    assert "your institution is not in the sub-consortium" in sd_en["reason"]
    assert "covers 1995-01-01–present" in sd_en["reason"]


def test_every_api_url_logs_and_redirects_to_its_target(kb_app, kb_client):
    body = api(kb_client, HYDROLOGY + "&inst=hue")
    seen = {}
    for t in body["targets"]:
        if t["url"]:
            res = kb_client.get(t["url"].removeprefix("http://localhost"))
            assert res.status_code == 302
            seen[t["kind"]] = res.headers["Location"]
    assert seen["catalogue"] == "https://opac.hue.example.edu.vn/search?issn=0022-1694"
    assert seen["open"] == ("https://openscience.vn/search?q="
                            + quote("Groundwater in the Mekong delta", safe=""))
    assert seen["delivery"].startswith("/resolve/delivery?")
    assert sorted(c.kind for c in clicks(kb_app)) == sorted(seen)


def test_entitlement_dates_ended_yesterday_and_starting_tomorrow(kb_client):
    for inst in ("ctu", "vnu"):
        sd = next(t for t in api(kb_client, HYDROLOGY + f"&inst={inst}&lang=en")["targets"]
                  if t["package"] == "sd")
        assert sd["available"] is False, inst
        assert "not in the sub-consortium" in sd["reason"]


def test_embargo_hides_the_current_year_only(kb_client):
    def letters(year: int):  # type: ignore[no-untyped-def]
        q = (f"genre=article&issn=1234-5679&date={year}&atitle=A%20letter&title=Embargoed"
             "%20Letters&inst=hue&lang=en")
        return next(t for t in api(kb_client, q)["targets"] if t["package"] == "sd")

    current = letters(TODAY.year)
    assert current["available"] is False and "embargo" in current["reason"]
    assert letters(TODAY.year - 1)["available"] is True


def test_coverage_end_date(kb_client):
    def chem(year: int):  # type: ignore[no-untyped-def]
        q = f"genre=article&issn=2345-6787&date={year}&atitle=X&inst=hue&lang=en"
        return next(t for t in api(kb_client, q)["targets"] if t["package"] == "sd")

    assert chem(1995)["available"] is True
    late = chem(2005)
    assert late["available"] is False and "after the range" in late["reason"]


def test_title_level_link_when_no_article_link_can_be_built(kb_client):
    # No DOI: the DOI template cannot be filled, so the journal page (title_url) is offered.
    q = "genre=article&issn=0022-1694&date=2019&atitle=Something&inst=hue"
    res = kb_client.get("/resolve?" + q)
    html = res.get_data(as_text=True)
    assert "Trang ấn phẩm – ScienceDirect" in html
    location = kb_client.get(go_links(html)[0]).headers["Location"]
    assert location == PROXY + "https://www.sciencedirect.com/journal/journal-of-hydrology"
    # Title level is never a direct redirect target: the menu is shown instead.
    assert kb_client.get("/resolve?" + q + "&redirect=1").status_code == 200


def test_title_match_without_identifiers_folds_vietnamese(kb_client):
    q = "genre=article&title=Tap%20chi%20Khoa%20hoc%20va%20Cong%20nghe&date=2015&atitle=B&inst=hue"
    sd = [t for t in api(kb_client, q)["targets"] if t["package"] == "sd"]
    assert sd and sd[0]["available"] is True


def test_open_collection_is_offered_to_anyone(kb_client):
    q = "genre=article&issn=5678-9017&date=2010&atitle=Things%20today"
    body = api(kb_client, q)
    assert body["institution"] is None
    oa = [t for t in body["targets"] if t["package"] == "oa"]
    assert oa and oa[0]["kind"] == "open" and oa[0]["available"] is True


def test_clicks_do_not_accept_forged_tokens(kb_app, kb_client):
    html = kb_client.get("/resolve?" + HYDROLOGY + "&inst=hue").get_data(as_text=True)
    token = go_links(html)[0].removeprefix("/go/")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert kb_client.get("/go/" + forged).status_code == 400
    assert kb_client.get("/go/not-a-token").status_code == 400
    assert clicks(kb_app) == []


def test_a_signed_token_with_a_non_http_url_is_still_refused(kb_app, kb_client):
    from itsdangerous import URLSafeSerializer

    s = URLSafeSerializer(kb_app.secret_key, salt="lienhop.go")
    for bad in ("javascript:alert(1)", "//evil.example/x", "data:text/html,hi"):
        token = s.dumps([bad, "open", None, None, None, None, None, None])
        assert kb_client.get("/go/" + token).status_code == 400


def test_today_is_used_for_entitlements(kb_client, kb_app):
    # A member joining today has access today (dates are inclusive).
    from resolver.kb.entitlements import entitle

    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        entitle(s, "sd", "nasati", TODAY)
    sd = next(t for t in api(kb_client, HYDROLOGY + "&inst=nasati")["targets"]
              if t["package"] == "sd")
    assert sd["available"] is True
