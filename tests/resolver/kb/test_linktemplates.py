"""Link templates and proxy prefixes."""

from urllib.parse import parse_qs, unquote, urlsplit

from resolver.kb.linktemplates import apply_proxy, build_links, fill_template, is_http_url
from resolver.openurl import parse_openurl

CIT = parse_openurl(
    "rft.jtitle=J&rft.issn=0025-6196&rft.volume=80&rft.issue=5&rft.spage=611"
    "&rft_id=info:doi/10.1002/(SICI)1097-4571(199806)49:8%3C693::AID-ASI4%3E3.0.CO;2-0"
)
OPENURL_T = "https://example.org/openurl?issn={issn}&volume={volume}&issue={issue}&spage={spage}"


def test_doi_template_keeps_slash_encodes_reserved():
    url = fill_template("https://doi.org/{doi}", {"doi": CIT.doi})
    assert url.startswith("https://doi.org/10.1002/")
    assert unquote(url[len("https://doi.org/"):]) == CIT.doi
    assert "<" not in url and "%3C" in url and ";" not in url


def test_query_template_encodes_values():
    url = fill_template(OPENURL_T, {"issn": "0025-6196", "volume": "80", "issue": "5&6",
                                    "spage": "611"})
    q = parse_qs(urlsplit(url).query)
    assert q["issue"] == ["5&6"] and q["volume"] == ["80"]


def test_missing_value_gives_none():
    assert fill_template(OPENURL_T, {"issn": "0025-6196", "volume": "80"}) is None
    assert fill_template("https://doi.org/{doi}", {"doi": "  "}) is None


def test_whole_url_placeholder_inserted_raw_and_must_be_http():
    assert fill_template("{title_url}", {"title_url": "https://x.org/a?b=c"}) == \
        "https://x.org/a?b=c"
    assert fill_template("{title_url}", {"title_url": "javascript:alert(1)"}) is None
    assert fill_template("{title_url}", {"title_url": "/local/path"}) is None
    assert fill_template("ftp://x.org/{doi}", {"doi": "10.1/x"}) is None


def test_article_falls_back_to_title_level():
    no_doi = parse_openurl("rft.jtitle=J&rft.issn=0025-6196&rft.volume=80")
    links = build_links(no_doi, article_template="https://doi.org/{doi}",
                        title_url="https://journal.example/home")
    assert links.article is None and links.title == "https://journal.example/home"
    assert links.best == links.title and links.level == "title"
    links = build_links(CIT, article_template=OPENURL_T, title_url="https://j.example/")
    assert links.level == "article" and "spage=611" in links.article


def test_proxy_url_form_appends_raw():
    target = "https://www.sciencedirect.com/x?a=1&b=2"
    assert apply_proxy(target, "https://ezproxy.example.edu.vn/login?url=") == \
        "https://ezproxy.example.edu.vn/login?url=" + target


def test_proxy_qurl_form_percent_encodes():
    target = "https://www.sciencedirect.com/x?a=1&b=2"
    url = apply_proxy(target, "https://ezproxy.example.edu.vn/login?qurl=")
    assert url == ("https://ezproxy.example.edu.vn/login?qurl="
                   "https%3A%2F%2Fwww.sciencedirect.com%2Fx%3Fa%3D1%26b%3D2")
    assert parse_qs(urlsplit(url).query)["qurl"] == [target]


def test_proxy_not_applied_twice_or_to_non_http():
    p = "https://ezproxy.example.edu.vn/login?url="
    once = apply_proxy("https://a.org/", p)
    assert apply_proxy(once, p) == once
    assert apply_proxy("javascript:x", p) is None
    assert apply_proxy("https://a.org/", None) == "https://a.org/"


def test_build_links_applies_proxy_to_both_levels():
    links = build_links(CIT, article_template="https://doi.org/{doi}",
                        title_url="https://j.example/",
                        proxy_prefix="https://ezproxy.example.edu.vn/login?qurl=")
    assert links.article.startswith("https://ezproxy.example.edu.vn/login?qurl=https%3A")
    assert links.title.endswith("https%3A%2F%2Fj.example%2F")


def test_is_http_url():
    assert is_http_url("http://a.b/c")
    assert not is_http_url("https:///nohost")
    assert not is_http_url("https://a.b/c d")
    assert not is_http_url(None)
