"""Spelling suggestions: the old vocabulary walk against the bounded table (issue 12).

    .venv/bin/python bench/suggest.py [--records 10000] [--repeat 5]

Three indexes: the demo consortium (its records through the real crosswalks), N records
generated as in bench/search.py (a small vocabulary), and N records whose titles are
made-up words (a vocabulary the size of a real catalogue's). Per index, ms per query of

* ``before``: the suggester this replaced (Whoosh ``terms_within`` for every unknown
  syllable, no limits), reproduced here so both run in the same process on the same index;
* ``after``: ``SearchIndex.suggest`` (index/whoosh_engine/suggest.py), its tables written at commit;
* ``search``: the whole ``SearchIndex.search`` a client gets, suggestions included.

Queries: ``hostile`` = 25 random 19-letter words (what the review sent), ``hostile-4`` = 4
such words (short enough to be looked at), ``normal`` = 2-3 syllables of a real title with
one typing slip. Building the tables (what each commit adds for its new segments, and what
a reader does for a segment without them) is timed apart.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lxml import etree  # noqa: E402

from harvesters.crosswalk import Header, crosswalk  # noqa: E402
from index import Record, open_index, rebuild  # noqa: E402
from index import querylang as qlang  # noqa: E402
from index.analysis import exact_form, fold, has_diacritics, nfc, syllables  # noqa: E402
from index.querylang import word_groups  # noqa: E402
from index.spelling import osa_distance  # noqa: E402
from index.suggestion import work  # noqa: E402
from index.whoosh_engine.suggest import write_tables  # noqa: E402


def before(searcher, ast: qlang.Node) -> list[str]:  # type: ignore[no-untyped-def]
    """The suggester as it was (index/whoosh_engine.py ``_suggest`` before issue 12)."""
    groups = word_groups(ast)
    if not groups:
        return []
    reader = searcher.reader()
    changed = False
    words_out: list[str] = []
    for g in groups:
        for syl in syllables(nfc(g.text)):
            accented = has_diacritics(syl.text)
            field_name = "all_x" if accented else "all_f"
            term = exact_form(syl.text) if accented else fold(syl.text)
            if reader.doc_frequency(field_name, term) > 0:
                words_out.append(syl.text)
                continue
            cands = list(reader.terms_within(field_name, term, 2 if len(term) >= 4 else 1))
            if not cands:
                words_out.append(syl.text)
                continue
            best = min(cands, key=lambda t: (osa_distance(term, t),
                                             -reader.doc_frequency(field_name, t), t))
            words_out.append(best)
            changed = True
    return [" ".join(words_out)] if changed else []


def demo_index(path: Path) -> int:
    from resolver.demo import demo_records, demo_repositories

    recs: list[Record] = []
    for code, _url in demo_repositories():
        prefix, devrecs = demo_records(code)
        for r in devrecs:
            if r.deleted or prefix not in r.metadata:
                continue
            payload = etree.fromstring(r.metadata[prefix])
            recs.append(crosswalk(prefix, payload, Header(r.identifier, r.datestamp),
                                  repository=code, institution=code.split("-")[0]))
    rebuild(path, recs)
    return len(recs)


def generated_index(path: Path, n: int) -> int:
    from search import generate  # bench/search.py

    rebuild(path, generate(n))
    return n


def wide_index(path: Path, n: int) -> int:
    """Titles of made-up syllables and English-like words: bench/search.py draws from a
    24-record corpus (~1k terms at any size), real catalogues have tens of thousands."""
    rng = random.Random(5)
    onsets = ["", "b", "c", "ch", "d", "đ", "g", "gi", "h", "kh", "l", "m", "n", "ng", "nh",
              "ph", "qu", "s", "t", "th", "tr", "v", "x"]
    rhymes = ["a", "ai", "an", "ang", "anh", "ao", "ay", "em", "en", "iên", "inh", "ô", "oa",
              "oc", "oi", "ong", "ông", "ơn", "u", "ui", "ung", "ư", "ương", "ươi", "y", "ăn"]
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]

    def word() -> str:
        if rng.random() < 0.6:
            return nfc(rng.choice(onsets) + rng.choice(rhymes) + rng.choice(tones))
        return "".join(rng.choice("abcdefghiklmnoprstuvy") for _ in range(rng.randint(4, 12)))

    recs = [Record(id=f"w{i}", oai_identifier=f"oai:w:{i}", repository="w", institution="w",
                   titles=[" ".join(word() for _ in range(rng.randint(6, 12))).capitalize()],
                   creators=[f"{word()} {word()}".title()], year=1990 + i % 35)
            for i in range(n)]
    rebuild(path, recs)
    return n


def hostile(words: int, rng: random.Random) -> str:
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(19))
                    for _ in range(words))


def slip(word: str, rng: random.Random) -> str:
    """One typing slip: a swapped, doubled, dropped or wrong letter."""
    i = rng.randrange(len(word))
    kind = rng.randrange(4) if len(word) > 2 else 1
    if kind == 0 and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice("aeiouhnt") + word[i + 1:]


def normal_queries(ix, n: int, rng: random.Random) -> list[str]:  # type: ignore[no-untyped-def]
    titles = [h.record.title for h in ix.search("", size=200, facets=False).hits]
    out = []
    while len(out) < n:
        words = [s.text.lower() for s in syllables(nfc(rng.choice(titles)))]
        k = min(len(words), rng.randint(2, 3))
        start = rng.randint(0, len(words) - k)
        chunk = words[start:start + k]
        j = max(range(k), key=lambda m: len(chunk[m]))
        chunk[j] = slip(chunk[j], rng)
        out.append(" ".join(chunk))
    return out


def per_query_ms(fn: Callable[[str], object], queries: list[str], repeat: int) -> list[float]:
    times = []
    for q in queries:
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn(q)
            best = min(best, time.perf_counter() - t)
        times.append(best * 1000)
    return times


def size_label(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def report(label: str, records: int, path: Path, repeat: int) -> None:
    ix = open_index(path, readonly=True)
    rng = random.Random(12)
    sets = {"hostile": [hostile(25, rng) for _ in range(5)],
            "hostile-4": [hostile(4, rng) for _ in range(5)],
            "normal": normal_queries(ix, 20, rng)}
    searcher = ix._snapshot().searcher  # noqa: SLF001 - the old code needs the raw searcher

    work().clear()
    t = time.perf_counter()
    ix.suggest(sets["normal"][0])  # maps the tables the commit wrote
    first = (time.perf_counter() - t) * 1000
    segments = len(searcher.reader().leaf_readers())
    with tempfile.TemporaryDirectory() as scratch:
        t = time.perf_counter()
        written = write_tables(Path(scratch), searcher.reader())
        build = (time.perf_counter() - t) * 1000
        size = sum(f.stat().st_size for f in Path(scratch).iterdir())
    print(f"\n{label}, {records} records, {segments} segment(s): {written} tables, "
          f"{size_label(size)}, {work()['indexed']} terms, built (at commit) in {build:.0f} ms;"
          f" first suggestion of this process (tables mapped) {first:.1f} ms")
    print(f"{'queries':<10} {'n':>3} {'before ms':>18} {'after ms':>16} {'search ms':>16}"
          f" {'probes/q':>9} {'compared/q':>11}")
    for name, qs in sets.items():
        old = per_query_ms(lambda q: before(searcher, qlang.parse(q)), qs, 1)
        new = per_query_ms(ix.suggest, qs, repeat)
        work().clear()
        whole = per_query_ms(ix.search, qs, repeat)
        probes = work()["probes"] / (len(qs) * repeat)
        compared = work()["examined"] / (len(qs) * repeat)

        def cell(xs: list[float]) -> str:
            return f"{statistics.median(xs):7.2f} (max {max(xs):7.2f})"

        print(f"{name:<10} {len(qs):>3} {cell(old):>18} {cell(new):>16} {cell(whole):>16}"
              f" {probes:>9.1f} {compared:>11.1f}")
    hits = sum(1 for q in sets["normal"] if ix.suggest(q))
    same = sum(1 for q in sets["normal"] if ix.suggest(q) == before(searcher, qlang.parse(q)))
    print(f"normal queries with a suggestion: after {hits}/{len(sets['normal'])}; "
          f"same suggestion as before: {same}/{len(sets['normal'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        report("demo consortium", demo_index(demo), demo, args.repeat)
        big = Path(tmp) / "generated"
        t = time.perf_counter()
        n = generated_index(big, args.records)
        print(f"\n(generated index built in {time.perf_counter() - t:.0f} s)")
        report("generated (bench/search.py)", n, big, args.repeat)
        wide = Path(tmp) / "wide"
        t = time.perf_counter()
        n = wide_index(wide, args.records)
        print(f"\n(wide-vocabulary index built in {time.perf_counter() - t:.0f} s)")
        report("generated, wide vocabulary (made-up words)", n, wide, args.repeat)


if __name__ == "__main__":
    main()
