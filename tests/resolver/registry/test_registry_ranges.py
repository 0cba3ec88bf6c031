"""Registry campus ranges: the overlap check scales, ranges are capped, and nobody's file may
claim wide or special address space."""

from __future__ import annotations

import doctest
import ipaddress
import random
import time

import pytest

from resolver.demo import DEMO_DIR
from resolver.registry import ranges as ranges_module
from resolver.registry.ranges import MAX_RANGES_PER_INSTITUTION, overlapping_pairs
from resolver.registry.toml_file import RegistryError, parse_registry


def registry(*ranges: list[str]) -> str:
    """One institution per argument, each with the given ranges."""
    return "\n".join(
        f'[[institution]]\ncode = "i{n}"\nname_vi = "Thư viện {n}"\n'
        f"ip_ranges = [{', '.join(chr(34) + r + chr(34) for r in rs)}]\n"
        for n, rs in enumerate(ranges))


def problems(text: str, **kw: object) -> list[tuple[int | None, str]]:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="reg.toml", **kw)  # type: ignore[arg-type]
    return info.value.problems


def pairwise_messages(text: str) -> list[tuple[int | None, str]]:
    """The overlap problems as the former check found them: every range against every
    earlier one, reported at the later range, in file order (the reference to match)."""
    import tomllib

    found: list[tuple[int | None, str]] = []
    seen: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = []
    lines = {line: n for n, line in enumerate(text.splitlines(), start=1)}
    for raw in tomllib.loads(text)["institution"]:
        line = lines[f'code = "{raw["code"]}"'] + 2  # the ip_ranges line of registry()
        for r in raw["ip_ranges"]:
            net = ipaddress.ip_network(r)
            for other, code in seen:
                if net.version == other.version and net.overlaps(other):
                    who = "itself" if code == raw["code"] else f"institution {code!r}"
                    found.append((line, f"institution {raw['code']!r}: ip_ranges: {net} "
                                        f"overlaps {other} of {who}"))
            seen.append((net, raw["code"]))
    return found


def test_overlaps_are_the_same_messages_on_the_same_lines_as_the_pairwise_check():
    rnd = random.Random(7)
    insts = []
    for _ in range(100):  # nested, adjacent and disjoint ranges of both versions, no duplicates
        rs = set()
        for _ in range(rnd.randint(1, 3)):
            if rnd.random() < 0.7:
                net = ipaddress.ip_network(f"100.{64 + rnd.randint(0, 1)}.{rnd.randint(0, 63)}"
                                           f".0/{rnd.choice([18, 20, 22, 24, 26])}", strict=False)
            else:
                net = ipaddress.ip_network(f"2400:{rnd.randint(0, 1):x}:{rnd.randint(0, 3):x}::/"
                                           f"{rnd.choice([32, 40, 48])}", strict=False)
            rs.add(str(net))
        insts.append(sorted(rs))
    flat = [r for rs in insts for r in rs]
    insts = [[r for r in rs if flat.count(r) == 1] for rs in insts]  # duplicates aside
    text = registry(*insts)
    expected = pairwise_messages(text)
    assert len(expected) > 20  # the sample really overlaps
    assert problems(text) == expected


def test_one_range_inside_another_of_the_same_institution_is_named():
    [(line, msg)] = problems(registry(["10.1.0.0/16", "10.1.2.0/24"]))
    assert line == 4 and msg == ("institution 'i0': ip_ranges: 10.1.2.0/24 overlaps "
                                 "10.1.0.0/16 of itself")


def test_overlapping_pairs_finds_nested_ranges_in_any_order():
    nets = [ipaddress.ip_network(n) for n in
            ("10.1.2.0/24", "2001:db8::/32", "10.0.0.0/8", "10.1.0.0/16", "11.0.0.0/8",
             "2001:db8:5::/48", "10.1.2.0/24")]
    assert overlapping_pairs(nets) == [(2, 0), (3, 0), (3, 2), (5, 1), (6, 0), (6, 2), (6, 3)]


def test_ten_thousand_ranges_validate_in_well_under_a_second_of_cpu_each():
    # the pairwise check took ~15 s of CPU for these 6,000 ranges and grew with their square
    rnd = random.Random(3)
    insts = []
    n = 0
    for _ in range(3000):
        k = rnd.randint(1, 3)
        insts.append([str(ipaddress.ip_network((0x0B000000 + ((n + j) << 8), 24)))
                      for j in range(k)])
        n += k
    rnd.shuffle(insts)
    text = registry(*insts)
    start = time.process_time()
    assert len(parse_registry(text)) == 3000
    assert time.process_time() - start < 3.0
    start = time.process_time()
    found = problems(text + registry(["11.0.0.0/16"]).replace('"i0"', '"greedy"'))
    assert time.process_time() - start < 3.0
    assert len(found) == 256 and all("overlaps" in m for _, m in found)


def test_ranges_per_institution_are_capped():
    ranges = [f"100.64.{i}.0/24" for i in range(MAX_RANGES_PER_INSTITUTION + 1)]
    [(line, msg)] = problems(registry(ranges))
    assert line == 4 and "65 ranges" in msg and f"at most {MAX_RANGES_PER_INSTITUTION}" in msg
    assert parse_registry(registry(ranges[:-1]))[0].ip_ranges == ranges[:-1]


@pytest.mark.parametrize(("cidr", "why"), [
    ("0.0.0.0/1", "overlaps 0.0.0.0/8"),
    ("::/3", "overlaps ::/128"),
    ("127.0.0.0/8", "loopback"),
    ("127.0.0.1/32", "loopback"),
    ("169.254.169.254/32", "link-local"),
    ("224.0.0.0/24", "multicast"),
    ("255.255.255.255/32", "reserved"),
    ("::1/128", "loopback"),
    ("fe80::/64", "link-local"),
    ("ff05::/16", "multicast"),
    ("::ffff:0:0/104", "IPv4-mapped"),
    ("10.0.0.0/7", "wider than /8"),
    ("2400::/20", "wider than /24"),
])
def test_the_registry_file_refuses_special_and_too_wide_ranges(cidr, why):
    [(line, msg)] = problems(registry([cidr]))
    assert line == 4 and msg.startswith("institution 'i0': ip_ranges: ") and why in msg


def test_the_registry_file_accepts_private_documentation_and_slash_8_ranges():
    ok = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00:1::/32",
          "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "2400::/24",
          "16.0.0.0/8"]
    assert parse_registry(registry(ok))[0].ip_ranges == ok
    assert len(parse_registry((DEMO_DIR / "registry.toml").read_text(encoding="utf-8"))) == 6


def test_ranges_in_force_are_not_judged_again_but_still_may_not_overlap():
    # an admin edit elsewhere must not fail on a range stored before the rules existed
    old = ["0.0.0.0/1", *[f"150.64.{i}.0/24" for i in range(70)]]
    assert parse_registry(registry(old), ranges_in_force=set(old))
    [(_line, msg)] = problems(registry(old + ["150.65.0.0/24"]), ranges_in_force=set(old))
    assert "at most 64" in msg
    [(_line, msg)] = problems(registry(["0.0.0.0/1"], ["8.8.8.0/24"]),
                              ranges_in_force={"0.0.0.0/1"})
    assert "8.8.8.0/24 overlaps 0.0.0.0/1" in msg


def test_doctests():
    assert doctest.testmod(ranges_module).failed == 0
