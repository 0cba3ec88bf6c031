"""Which member institution is asking: client IP behind proxies, IP ranges, inst, cookie.

Pure functions; the Flask layer passes ``request.remote_addr``, the X-Forwarded-For
header, the ``inst`` query parameter and the cookie value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Sequence

__all__ = ["client_ip", "detect_institution", "institution_for_ip", "parse_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(raw: str | None) -> IPAddress | None:
    """Parse an address as proxies write it ("1.2.3.4", "1.2.3.4:5678", "[::1]:80").

    IPv4-mapped IPv6 (``::ffff:1.2.3.4``) becomes IPv4 so that it matches IPv4 ranges.
    """
    if not raw:
        return None
    s = raw.strip().strip('"')
    if s.startswith("["):
        s = s[1:].split("]", 1)[0]
    elif s.count(":") == 1:  # IPv4 with a port
        s = s.split(":", 1)[0]
    s = s.split("%", 1)[0]  # zone index
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _networks(items: Iterable[str | IPNetwork]) -> list[IPNetwork]:
    nets = []
    for n in items:
        try:
            nets.append(n if not isinstance(n, str) else ipaddress.ip_network(n, strict=False))
        except ValueError:
            continue  # a typo in configuration must not open the door to everyone
    return nets


def _in_any(ip: IPAddress, nets: Sequence[IPNetwork]) -> bool:
    return any(ip.version == n.version and ip in n for n in nets)


def client_ip(
    remote_addr: str | None,
    x_forwarded_for: str | None,
    trusted_proxies: Iterable[str | IPNetwork],
) -> str | None:
    """The real client address.

    X-Forwarded-For is only believed when the direct peer is one of our trusted proxies;
    it is then walked right to left, skipping trusted proxies, and the first untrusted
    address is the client. Anything a client prepends itself is therefore ignored.
    """
    remote = parse_ip(remote_addr)
    if remote is None:
        return None
    nets = _networks(trusted_proxies)
    if not x_forwarded_for or not _in_any(remote, nets):
        return str(remote)
    last = remote
    for hop in reversed(x_forwarded_for.split(",")[-32:]):
        ip = parse_ip(hop)
        if ip is None:
            break  # garbage in the chain: trust nothing to its left
        if not _in_any(ip, nets):
            return str(ip)
        last = ip
    return str(last)


def institution_for_ip(ip: str | None, ranges: Iterable[tuple[str, str | IPNetwork]]
                       ) -> str | None:
    """Institution code whose range contains *ip*; the most specific range wins."""
    addr = parse_ip(ip)
    if addr is None:
        return None
    best: tuple[int, str] | None = None
    for code, net in ranges:
        nets = _networks([net])
        if not nets:
            continue
        n = nets[0]
        if n.version == addr.version and addr in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, code)
    return best[1] if best else None


def _known(value: str | None, known_codes: Collection[str]) -> str | None:
    if not value:
        return None
    v = value.strip()
    if v in known_codes:
        return v
    folded = {c.casefold(): c for c in known_codes}
    return folded.get(v.casefold())


def detect_institution(
    inst_param: str | None,
    ip: str | None,
    cookie_value: str | None,
    known_codes: Collection[str],
    ranges: Iterable[tuple[str, str | IPNetwork]],
) -> str | None:
    """Explicit ``inst`` (if known), else IP range, else cookie (if known), else None."""
    return (
        _known(inst_param, known_codes)
        or institution_for_ip(ip, ranges)
        or _known(cookie_value, known_codes)
    )
