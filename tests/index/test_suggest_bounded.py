"""Spelling suggestions cost a bounded amount of work, whatever the query (issue 12).

Work is counted, never timed: Whoosh vocabulary walks are observed with pass-through spies
on its reader classes, and the suggester's own counters (``index.suggestion.work``) give
the table probes and candidate comparisons one query made.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections import Counter

import pytest
from whoosh import reading

from index import Record, open_index, rebuild
from tests.support.catalogue import CATALOGUE, rec

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
          "nh", "ph", "qu", "s", "t", "th", "tr", "v", "x"]
RHYMES = ["a", "ai", "am", "an", "ang", "anh", "ao", "ay", "e", "em", "en", "i", "iên", "inh",
          "ô", "oa", "oc", "oi", "ong", "ông", "ơ", "ơn", "u", "ui", "ung", "ư", "ương", "ươi",
          "y", "ât", "ăn"]
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
N_RECORDS = 2000


def _syllable(rng: random.Random) -> str:
    return unicodedata.normalize("NFC", rng.choice(ONSETS) + rng.choice(RHYMES)
                                 + rng.choice(TONES))


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghiklmnoprstuvy") for _ in range(rng.randint(5, 11)))


def generated(n: int, seed: int = 12) -> list[Record]:
    """Titles of made-up Vietnamese syllables and English-like words: a vocabulary of
    several thousand terms, so that walking it costs what it costs on real data."""
    rng = random.Random(seed)
    out = [rec("hydro", "Thủy văn học và hydrology ứng dụng", year=2020)]
    for i in range(n - 1):
        words = [_syllable(rng) if rng.random() < 0.7 else _word(rng)
                 for _ in range(rng.randint(6, 10))]
        out.append(rec(f"g{i}", " ".join(words).capitalize(), year=1990 + i % 35,
                       creators=[f"{_syllable(rng)} {_syllable(rng)}".title()]))
    return out


def hostile(words: int, seed: int = 99) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(19))
                    for _ in range(words))


HOSTILE_25 = hostile(25)
HOSTILE_4 = hostile(4)
NORMAL = "thuy van hydrolgoy"  # one slip: "hydrology"


@pytest.fixture(scope="module")
def big(tmp_path_factory, engine):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("big") / "index"
    rebuild(path, generated(N_RECORDS), engine=engine)
    ix = open_index(path, readonly=True)
    assert ix.search(NORMAL).suggestions == ["thuy van hydrology"]  # warms every cache
    return ix


@pytest.fixture
def vocabulary_walks(monkeypatch):  # type: ignore[no-untyped-def]
    """Calls of the Whoosh reader methods that walk a field's vocabulary."""
    calls: Counter[str] = Counter()
    for cls in (reading.IndexReader, reading.SegmentReader, reading.MultiReader):
        for name in ("terms_within", "expand_prefix", "lexicon", "iter_from", "iter_prefix",
                     "iter_field", "all_terms"):
            if name not in vars(cls):
                continue
            original = vars(cls)[name]

            def spy(self, *args, _original=original, _name=name, **kwargs):
                calls[_name] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, spy)
    # tantivy's vocabulary is walked through one function (index/tantivy_engine/vocabulary.py).
    from index.tantivy_engine import vocabulary

    def walk(searcher, fieldname, _original=vocabulary.vocabulary):  # type: ignore[no-untyped-def]
        calls["terms_with_prefix"] += 1
        return _original(searcher, fieldname)

    monkeypatch.setattr(vocabulary, "vocabulary", walk)
    return calls


def _work(ix, q: str) -> dict[str, int]:
    from index.suggestion import work

    work().clear()
    ix.search(q)
    return dict(work())


def test_a_hostile_query_never_walks_the_vocabulary(big, vocabulary_walks):
    assert big.search(HOSTILE_25).suggestions == []
    assert big.search(HOSTILE_4).suggestions == []
    assert big.search(HOSTILE_4.upper() + " thu").suggestions == []
    assert vocabulary_walks == {}, "a query walked the index vocabulary"


def test_a_hostile_query_costs_what_a_normal_one_costs(big):
    from index.suggestion import MAX_EXAMINED, MAX_READ, MAX_WORDS, PREFIX

    normal = _work(big, NORMAL)
    assert normal.get("indexed", 0) == 0, "the vocabulary is read once per segment, not per query"
    assert normal["probes"] > 0 and normal["examined"] <= MAX_EXAMINED

    # Too long to be a misspelt title: no suggestion work at all.
    assert _work(big, HOSTILE_25) == {}
    # Short enough to be looked at: each unknown word costs what the normal one did.
    four = _work(big, HOSTILE_4)
    assert four.get("indexed", 0) == 0
    assert four["probes"] <= 4 * normal["probes"]
    assert four.get("examined", 0) <= MAX_EXAMINED
    # Words chosen to sit near as many terms as possible still stop at the budget.
    near = " ".join(w + "h" for w in ("anh", "ang", "ong", "inh", "ung", "an", "en", "ai"))
    crowded = _work(big, near)
    assert len(near.split()) <= MAX_WORDS
    probes_per_word = 1 + PREFIX + PREFIX * (PREFIX - 1) // 2
    assert crowded["probes"] <= MAX_WORDS * probes_per_word
    assert crowded["read"] <= MAX_READ and crowded["examined"] <= MAX_EXAMINED


def test_identifier_and_long_queries_cost_nothing(big):
    for q in ("doi:10.1234/abcdefghij thuy vann", "isbn:9780306406157 hydrolgoy",
              "issn:1234-5679 hydrolgoy", "https://doi.org/10.1/xyz hydrolgoy",
              "hydrolgoy 978-604-0-12345-6", "hydrolgoy B2019x", "doi:notadoi hydrolgoy",
              " ".join(["hydrolgoy"] * 9)):
        assert big.search(q).suggestions == [], q
        assert _work(big, q) == {}, q


def test_known_words_and_numbers_need_no_lookup(big):
    assert _work(big, "thuy van hydrology 2020") == {}


@pytest.mark.parametrize(("typed", "meant"), [
    ("thu vein", "thu vien"),  # transposition, no diacritics
    ("dai hco", "dai hoc"),  # a transposed three-letter syllable
    ("đại hcọ", "đại học"),  # ... typed with its marks
    ("sưc khoẻe", "sức khỏe"),  # a missing mark, an extra letter, old tone placement
    ("qyý tộc", "quý tộc"),
    ("vieetj nam", "viet nam"),  # Telex keys left unconverted
    ("Hoa Binhh", "Hoa binh"),
    ("thuy loi mien trugn", "thuy loi mien trung"),
    ("organik chemistry", "organic chemistry"),
])
def test_did_you_mean_with_and_without_diacritics(ix, typed, meant):
    assert ix.suggest(typed) == [meant]


def test_a_new_segment_is_suggested_from_at_once(tmp_path, engine):
    ix = open_index(tmp_path / "ix", engine=engine)
    with ix.writer() as w:
        w.add(CATALOGUE)
    assert ix.suggest("hydrolgoy") == []
    with ix.writer() as w:
        w.add([rec("later", "Hydrology of the Mekong")])
    assert ix.suggest("hydrolgoy") == ["hydrology"]


def _tables_on_disk(path) -> list:  # type: ignore[no-untyped-def]
    return sorted(path.glob("g-*/*.sugg_*"))


def test_tables_are_written_at_commit_so_no_reader_reads_the_vocabulary(
        tmp_path, vocabulary_walks):
    writer = open_index(tmp_path / "ix")
    with writer.writer() as w:
        w.add(CATALOGUE)
    assert _tables_on_disk(tmp_path / "ix")
    vocabulary_walks.clear()
    reader = open_index(tmp_path / "ix", readonly=True)
    assert reader.suggest("thu vein") == ["thu vien"]
    assert reader.suggest("đại hcọ") == ["đại học"]
    assert vocabulary_walks == {}


def test_a_missing_or_torn_table_is_rebuilt_by_the_reader(tmp_path):
    writer = open_index(tmp_path / "ix")
    with writer.writer() as w:
        w.add(CATALOGUE)
    files = _tables_on_disk(tmp_path / "ix")
    files[0].unlink()
    for f in files[1:]:
        f.write_bytes(f.read_bytes()[:-3])
    reader = open_index(tmp_path / "ix", readonly=True)
    assert reader.suggest("thu vein") == ["thu vien"]
    assert reader.suggest("đại hcọ") == ["đại học"]


def test_tables_of_merged_segments_go_with_them(tmp_path):
    ix = open_index(tmp_path / "ix")
    for i in range(12):  # enough commits for the merge policy to merge
        with ix.writer() as w:
            w.add([rec(f"r{i}", f"Thư viện số {i} hydrology")])
    segments = {p.name.split(".")[0] for p in (tmp_path / "ix").glob("g-*/*.seg")}
    tables = {p.name.split(".")[0] for p in _tables_on_disk(tmp_path / "ix")}
    assert len(segments) < 12 and tables == segments
    assert ix.suggest("hydrolgoy") == ["hydrology"]
