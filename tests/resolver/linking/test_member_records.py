"""A consortium member's own restricted article: its record page and its DOI are offered.

A record harvested from a member repository, rights not open and no file the reader may be
sent to, with a DOI and a record page in that repository: the resolver offers the record
page (named by the member, saying access may be restricted) and the publisher's page through
the DOI, below every full text and open copy and above document delivery. The record page
only on a host the registry records for the repository that supplied the record; the DOI
link only built by us from a DOI as index/identifiers.py reads it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from index import Record, open_index
from resolver import create_app, db
from resolver.registry.models import Institution, Repository, ResolverSettings
from resolver.settings import load_settings
from resolver.usage.costs import cost_per_download_yearly, set_cost
from resolver.usage.counts import clicks
from resolver.usage.models import ClickLog, ResolveLog
from resolver.usage.tables import OUTCOME_LABELS
from tests.support.kb_site import HYDROLOGY, seed

CTU_HOST = "sj.ctu.edu.vn"
HUE_HOST = "repository.hueuni.edu.vn"
SHRIMP_PAGE = f"https://{CTU_HOST}/index.php/sj/article/view/700"
SHRIMP_DOI = "10.22144/ctu.jvn.2021.700"


def _restricted(n: int, doi: str | None, urls: list[str], repository: str = "ctu-ojs",
                title: str | None = None, access: str = "restricted") -> Record:
    return Record(id=f"{repository}-{n}", oai_identifier=f"oai:x:{n}", repository=repository,
                  institution=repository.split("-")[0], titles=[title or f"Bài báo {n}"],
                  year=2021, type="article", doi=doi, urls=urls, access=access,
                  rights="Hạn chế truy cập" if access != "open" else "CC BY 4.0")


RECORDS = [
    # the article: restricted, a DOI, its page in the repository it came from (and its
    # DOI as a URL, which is an identifier, not a page)
    _restricted(700, SHRIMP_DOI, [SHRIMP_PAGE, f"https://doi.org/{SHRIMP_DOI}"],
                title="Nuôi tôm ở đồng bằng sông Cửu Long"),
    # hostile records: each names a page its repository's registry entry does not vouch for
    _restricted(701, "10.22144/ctu.jvn.2021.701", ["https://evil.example/phish"]),
    _restricted(702, "10.22144/ctu.jvn.2021.702", [f"https://{CTU_HOST}@evil.example/x"]),
    _restricted(703, "10.22144/ctu.jvn.2021.703", [f"https://{HUE_HOST}/handle/1/703"]),
    _restricted(704, "10.22144/ctu.jvn.2021.704", [f"https://{CTU_HOST}.evil.example/x"]),
    _restricted(705, "10.22144/ctu.jvn.2021.705", [f"javascript://{CTU_HOST}/%0Aalert(1)"]),
    _restricted(706, "10.22144/ctu.jvn.2021.706", [f"https://{CTU_HOST}/706"], "gone-repo"),
    # a DOI field that is a URL elsewhere: not a DOI, so no publisher link
    _restricted(707, "https://evil.example/10.1234/x", [f"https://{CTU_HOST}/707"],
                title="Một DOI không phải DOI"),
    # one work, open at Hue and restricted at Can Tho
    _restricted(1, "10.1234/both", [f"https://{HUE_HOST}/bitstream/1/both.pdf"], "hue-dspace",
                access="open"),
    _restricted(708, "10.1234/both", [f"https://{CTU_HOST}/708"]),
    # a page on the host of the institution's website, as the registry records it
    _restricted(2, "10.26459/hue.2022.2", ["https://hueuni.edu.vn/record/2"], "hue-dspace"),
    # a page on the member's own journal site, under the domain of its website
    _restricted(3, "10.26459/hue.2022.3", ["https://tap-chi.hueuni.edu.vn/record/3"],
                "hue-dspace"),
    # look-alikes of that domain: not under it
    _restricted(6, "10.26459/hue.2022.6", ["https://evilhueuni.edu.vn/record/6"],
                "hue-dspace"),
    _restricted(7, "10.26459/hue.2022.7", ["https://hueuni.edu.vn.evil.example/record/7"],
                "hue-dspace"),
    # another member's domain
    _restricted(8, "10.26459/hue.2022.8", ["https://ctu.edu.vn/record/8"], "hue-dspace"),
    # an open copy on the host of the institution's website
    _restricted(5, "10.26459/hue.2022.5", ["https://hueuni.edu.vn/oa/5.pdf"], "hue-dspace",
                access="open"),
    # the DOI the index stores, asked for in upper case, with prefixes and as a URL
    _restricted(709, "10.1234/abc", [f"https://{CTU_HOST}/709"]),
    # the KB's own ScienceDirect article, also in a member's repository (restricted)
    _restricted(4, "10.1016/j.jhydrol.2019.01.001", [f"https://{HUE_HOST}/handle/1/4"],
                "hue-dspace", title="Groundwater in the Mekong delta"),
]


@pytest.fixture
def member_app(kb_env, monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_INDEX_DIR", str(tmp_path / "index"))
    ix = open_index(tmp_path / "index")
    with ix.writer() as w:
        w.add(RECORDS)
    app = create_app(load_settings())
    sessions = app.extensions["lienhop.sessions"]
    seed(sessions)
    with db.transaction(sessions) as s:
        hue = s.scalar(select(Institution).where(Institution.code == "hue"))
        ctu = s.scalar(select(Institution).where(Institution.code == "ctu"))
        hue.website = "https://hueuni.edu.vn/"
        s.add(Repository(code="hue-dspace", institution_id=hue.id, platform="dspace",
                         oai_url=f"https://{HUE_HOST}/server/oai/request"))
        s.add(Repository(code="ctu-ojs", institution_id=ctu.id, platform="ojs",
                         oai_url=f"https://{CTU_HOST}/index.php/index/oai"))
    return app


@pytest.fixture
def client(member_app):  # type: ignore[no-untyped-def]
    return member_app.test_client()


def _api(client, query: str, lang: str = "vi") -> dict:  # type: ignore[no-untyped-def]
    res = client.get(f"/resolve/api?{query}&lang={lang}")
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()


def _by_doi(doi: str) -> str:
    return f"url_ver=Z39.88-2004&rft_id=info:doi/{quote(doi, safe='/')}"


def _follow(client, url: str) -> str:  # type: ignore[no-untyped-def]
    res = client.get(url.removeprefix("http://localhost"))
    assert res.status_code == 302
    return str(res.headers["Location"])


def _clicks(app) -> list[ClickLog]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(ClickLog).order_by(ClickLog.id)))


def test_restricted_member_article_offers_record_page_and_doi_before_delivery(member_app,
                                                                               client):
    body = _api(client, _by_doi(SHRIMP_DOI))
    assert [t["kind"] for t in body["targets"]] == ["repository", "publisher", "delivery"]
    page, publisher, _delivery = body["targets"]
    assert page["label"] == ("Trang biểu ghi tại kho của Đại học Cần Thơ "
                             "(có thể hạn chế truy cập)")
    assert page["available"] and publisher["available"]
    assert publisher["label"] == f"Trang của nhà xuất bản (DOI {SHRIMP_DOI})"
    # each is a signed /go/ link that reaches the page and counts its own kind of click
    assert _follow(client, page["url"]) == SHRIMP_PAGE
    assert _follow(client, publisher["url"]) == f"https://doi.org/{SHRIMP_DOI}"
    assert [(c.kind, c.package, c.doi) for c in _clicks(member_app)] == [
        ("repository", None, SHRIMP_DOI), ("publisher", None, SHRIMP_DOI)]


def test_english_labels_name_the_member_in_english(client):
    body = _api(client, _by_doi(SHRIMP_DOI), lang="en")
    page, publisher, _delivery = body["targets"]
    assert page["label"] == ("Record page in the Can Tho University repository "
                             "(access may be restricted)")
    assert publisher["label"] == f"Publisher's page (DOI {SHRIMP_DOI})"
    assert "may ask for a sign-in or payment" in publisher["reason"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_menu_page_shows_both_targets_in_order(client, lang):
    html = client.get(f"/resolve?{_by_doi(SHRIMP_DOI)}&lang={lang}").get_data(as_text=True)
    if lang == "vi":
        words = ["Trang biểu ghi tại kho của Đại học Cần Thơ (có thể hạn chế truy cập)",
                 f"Trang của nhà xuất bản (DOI {SHRIMP_DOI})", "Yêu cầu cung cấp tài liệu"]
    else:
        words = ["Record page in the Can Tho University repository (access may be restricted)",
                 f"Publisher&#39;s page (DOI {SHRIMP_DOI})", "Request document delivery"]
    positions = [html.find(w) for w in words]
    assert -1 not in positions, (words, positions)
    assert positions == sorted(positions)


def test_they_are_never_a_direct_redirect(member_app, client):
    res = client.get(f"/resolve?{_by_doi(SHRIMP_DOI)}&redirect=1")
    assert res.status_code == 200
    assert _clicks(member_app) == []


@pytest.mark.parametrize("n", [701, 702, 703, 704, 705, 706])
def test_a_record_page_on_a_host_the_registry_does_not_record_is_not_offered(client, n):
    doi = f"10.22144/ctu.jvn.2021.{n}"
    body = _api(client, _by_doi(doi))
    kinds = [t["kind"] for t in body["targets"]]
    assert "repository" not in kinds
    targets = [_follow(client, t["url"]) for t in body["targets"]
               if t["url"] and t["kind"] != "delivery"]
    assert targets == [f"https://doi.org/{doi}"]  # the DOI we build is still offered
    assert all("evil.example" not in t and "hueuni" not in t for t in targets)


def test_a_withheld_record_page_is_explained_to_library_staff(client):
    html = client.get(f"/resolve?{_by_doi('10.22144/ctu.jvn.2021.701')}&lang=en").get_data(
        as_text=True)
    assert ("Record page of ctu-ojs-701 not offered: the registry does not record the host "
            "evil.example for the repository ctu-ojs") in html
    html = client.get(f"/resolve?{_by_doi('10.22144/ctu.jvn.2021.701')}&lang=vi").get_data(
        as_text=True)
    assert ("Không đưa trang biểu ghi ctu-ojs-701: máy chủ evil.example không được ghi "
            "trong sổ đăng ký cho kho ctu-ojs") in html
    # the hostile URL itself is never a link on the page
    assert 'href="https://evil.example' not in html


def test_a_doi_field_that_is_not_a_doi_gives_no_publisher_link(client):
    body = _api(client, "rft.genre=article&rft.atitle=M%E1%BB%99t%20DOI%20kh%C3%B4ng%20ph%E1"
                        "%BA%A3i%20DOI&rft.date=2021")
    kinds = [t["kind"] for t in body["targets"]]
    assert "publisher" not in kinds
    assert "repository" in kinds  # its page is on its own repository's host


@pytest.mark.parametrize("form", [
    "id=doi:10.1234/ABC",
    "url_ver=Z39.88-2004&rft_id=info:doi/10.1234/ABC",
    "url_ver=Z39.88-2004&rft_id=https://doi.org/10.1234/ABC",
    "url_ver=Z39.88-2004&rft_id=https%3A%2F%2Fdx.doi.org%2FDOI%3A10.1234%252FAbc",
    "url_ver=Z39.88-2004&rft_id=info:doi/10.1234%2Fabc",
])
def test_the_doi_link_is_built_from_the_normalised_doi(client, form):
    body = _api(client, form)
    [publisher] = [t for t in body["targets"] if t["kind"] == "publisher"]
    assert _follow(client, publisher["url"]) == "https://doi.org/10.1234/abc"


def test_an_open_copy_of_the_same_work_stays_first(client):
    body = _api(client, _by_doi("10.1234/both"))
    kinds = [t["kind"] for t in body["targets"]]
    assert kinds == ["open", "repository", "publisher", "delivery"]
    assert _follow(client, body["targets"][0]["url"]) == (
        f"https://{HUE_HOST}/bitstream/1/both.pdf")
    assert _follow(client, body["targets"][1]["url"]) == f"https://{CTU_HOST}/708"
    # and redirect=1 goes to the open copy, as before
    res = client.get(f"/resolve?{_by_doi('10.1234/both')}&redirect=1")
    assert res.headers["Location"] == f"https://{HUE_HOST}/bitstream/1/both.pdf"


def test_an_open_record_alone_gets_no_record_page_target(client):
    body = _api(client, _by_doi("10.1234/both").replace("both", "nothing-here"))
    assert [t["kind"] for t in body["targets"]] == ["delivery"]


def test_the_institution_website_domain_and_its_subdomains_are_the_members(client):
    body = _api(client, _by_doi("10.26459/hue.2022.2"), lang="en")
    [page] = [t for t in body["targets"] if t["kind"] == "repository"]
    assert page["label"].startswith("Record page in the Hue University repository")
    assert _follow(client, page["url"]) == "https://hueuni.edu.vn/record/2"
    # Hue's journal site is under the domain of Hue's website (hueuni.edu.vn)
    body = _api(client, _by_doi("10.26459/hue.2022.3"))
    [page] = [t for t in body["targets"] if t["kind"] == "repository"]
    assert _follow(client, page["url"]) == "https://tap-chi.hueuni.edu.vn/record/3"
    # but not a name that merely ends the same way, nor a suffix trick, nor another member
    for doi in ("10.26459/hue.2022.6", "10.26459/hue.2022.7", "10.26459/hue.2022.8"):
        body = _api(client, _by_doi(doi))
        assert "repository" not in [t["kind"] for t in body["targets"]], doi


def test_an_open_copy_on_the_institution_website_host_is_a_direct_redirect(member_app, client):
    """One rule for the hosts a repository's records may name (Registry.hosts_of): the
    website host the registry records for Hue serves Hue's open copies too."""
    res = client.get(f"/resolve?{_by_doi('10.26459/hue.2022.5')}&redirect=1")
    assert res.status_code == 302
    assert res.headers["Location"] == "https://hueuni.edu.vn/oa/5.pdf"
    assert [c.kind for c in _clicks(member_app)] == ["open"]


def test_below_entitled_full_text_and_above_the_catalogue(client):
    body = _api(client, HYDROLOGY + "&inst=hue")
    kinds = [t["kind"] for t in body["targets"] if t["available"]]
    # ScienceDirect's article (the KB's DOI link, behind Hue's proxy), the open platform's
    # search, then Hue's record page, then the catalogue and delivery; the DOI's page is
    # ScienceDirect's article without the proxy: not offered twice
    assert kinds == ["fulltext", "open", "repository", "catalogue", "delivery"], kinds
    # not entitled: ScienceDirect's link cannot be followed, the publisher's page can
    body = _api(client, HYDROLOGY + "&inst=nasati")
    kinds = [t["kind"] for t in body["targets"] if t["available"]]
    assert kinds == ["open", "repository", "publisher", "delivery"], kinds


def test_the_same_doi_org_link_as_entitled_full_text_is_not_offered_twice(member_app, client):
    with db.transaction(member_app.extensions["lienhop.sessions"]) as s:
        hue = s.scalar(select(Institution).where(Institution.code == "hue"))
        s.get(ResolverSettings, hue.id).proxy_prefix = ""
    body = _api(client, HYDROLOGY + "&inst=hue")
    kinds = [t["kind"] for t in body["targets"] if t["available"]]
    assert kinds == ["fulltext", "open", "repository", "catalogue", "delivery"], kinds


def test_clicks_on_them_are_not_subscription_downloads(member_app, client):
    """Cost per download from clicks counts subscription full text only: a click on a
    member's record page or a publisher's page is not a download the package paid for."""
    sd = _api(client, HYDROLOGY + "&inst=hue")["targets"]
    for t in sd:
        if t["kind"] in ("fulltext", "repository", "publisher") and t["url"]:
            _follow(client, t["url"])
    nasati = _api(client, HYDROLOGY + "&inst=nasati")["targets"]
    for t in nasati:
        if t["kind"] == "publisher":
            _follow(client, t["url"])
    kinds = sorted(c.kind for c in _clicks(member_app))
    assert kinds == ["fulltext", "publisher", "repository"]
    year = dt.date.today().year
    sessions = member_app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        set_cost(s, "sd", year, "100")
    with sessions() as s:
        [row] = cost_per_download_yearly(s, years=[year], source="clicks")
        by_kind = {r.kind: r.count for r in clicks(
            s, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31), by=("kind",))}
    assert (row.package, row.downloads) == ("sd", 1)
    assert by_kind == {"fulltext": 1, "repository": 1, "publisher": 1}


def _outcomes(app) -> list[str]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(ResolveLog.outcome).order_by(ResolveLog.id)))


def test_a_restricted_member_article_is_its_own_outcome_in_the_request_log(member_app, client):
    """Not "no match": the consortium holds the work, restricted in a member's repository
    (the usage reports count that demand apart, as document-delivery evidence)."""
    _api(client, _by_doi(SHRIMP_DOI))
    _api(client, _by_doi("10.9999/nothing-anywhere"))
    assert _outcomes(member_app) == ["restricted", "nomatch"]
    # the reports name it in both languages
    vi, en = OUTCOME_LABELS["restricted"]
    assert "kho" in vi and "repository" in en
