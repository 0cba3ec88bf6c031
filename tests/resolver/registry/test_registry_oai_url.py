"""Registry validation of a repository's oai_url against the address policy (issue 11)."""

from __future__ import annotations

import doctest

import pytest

from harvesters.netguard import networks
from resolver.registry import toml_file as registry
from resolver.registry.toml_file import RegistryError, oai_url_problem, parse_registry

TEMPLATE = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"

[[institution.repository]]
code = "hue-dspace"
oai_url = "{url}"
"""


@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:5000/admin", "address 127.0.0.1 (loopback)"),
    ("http://localhost/oai", "host 'localhost' resolves to 127.0.0.1 (loopback)"),
    ("http://127.1/oai", "host '127.1' resolves to 127.0.0.1 (loopback)"),
    ("http://2130706433/oai", "host '2130706433' resolves to 127.0.0.1 (loopback)"),
    ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 (link-local)"),
    ("http://[::1]:8080/oai", "address ::1 (loopback)"),
    ("http://[fe80::1]/oai", "address fe80::1 (link-local)"),
    ("https://192.168.0.10/oai", "address 192.168.0.10 (private)"),
])
def test_private_literal_addresses_are_refused(url, why):
    with pytest.raises(RegistryError) as info:
        parse_registry(TEMPLATE.format(url=url), source="reg.toml", allowed_networks=())
    (line,) = info.value.lines()
    assert line.startswith("reg.toml:8: institution 'hue': repository 'hue-dspace': 'oai_url': ")
    assert why in line and line.endswith("allow it with LIENHOP_HARVEST_ALLOWED_NETWORKS")


def test_allowed_networks_and_public_urls_pass():
    allowed = networks("127.0.0.0/8")
    for url in ("http://127.0.0.1:8081/oai", "http://localhost:8081/oai"):
        (inst,) = parse_registry(TEMPLATE.format(url=url), allowed_networks=allowed)
        assert inst.repositories[0].oai_url == url
    # names are not resolved at entry (the harvester checks what they resolve to)
    for url in ("https://dlib.hueuni.edu.vn/oai/request", "http://203.162.4.190/oai"):
        assert parse_registry(TEMPLATE.format(url=url), allowed_networks=())


def test_without_allowed_networks_only_the_form_of_the_url_is_checked():
    assert parse_registry(TEMPLATE.format(url="http://127.0.0.1:9/oai"))  # as before
    with pytest.raises(RegistryError, match="'oai_url' must be an http\\(s\\) URL"):
        parse_registry(TEMPLATE.format(url="http://[::1/oai"))  # was an uncaught ValueError


def test_oai_url_problem_names_scheme_and_host():
    assert oai_url_problem("ftp://repo.example.vn/oai") == \
        "scheme 'ftp' is refused (only http and https)"
    assert oai_url_problem("http:///oai") == "URL http:///oai has no host"
    assert oai_url_problem("https://repo.example.vn/oai") is None


def test_doctests():
    assert doctest.testmod(registry).failed == 0
