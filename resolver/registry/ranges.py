"""Campus IP ranges: which a registry may hold (pure).

Campus ranges decide who is detected as which institution (:mod:`resolver.registry.campus`),
so they are judged beyond their syntax: no overlap between any two (checked by one sort, so
100k institutions take seconds), at most :data:`MAX_RANGES_PER_INSTITUTION` per
institution, nothing wider than :data:`CONSORTIUM_RULE` allows and nothing in
:data:`SPECIAL_BLOCKS`. Institution administrators are held to the narrower
:data:`INSTITUTION_ADMIN_RULE` by the admin pages. The registry file's validator
(:mod:`resolver.registry.toml_file`) and the admin registry page both judge with these.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Enough for a university with many campuses and both IP versions; a cap keeps one
#: institution from filling the registry (and every validation of it) with ranges.
MAX_RANGES_PER_INSTITUTION = 64


@dataclass(frozen=True)
class RangeRule:
    """The widest campus range (the smallest prefix length) one kind of editor may enter."""

    min_prefix_v4: int
    min_prefix_v6: int

    def floor(self, version: int) -> int:
        return self.min_prefix_v4 if version == 4 else self.min_prefix_v6


#: Institution administrators: a /16 (65,536 addresses) is a very large campus, a /32 is what
#: a regional registry gives a whole provider. Wider ranges are the consortium's decision.
INSTITUTION_ADMIN_RULE = RangeRule(16, 32)
#: The registry file and consortium administrators: a /8 was given to single universities in
#: the early Internet; anything wider (0.0.0.0/1 in one attack) claims other people's
#: addresses whoever enters it.
CONSORTIUM_RULE = RangeRule(8, 24)

#: No campus range may touch these. Nobody's client comes from them, and the loopback
#: block is worse than useless: behind a reverse proxy missing from LIENHOP_TRUSTED_PROXIES
#: every request arrives from 127.0.0.1, so claiming it claims every user.
#: Deliberately absent:
#: - private ranges (10/8, 172.16/12, 192.168/16, 100.64/10 CGNAT, fc00::/7): behind a
#:   trusted proxy or on the consortium's own network, a campus's private addresses are what
#:   lienhop sees, and nobody on the Internet can appear with one (a TCP handshake needs the
#:   answer routed back). Two institutions still cannot claim the same one (overlap check),
#:   and the admin pages refuse a range holding one of our own trusted proxies;
#: - documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32): the
#:   demo registry and the tests use them, and as they are never routed no real client can
#:   be claimed through them.
SPECIAL_BLOCKS: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(block), kind) for block, kind in (
        ("0.0.0.0/8", "'this network'"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # with the 255.255.255.255 broadcast address
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),  # clients are matched as IPv4 (parse_ip)
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
    )
)


def parse_network(text: str) -> tuple[Network | None, str | None]:
    """``text`` as a network, or why it is not one (host bits set is told apart)."""
    try:
        return ipaddress.ip_network(text, strict=True), None
    except ValueError as exc:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None, f"{text!r} is not an IPv4/IPv6 address or CIDR range ({exc})"
        return None, f"{text!r} has host bits set; did you mean the network address?"


def _span(net: Network) -> tuple[int, int]:
    """First and last address as integers (broadcast_address is a slow cached property)."""
    start = int(net.network_address)
    return start, start + (1 << (net.max_prefixlen - net.prefixlen)) - 1


# as integers: Network.overlaps costs ~20 µs a call, too much for 10 blocks x 200k ranges
_SPECIAL_SPANS = tuple((block.version, int(block.network_address), int(block.broadcast_address),
                        block, kind) for block, kind in SPECIAL_BLOCKS)


def special_block(net: Network) -> tuple[Network, str] | None:
    """The block of :data:`SPECIAL_BLOCKS` that ``net`` overlaps, with its kind, or None.

    >>> special_block(ipaddress.ip_network("0.0.0.0/1"))
    (IPv4Network('0.0.0.0/8'), "'this network'")
    >>> special_block(ipaddress.ip_network("10.20.0.0/16")) is None
    True
    """
    start, end = _span(net)
    for version, block_start, block_end, block, kind in _SPECIAL_SPANS:
        if version == net.version and block_start <= end and start <= block_end:
            return block, kind
    return None


def range_problem(net: Network, rule: RangeRule = CONSORTIUM_RULE) -> str | None:
    """What forbids ``net`` as a campus range under ``rule``, or None.

    >>> range_problem(ipaddress.ip_network("10.0.0.0/7"))
    '10.0.0.0/7 is wider than /8, the widest campus range allowed'
    >>> range_problem(ipaddress.ip_network("10.20.0.0/15"), INSTITUTION_ADMIN_RULE)
    '10.20.0.0/15 is wider than /16, the widest campus range allowed'
    """
    hit = special_block(net)
    if hit is not None:
        return f"{net} overlaps {hit[0]} ({hit[1]} addresses), which no campus may claim"
    floor = rule.floor(net.version)
    if net.prefixlen < floor:
        return f"{net} is wider than /{floor}, the widest campus range allowed"
    return None


def overlapping_pairs(nets: Sequence[Network]) -> list[tuple[int, int]]:
    """Index pairs ``(later, earlier)`` of the networks in ``nets`` that overlap.

    Two CIDR ranges overlap only when one holds the other, so after sorting by start
    address (then prefix length) a single sweep with a stack of the ranges still open
    finds every pair: O(n log n) plus one step per pair, where comparing every range
    with every other took 45 s for 10k institutions. The open ranges are strictly nested,
    so at most 33 (IPv4) or 129 (IPv6) deep, and the pairs stay linear in n. Of equal
    ranges only the first listed stays open: a range equal to or inside k copies of one
    network is paired with the first copy only (the pairwise check paired it with all k).

    >>> nets = [ipaddress.ip_network(n) for n in ("10.0.1.0/24", "10.0.0.0/16", "10.1.0.0/16")]
    >>> overlapping_pairs(nets)
    [(1, 0)]
    """
    pairs: list[tuple[int, int]] = []
    for version in (4, 6):
        items = []
        for idx, net in enumerate(nets):
            if net.version == version:
                start, end = _span(net)
                items.append((start, net.prefixlen, idx, end))
        items.sort()
        # (start, prefix length, index, end) of the ranges holding the current one,
        # outermost first: each holds the next, since CIDR ranges never partly overlap
        open_ranges: list[tuple[int, int, int, int]] = []
        for item in items:
            start, plen, idx, _end = item
            while open_ranges and open_ranges[-1][3] < start:
                open_ranges.pop()
            for _s, _p, other, _e in open_ranges:
                pairs.append((max(idx, other), min(idx, other)))
            if not (open_ranges and open_ranges[-1][:2] == (start, plen)):
                open_ranges.append(item)
    pairs.sort()
    return pairs
