"""One client address may not take the whole server: a token bucket per address on the search
and resolver pages (LIENHOP_RATE_LIMIT per second, LIENHOP_RATE_BURST at once). Over it: 429
with Retry-After, in the reader's language, JSON on the APIs, text on /oai, before any work.

The suite runs with the limit off (tests/conftest.py); these tests switch it on with a rate
so low (one token per 100 s) that no token comes back while a test runs, however slow the
machine.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from resolver import create_app
from resolver.settings import load_settings
from resolver.web.ratelimit import LIMITED_ENDPOINTS, TokenBuckets, bucket_key, retry_after

BURST = 3
RATE = 0.01
CLIENT = "198.51.100.7"
NEIGHBOUR = "198.51.100.8"
PROXY = "10.0.0.5"
HYDROLOGY = "url_ver=Z39.88-2004&rft.issn=1859-1388&rft.date=2022&rft.atitle=Lu"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the pure token buckets -----------------------------------------------------------------

def test_a_burst_then_one_request_per_token():
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]
    refused = buckets.take("a")
    assert not refused.allowed and refused.wait == pytest.approx(0.5)
    assert buckets.take("b").allowed  # another client has its own bucket


def test_tokens_come_back_at_the_rate_up_to_the_burst():
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=3, clock=clock)
    for _ in range(3):
        buckets.take("a")
    clock.now += 0.25
    assert buckets.take("a").wait == pytest.approx(0.75)
    clock.now += 0.75
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed  # refusals cost no token ...
    clock.now += 1.0
    assert buckets.take("a").allowed  # ... so the client is served at the rate
    clock.now += 3600
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]


def test_a_burst_of_zero_still_lets_the_rate_through():
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=0, clock=clock)
    assert buckets.take("a").allowed and not buckets.take("a").allowed
    clock.now += 1
    assert buckets.take("a").allowed


def test_the_first_refusal_of_an_episode_is_marked_once():
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=2, clock=clock)
    buckets.take("a"), buckets.take("a")
    assert [buckets.take("a").first_refusal for _ in range(3)] == [True, False, False]
    clock.now += 1  # served at the rate, refused in between: the same episode
    assert buckets.take("a").allowed
    assert buckets.take("a") == (pytest.approx(1.0), False)
    clock.now += 2  # the bucket filled up again: the next refusal starts a new episode
    assert buckets.take("a").allowed and buckets.take("a").allowed
    assert buckets.take("a").first_refusal


def test_the_table_keeps_the_most_recently_seen_addresses_only():
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, max_clients=3, clock=clock)
    for key in "abc":
        buckets.take(key)
    buckets.take("a")  # seen again: now the most recent
    buckets.take("d")
    assert len(buckets) == 3 and "b" not in buckets
    assert not buckets.take("a").allowed  # remembered: still empty
    assert buckets.take("b").allowed  # forgotten: back with a full bucket
    for i in range(1000):  # a flood of addresses costs at most max_clients entries
        buckets.take(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets) == 3


def test_ipv6_clients_are_their_64():
    assert bucket_key("2001:db8:1:2::5") == bucket_key("2001:db8:1:2:ffff::1") == \
        "2001:db8:1:2::/64"
    assert bucket_key("2001:db8:1:3::5") != bucket_key("2001:db8:1:2::5")
    assert bucket_key("198.51.100.7") == "198.51.100.7"


def test_retry_after_is_whole_seconds_rounded_up():
    assert [retry_after(w) for w in (0.01, 0.5, 1.0, 1.2, 99.5)] == [1, 1, 1, 2, 100]


# --- through the app ------------------------------------------------------------------------

@pytest.fixture
def app(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    """The app of the ``site`` fixture (tests/support/sample.py), with the limit on."""
    monkeypatch.setenv("LIENHOP_RATE_LIMIT", str(RATE))
    monkeypatch.setenv("LIENHOP_RATE_BURST", str(BURST))
    monkeypatch.setenv("LIENHOP_TRUSTED_PROXIES", PROXY)
    return create_app(load_settings())


def get(client, url: str, ip: str = CLIENT, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.get(url, environ_base={"REMOTE_ADDR": ip}, headers=headers)


def use_up(client, ip: str = CLIENT, forwarded: str | None = None) -> None:  # type: ignore[no-untyped-def]
    for _ in range(BURST):
        assert get(client, "/search?q=thư+viện", ip, forwarded).status_code == 200


def seconds(res) -> int:  # type: ignore[no-untyped-def]
    value = res.headers["Retry-After"]
    assert value.isdigit(), value
    assert 1 <= int(value) <= 1 / RATE
    return int(value)


def test_over_the_limit_a_page_in_vietnamese_and_the_neighbour_is_still_served(web):
    use_up(web)
    res = get(web, "/search?q=thư+viện")
    assert res.status_code == 429
    wait = seconds(res)
    html = res.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Quá nhiều yêu cầu" in html
    assert f"Vui lòng thử lại sau {wait} giây" in html
    assert "Content-Security-Policy" in res.headers  # the usual headers, refusal or not
    assert get(web, "/search?q=thư+viện", NEIGHBOUR).status_code == 200


def test_the_page_speaks_english_on_request(web):
    use_up(web)
    res = get(web, "/record/hue-dspace-thesis1?lang=en")
    assert res.status_code == 429
    html = res.get_data(as_text=True)
    assert '<html lang="en">' in html and "Too many requests" in html
    assert f"try again in {seconds(res)} s" in html


@pytest.mark.parametrize("url", ["/api/search?q=thư+viện", "/api/records/hue-dspace-thesis1",
                                 "/resolve/api?" + HYDROLOGY])
def test_the_apis_answer_json(web, url):
    use_up(web)
    res = get(web, url)
    assert res.status_code == 429
    assert res.is_json
    body = res.get_json()
    assert body["retry_after"] == seconds(res)
    assert "quá nhiều yêu cầu" in body["error"]


def test_oai_harvesters_get_plain_text(web):
    use_up(web)
    res = get(web, "/oai?verb=Identify&lang=en")
    assert res.status_code == 429
    assert res.mimetype == "text/plain"
    assert res.get_data(as_text=True).startswith("Too many requests from your address")
    seconds(res)


@pytest.mark.parametrize("url", [
    "/search?q=x", "/api/search?q=x", "/api/records/nope", "/record/nope",
    "/record/hue-dspace-thesis1/export/bibtex", "/resolve?" + HYDROLOGY,
    "/resolve/api?" + HYDROLOGY, "/resolve/delivery?" + HYDROLOGY, "/go/garbage",
    "/oai?verb=Identify", "/sitemap.xml", "/sitemap-1.xml",
])
def test_every_search_and_resolver_page_shares_one_budget(web, url):
    use_up(web)
    assert get(web, url).status_code == 429


def test_the_limited_endpoints_exist(site):
    # a renamed view would silently drop out of the limit
    endpoints = {rule.endpoint for rule in site.url_map.iter_rules()}
    assert endpoints >= LIMITED_ENDPOINTS


def test_a_refused_request_does_none_of_its_work(web):
    # a CSRF token of this session, from a page the limit leaves alone
    login = get(web, "/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "inst": "hue", "back": HYDROLOGY}
    env = {"REMOTE_ADDR": CLIENT}
    served = web.post("/resolve/institution", data=form, environ_base=env)
    assert served.status_code == 303 and "lienhop_inst=hue" in served.headers["Set-Cookie"]
    for _ in range(BURST - 1):
        get(web, "/search?q=x")
    web.delete_cookie("lienhop_inst")
    refused = web.post("/resolve/institution", data={**form, "inst": "tvu"}, environ_base=env)
    assert refused.status_code == 429
    assert "lienhop_inst" not in refused.headers.get("Set-Cookie", "")
    # and before the form is read: a POST without its CSRF token is refused the same way
    assert web.post("/resolve/institution", data={"inst": "hue"},
                    environ_base=env).status_code == 429


def test_x_forwarded_for_from_an_untrusted_peer_chooses_no_bucket(web):
    use_up(web)
    assert get(web, "/search?q=x", forwarded="203.0.113.99").status_code == 429
    # nor can a client spend someone else's budget by naming them
    use_up(web, "198.51.100.9", forwarded=NEIGHBOUR)
    assert get(web, "/search?q=x", NEIGHBOUR).status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_bucket(web):
    use_up(web, PROXY, forwarded=CLIENT)
    assert get(web, "/search?q=x", PROXY, forwarded=CLIENT).status_code == 429
    # the proxy is not one client: its other readers are served
    assert get(web, "/search?q=x", PROXY, forwarded=NEIGHBOUR).status_code == 200
    # whatever a client prepends itself: the proxy appends the address it saw
    chain = f"{NEIGHBOUR}, {CLIENT}"
    assert get(web, "/search?q=x", PROXY, forwarded=chain).status_code == 429


def test_an_ipv6_client_cannot_hop_addresses_within_its_64(web):
    use_up(web, "2001:db8:1:2::5")
    assert get(web, "/search?q=x", "2001:db8:1:2::6").status_code == 429
    assert get(web, "/search?q=x", "2001:db8:1:3::5").status_code == 200


def test_static_files_health_home_and_admin_are_never_limited(web):
    use_up(web)
    for url in ["/static/lienhop.css", "/healthz", "/", "/advanced", "/admin/login",
                "/robots.txt"] * (BURST + 1):
        res = get(web, url)
        assert res.status_code == 200, url
        res.close()


def test_a_limit_of_zero_switches_it_off(lienhop_env):
    settings = dataclasses.replace(load_settings(), rate_limit=0, rate_burst=1)
    client = create_app(settings).test_client()
    statuses = {get(client, "/go/garbage").status_code for _ in range(20)}
    assert 429 not in statuses
