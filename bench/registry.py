"""How long a registry import takes to validate, for a large consortium.

Generates registries of N institutions with 1-3 campus ranges each (IPv4 /24s and IPv6 /48s,
none overlapping, in shuffled order so nothing arrives pre-sorted) and times
``parse_registry`` on them: the validation every ``lienhop registry import`` and every admin
edit of the registry runs. Then one overlapping range is added, to time the refusal too.

    .venv/bin/python bench/registry.py                  # 10k and 100k institutions
    .venv/bin/python bench/registry.py --sizes 10000

Run it against an older checkout (``PYTHONPATH=/path/to/old/tree``) for the figures before
a change; the generated files are the same for the same ``--seed``.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resolver.registry.toml_file import RegistryError, parse_registry  # noqa: E402

#: 11.0.0.0 upwards: public IPv4 space, clear of 0/8 and 10/8 (and far from 127/8 for any
#: size this bench makes: 300k /24s end in 15.x.x.x)
V4_START = int(ipaddress.IPv4Address("11.0.0.0"))
V6_START = int(ipaddress.IPv6Address("2400::"))


def registry_toml(n: int, seed: int = 12) -> str:
    """``n`` institutions with 1-3 distinct ranges each, in random order."""
    rnd = random.Random(seed)
    v4 = v6 = 0
    blocks = []
    for i in range(n):
        ranges = []
        for k in range(rnd.randint(1, 3)):
            if k == 1:
                ranges.append(f"{ipaddress.IPv6Address(V6_START + (v6 << 80))}/48")
                v6 += 1
            else:
                ranges.append(f"{ipaddress.IPv4Address(V4_START + (v4 << 8))}/24")
                v4 += 1
        blocks.append(
            f'[[institution]]\ncode = "inst{i:06d}"\nname_vi = "Thư viện {i}"\n'
            f'status = "member"\nip_ranges = [{", ".join(repr(r) for r in ranges)}]\n'
            .replace("'", '"'))
    rnd.shuffle(blocks)
    return "\n".join(blocks)


def timed(text: str) -> tuple[float, float, int]:
    """Wall and CPU seconds ``parse_registry`` took, and how many problems it reported.

    CPU time is printed too because it is what a shared machine does not distort.
    """
    start, cpu = time.perf_counter(), time.process_time()
    try:
        parse_registry(text)
        found = 0
    except RegistryError as exc:
        found = len(exc.problems)
    return time.perf_counter() - start, time.process_time() - cpu, found


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    import resolver.registry.toml_file

    print(f"validator: {resolver.registry.toml_file.__file__}")
    print("seconds to validate, wall (CPU)")
    print(f"{'institutions':>12} {'ranges':>7} {'valid file':>18} {'one overlap':>18}")
    for n in args.sizes:
        text = registry_toml(n, args.seed)
        ranges = text.count("/24") + text.count("/48")
        wall, cpu, problems = timed(text)
        assert problems == 0, f"the generated registry should be valid ({problems} problems)"
        # the last institution claims a /16 holding the first /24s of everyone else
        bad = text + '\n[[institution]]\ncode = "greedy"\nname_vi = "X"\n' \
                     'ip_ranges = ["11.0.0.0/16"]\n'
        bad_wall, bad_cpu, problems = timed(bad)
        assert problems > 0
        print(f"{n:>12} {ranges:>7} {wall:>10.2f} ({cpu:>5.2f}) {bad_wall:>10.2f} ({bad_cpu:>5.2f})"
              f"  {problems} overlaps reported")


if __name__ == "__main__":
    main()
