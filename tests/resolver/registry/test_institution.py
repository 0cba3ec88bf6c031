"""Institution detection: client IP behind proxies, ranges, inst parameter, cookie."""

from resolver.registry.campus import client_ip, detect_institution, institution_for_ip, parse_ip

PROXIES = ["10.0.0.0/8", "fd00::/8"]
RANGES = [
    ("VNU", "203.113.128.0/18"),
    ("VNU-HUS", "203.113.130.0/24"),  # more specific, inside VNU
    ("HUST", "2001:ee0:4000::/48"),
    ("BAD", "not-a-network"),
]
KNOWN = {"VNU", "VNU-HUS", "HUST", "CTU"}


def test_direct_client_without_proxy():
    assert client_ip("203.113.130.5", None, PROXIES) == "203.113.130.5"


def test_xff_walked_right_to_left_skipping_trusted():
    xff = "1.1.1.1, 203.113.130.5, 10.0.0.7"
    assert client_ip("10.0.0.2", xff, PROXIES) == "203.113.130.5"


def test_spoofed_xff_from_untrusted_client_is_ignored():
    # A client outside our proxies claims to be on the VNU network.
    assert client_ip("8.8.8.8", "203.113.130.5", PROXIES) == "8.8.8.8"


def test_client_prepended_value_is_not_trusted_through_proxy():
    # The client sent "XFF: 203.113.130.5"; our proxy appended the real peer 8.8.8.8.
    assert client_ip("10.0.0.2", "203.113.130.5, 8.8.8.8", PROXIES) == "8.8.8.8"


def test_garbage_in_chain_stops_the_walk():
    assert client_ip("10.0.0.2", "203.113.130.5, garbage, 10.0.0.9", PROXIES) == "10.0.0.9"


def test_all_hops_trusted_returns_leftmost():
    assert client_ip("10.0.0.2", "10.0.0.3, 10.0.0.4", PROXIES) == "10.0.0.3"


def test_ipv6_and_ports_and_mapped():
    assert client_ip("fd00::1", "2001:ee0:4000::5", PROXIES) == "2001:ee0:4000::5"
    assert client_ip("10.0.0.2", "[2001:ee0:4000::5]:443", PROXIES) == "2001:ee0:4000::5"
    assert client_ip("10.0.0.2", "203.113.130.5:5555", PROXIES) == "203.113.130.5"
    assert str(parse_ip("::ffff:203.113.130.5")) == "203.113.130.5"
    assert client_ip("not an ip", None, PROXIES) is None


def test_most_specific_range_wins():
    assert institution_for_ip("203.113.130.5", RANGES) == "VNU-HUS"
    assert institution_for_ip("203.113.140.5", RANGES) == "VNU"
    assert institution_for_ip("2001:ee0:4000:1::9", RANGES) == "HUST"
    assert institution_for_ip("8.8.8.8", RANGES) is None
    assert institution_for_ip("::ffff:203.113.140.5", RANGES) == "VNU"
    assert institution_for_ip(None, RANGES) is None


def test_detection_order():
    ip_vnu = "203.113.140.5"
    assert detect_institution("CTU", ip_vnu, "HUST", KNOWN, RANGES) == "CTU"
    assert detect_institution("ctu", ip_vnu, None, KNOWN, RANGES) == "CTU"
    assert detect_institution("EVIL", ip_vnu, "HUST", KNOWN, RANGES) == "VNU"  # unknown inst
    assert detect_institution(None, "8.8.8.8", "HUST", KNOWN, RANGES) == "HUST"
    assert detect_institution(None, "8.8.8.8", "EVIL", KNOWN, RANGES) is None
    assert detect_institution(None, None, None, KNOWN, RANGES) is None
