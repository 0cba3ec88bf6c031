"""Which host a URL leads to, and which harvested copies a direct redirect may follow."""

from __future__ import annotations

import pytest

from resolver.kb.linktemplates import url_host
from resolver.linking.service import may_redirect_to, member_domain

OWN = "repository.hueuni.edu.vn"


@pytest.mark.parametrize(("url", "host"), [
    ("https://Repository.HueUni.edu.vn/bitstream/1.pdf", OWN),
    ("http://repository.hueuni.edu.vn:8080/x", OWN),
    ("https://repository.hueuni.edu.vn./x", OWN),
    ("https://[2001:db8::1]:443/x", "[2001:db8::1]"),
    # Browsers go to evil.example for each of these.
    (f"https://{OWN}@evil.example/x", None),
    (f"https://evil.example\\@{OWN}/x", None),
    (f"https://evil.example%2F@{OWN}/x", None),
    ("https://evil%2eexample/x", None),
    # Not an http(s) URL with a host at all.
    ("javascript:alert(1)", None), ("//evil.example/x", None), ("/resolve/delivery", None),
    ("https:///x", None), ("", None), (None, None), ("https://a b/", None),
])
def test_url_host(url, host):
    assert url_host(url) == host


def test_only_the_owners_host_or_a_listed_one_may_be_followed():
    listed = frozenset({"openscience.vn"})
    assert may_redirect_to(f"https://{OWN}/a.pdf", owner_host=OWN, listed_hosts=listed)
    assert may_redirect_to("https://openscience.vn/a.pdf", owner_host=None, listed_hosts=listed)
    for url in ("https://evil.example/a.pdf", f"https://{OWN}.evil.example/a.pdf",
                f"https://sub.{OWN}/a.pdf", f"https://{OWN}@evil.example/a.pdf"):
        assert not may_redirect_to(url, owner_host=OWN, listed_hosts=listed), url
    # A record whose repository the registry does not know vouches for nothing.
    assert not may_redirect_to(f"https://{OWN}/a.pdf", owner_host=None, listed_hosts=listed)


@pytest.mark.parametrize(("website", "domain"), [
    ("www.tvu.edu.vn", "tvu.edu.vn"), ("hueuni.edu.vn", "hueuni.edu.vn"),
    ("WWW.Vista.Gov.VN.", "vista.gov.vn"), ("example.org", "example.org"),
    ("www.ox.ac.uk", "ox.ac.uk"),
    # what no member can hold: a country's second level, a TLD, an address
    ("www.edu.vn", None), ("edu.vn", None), ("ac.uk", None), ("www.com.vn", None),
    ("vn", None), ("www.vn", None), ("192.0.2.7", None), ("[2001:db8::1]", None),
    ("a..vn", None),
])
def test_the_domain_a_member_holds(website, domain):
    assert member_domain(website) == domain


def test_hosts_under_the_members_domain_may_be_followed():
    domains = frozenset({"hueuni.edu.vn"})
    for url in ("https://hueuni.edu.vn/a.pdf", "https://tap-chi.hueuni.edu.vn/a.pdf",
                "https://a.b.hueuni.edu.vn/a.pdf"):
        assert may_redirect_to(url, owner_domains=domains, listed_hosts=()), url
    for url in ("https://evilhueuni.edu.vn/a.pdf", "https://hueuni.edu.vn.evil.example/a.pdf",
                "https://edu.vn/a.pdf", "https://hueuni.edu.vn@evil.example/a.pdf",
                "javascript://hueuni.edu.vn/a.pdf"):
        assert not may_redirect_to(url, owner_domains=domains, listed_hosts=()), url
