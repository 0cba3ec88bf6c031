"""Where a harvest may connect: the address policy behind ``TransportConfig.refuse_private``.

A repository's ``oai_url`` is typed in by an institution administrator, and the harvester
reports what the server answered (errors quote it).  Pointed at ``http://127.0.0.1:5000/``,
``http://10.0.0.5/`` or the cloud metadata service ``http://169.254.169.254/``, the harvester
would read a server inside the consortium's own network on the administrator's behalf.  So,
unless the consortium administrator allows a network (``LIENHOP_HARVEST_ALLOWED_NETWORKS``),
these destinations are refused:

- loopback (``127.0.0.0/8``, ``::1``), unspecified (``0.0.0.0/8``, ``::``),
- private (RFC 1918, ``100.64.0.0/10`` shared address space, ``fc00::/7``, ``fec0::/10``),
- link-local (``169.254.0.0/16`` with the metadata services, ``fe80::/10``),
- multicast and reserved ranges (``224.0.0.0/4``, ``240.0.0.0/4``, ``ff00::/8`` ...),
- any IPv6 form that embeds one of those IPv4 addresses (IPv4-mapped ``::ffff:127.0.0.1``,
  NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``).

Everything here is pure (no I/O) except :func:`resolve`, a thin ``getaddrinfo`` wrapper::

    >>> refusal("repo.example.vn", ["203.162.4.190"], allowed=())   # a public address
    >>> refusal("localhost", ["127.0.0.1"], allowed=())
    "host 'localhost' resolves to 127.0.0.1 (loopback), which is refused; allow it with LIENHOP_HARVEST_ALLOWED_NETWORKS"
    >>> refusal("localhost", ["127.0.0.1"], allowed=networks("127.0.0.0/8")) is None
    True
"""  # noqa: E501

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: the setting (environment variable) that allows networks; named in every refusal
SETTING = "LIENHOP_HARVEST_ALLOWED_NETWORKS"

#: schemes a harvest may use
SCHEMES = ("http", "https")

_N = ipaddress.ip_network

#: refused ranges with the word a message uses for them; checked in order, first match wins.
#: An explicit table rather than ``ipaddress``'s ``is_private`` & co., whose answers changed
#: between Python releases.
REFUSED: tuple[tuple[Network, str], ...] = (
    (_N("0.0.0.0/8"), "unspecified"),
    (_N("10.0.0.0/8"), "private"),
    (_N("100.64.0.0/10"), "private"),  # shared address space (carrier-grade NAT, cloud DNS)
    (_N("127.0.0.0/8"), "loopback"),
    (_N("169.254.0.0/16"), "link-local"),  # includes 169.254.169.254, the metadata service
    (_N("172.16.0.0/12"), "private"),
    (_N("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_N("192.168.0.0/16"), "private"),
    (_N("198.18.0.0/15"), "reserved"),  # benchmarking
    (_N("224.0.0.0/4"), "multicast"),
    (_N("240.0.0.0/4"), "reserved"),  # includes 255.255.255.255
    (_N("::/128"), "unspecified"),
    (_N("::1/128"), "loopback"),
    (_N("::/96"), "reserved"),  # deprecated IPv4-compatible addresses
    (_N("100::/64"), "reserved"),  # discard-only
    (_N("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_N("fc00::/7"), "private"),  # unique local
    (_N("fe80::/10"), "link-local"),
    (_N("fec0::/10"), "private"),  # deprecated site-local
    (_N("ff00::/8"), "multicast"),
)

_NAT64 = _N("64:ff9b::/96")


def networks(text: str) -> tuple[Network, ...]:
    """Parse a comma/space separated list of CIDR ranges (host bits allowed).

    >>> networks("127.0.0.0/8, 10.1.2.3/16 ::1")
    (IPv4Network('127.0.0.0/8'), IPv4Network('10.1.0.0/16'), IPv6Network('::1/128'))
    """
    return tuple(
        ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split()
    )


def parse_address(text: str) -> Address | None:
    """The address in ``text`` (an IPv6 zone such as ``%eth0`` is dropped), or ``None``.

    >>> parse_address("fe80::1%eth0")
    IPv6Address('fe80::1')
    >>> parse_address("[::1]")
    IPv6Address('::1')
    >>> parse_address("repo.example.vn") is None
    True
    """
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def show(address: Address) -> str:
    """The address as people write it (IPv4-mapped ones with their dotted quad).

    >>> show(ipaddress.ip_address("::ffff:127.0.0.1"))
    '::ffff:127.0.0.1'
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def _embedded_ipv4(addr: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def _forms(addr: Address) -> list[Address]:
    """The address itself and the IPv4 address it embeds, if any."""
    v4 = _embedded_ipv4(addr)
    return [addr] if v4 is None else [addr, v4]


def category(address: Address | str) -> str | None:
    """Why ``address`` is refused by default ("loopback", "private", ...), or ``None``.

    >>> category("169.254.169.254")
    'link-local'
    >>> category("::ffff:10.0.0.1")
    'private'
    >>> category("2002:7f00:1::")
    'loopback'
    >>> category("8.8.8.8") is None
    True
    """
    addr = parse_address(address) if isinstance(address, str) else address
    if addr is None:
        return "not an IP address"
    for form in _forms(addr):
        for net, label in REFUSED:
            if form.version == net.version and form in net:
                return label
    return None


def is_allowed(address: Address, allowed: Iterable[Network]) -> bool:
    """Whether ``address`` (or the IPv4 address it embeds) lies in one of ``allowed``.

    >>> is_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), networks("127.0.0.0/8"))
    True
    """
    forms = _forms(address)
    return any(f.version == net.version and f in net for net in allowed for f in forms)


def address_refusal(address: Address | str, allowed: Iterable[Network] = ()) -> str | None:
    """Why ``address`` may not be connected to, or ``None`` when it may.

    >>> address_refusal("10.1.2.3")
    'private'
    >>> address_refusal("10.1.2.3", networks("10.0.0.0/8")) is None
    True
    """
    addr = parse_address(address) if isinstance(address, str) else address
    if addr is None:
        return "not an IP address"
    why = category(addr)
    if why is None or is_allowed(addr, allowed):
        return None
    return why


def refusal(host: str, addresses: Iterable[str], allowed: Sequence[Network] = ()) -> str | None:
    """A message saying why ``host`` may not be harvested, or ``None`` when it may.

    ``addresses`` are what ``host`` resolves to; *any* refused address refuses the host (a
    name with one public and one loopback address could be answered by either).

    >>> refusal("mixed.example", ["203.162.4.190", "::1"])
    "host 'mixed.example' resolves to ::1 (loopback), which is refused; allow it with LIENHOP_HARVEST_ALLOWED_NETWORKS"
    >>> refusal("nothing.example", [])
    "host 'nothing.example' resolves to no address"
    """  # noqa: E501
    seen = False
    for text in addresses:
        seen = True
        why = address_refusal(text, allowed)
        if why is not None:
            addr = parse_address(text)
            shown = show(addr) if addr is not None else text
            if parse_address(host) is not None:
                return f"address {shown} ({why}) is refused; allow it with {SETTING}"
            return (
                f"host {host!r} resolves to {shown} ({why}), which is refused;"
                f" allow it with {SETTING}"
            )
    if not seen:
        return f"host {host!r} resolves to no address"
    return None


def scheme_refusal(url: str) -> str | None:
    """Why ``url`` is not something to harvest (scheme, missing host), or ``None``.

    >>> scheme_refusal("file:///etc/passwd")
    "scheme 'file' is refused (only http and https)"
    >>> scheme_refusal("http:///oai")
    'URL http:///oai has no host'
    >>> scheme_refusal("http://[::1/oai")
    'URL http://[::1/oai is not valid: Invalid IPv6 URL'
    >>> scheme_refusal("https://repo.example.vn/oai") is None
    True
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "http://[::1/oai"
        return f"URL {url} is not valid: {exc}"
    if parts.scheme.lower() not in SCHEMES:
        return f"scheme {parts.scheme!r} is refused (only http and https)"
    if not parts.hostname:
        return f"URL {url} has no host"
    return None


def literal_address(host: str) -> Address | None:
    """The address a host *literally* names, without DNS: IP literals, ``localhost``, and the
    legacy IPv4 forms ``getaddrinfo`` accepts (``127.1``, ``2130706433``, ``0x7f.0.0.1``).

    >>> literal_address("127.1")
    IPv4Address('127.0.0.1')
    >>> literal_address("LOCALHOST.")
    IPv4Address('127.0.0.1')
    >>> literal_address("repo.example.vn") is None
    True
    """
    addr = parse_address(host)
    if addr is not None:
        return addr
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    if name and all(c in "0123456789abcdefx." for c in name) and name[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def url_refusal(url: str, allowed: Sequence[Network] = ()) -> str | None:
    """Entry-time check of an ``oai_url`` without DNS: scheme, host, literal addresses.

    >>> url_refusal("http://169.254.169.254/latest/meta-data/")
    'address 169.254.169.254 (link-local) is refused; allow it with LIENHOP_HARVEST_ALLOWED_NETWORKS'
    >>> url_refusal("http://localhost:8080/oai", networks("127.0.0.0/8")) is None
    True
    """  # noqa: E501
    why = scheme_refusal(url)
    if why is not None:
        return why
    host = urlsplit(url).hostname or ""
    addr = literal_address(host)
    if addr is None:
        return None
    if parse_address(host) is None:  # a name (localhost, 127.1): say what it stands for
        return refusal(host, [str(addr)], allowed)
    return refusal(str(addr), [str(addr)], allowed)


def resolve(host: str, port: int | None = None) -> list[str]:
    """Every address ``host`` resolves to (``socket.getaddrinfo``), in its order.

    :raises OSError: (``socket.gaierror``) when the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for *_, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out:
            out.append(addr)
    return out
