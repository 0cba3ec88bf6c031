"""Spelling suggestions ("did you mean") at a bounded cost, from an index's own vocabulary.

Engine-neutral: the tables and the search over them live here; each engine builds or maps
the tables of its vocabulary (index/whoosh_engine/suggest.py per Whoosh segment,
index/tantivy_engine/vocabulary.py per commit) and counts documents per term.

Whoosh's ``terms_within`` builds a Levenshtein automaton in pure Python for every unknown
word and walks the vocabulary with it: a query of 25 random 19-letter words took 4.4 s on
the demo index and 20.6 s at 10k records, so a handful of such clients starved everyone
else. Here candidates come from a symmetric-delete table built once per segment (segments
never change, so the table lives as long as the process reads that segment), and one query
costs at most a fixed number of table probes and distance computations, whatever it holds:

* nothing for identifier searches (``doi:``, ``isbn:``, ``issn:``, a token mixing digits
  with letters or punctuation, numbers running to :data:`ID_DIGITS` digits, a label such as
  "ISBN" beside a number) nor for queries longer than :data:`MAX_WORDS` syllables;
* nothing for a syllable whose own term is in the index, for a syllable spelt as Vietnamese
  is spelt (a real word the index lacks: index/syllable_shape.py), for a word written as an
  unknown field ("foo:bar"), for numbers, for words longer than :data:`MAX_WORD_LEN`;
* for the others, at most ``1 + P + P(P-1)/2`` probes per segment (``P`` =
  :data:`PREFIX`); per query at most :data:`MAX_READ` terms read from the tables and
  :data:`MAX_EXAMINED` candidates compared.

The table holds, for every term of a segment's ``all_f`` / ``all_x`` vocabulary, the first
:data:`PREFIX` letters of its folded form and each of their one-letter deletions; a query
word probes with its own folded prefix and up to two deletions of it. That finds every term
one edit away (substitution, insertion, deletion, transposition), any slip of the marks
(the keys are folded), and the two-edit slips typing makes most (a doubled letter plus
another, unconverted Telex such as "vieetj"); each candidate is then checked with the true
distance, as before: at most 1 edit for words under 4 letters, 2 for longer ones.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
import sys
import threading
import time
import zlib
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeAlias

from index import querylang as qlang
from index.analysis import Syllable, exact_form, fold, has_diacritics, nfc, syllables
from index.spelling import osa_distance
from index.syllable_shape import is_well_formed

#: Queries with more syllables get no suggestion: a Vietnamese word is one to three of
#: them, so this is about four words, a title's worth.
MAX_WORDS = 8
#: Longer words are kept as typed: hardly a real word is longer.
MAX_WORD_LEN = 20
#: Letters of a term that go into the table; Vietnamese syllables are at most 7.
PREFIX = 8
#: Terms read from the tables, and candidates compared (edit distance), per query.
MAX_READ = 5_000
MAX_EXAMINED = 300
#: A backstop only: the work bounds above keep a query far below it.
TIME_BUDGET = 0.1

#: The fields suggestions come from (folded, accent-exact).
FIELDS = ("all_f", "all_x")
_MASK = 0xFFFFFFFF
# Table files: magic (with the byte order of the arrays after it), terms, keys, blob bytes.
_HEADER = "<8sQQQ"
_MAGIC = b"LHSUG1" + (b"L\n" if sys.byteorder == "little" else b"B\n")
_DIGIT = re.compile(r"\d")
#: numbers written in groups: "978 604 671 234", "1859 4816", "978-604"
_DIGIT_RUN = re.compile(r"\d[\d\s.\-\u2010-\u2015]*")
_TOKEN = re.compile(r"\S+")
#: Digits, written in one run, that make a query an identifier search: an ISSN has 8.
ID_DIGITS = 8
#: Words that label an identifier.
ID_LABELS = frozenset({"isbn", "issn", "eissn", "e-issn", "pissn", "p-issn", "doi"})
_stats = threading.local()
# The table arrays: built in memory (array), or views of a mapped file (memoryview).
_Ints: TypeAlias = "array[int] | memoryview"
#: How many documents hold a term: ``(field, term) -> int``.
DocFrequency: TypeAlias = Callable[[str, str], int]


def work() -> Counter[str]:
    """What suggestions cost in this thread since the counter was last cleared:
    ``probes`` (table lookups), ``read`` (terms they returned), ``examined`` (candidates
    compared), ``indexed`` (vocabulary terms put into tables, once per segment). For the
    tests and bench/suggest.py."""
    counter = getattr(_stats, "counter", None)
    if counter is None:
        counter = _stats.counter = Counter()
    return counter


def _key(term: str) -> str:
    """What the table is keyed by: the folded prefix. An accent-exact term and a query word
    with a tone on the wrong vowel ("vịen" for "viện") fold alike, so a misplaced mark
    costs no deletion; the distance check still counts it."""
    return fold(term)[:PREFIX]


def _deletes(word: str, depth: int) -> list[str]:
    """``word`` and every string made by deleting up to ``depth`` letters, nearest first."""
    out = [word]
    seen = {word}
    level = [word]
    for _ in range(depth):
        nxt: list[str] = []
        for w in level:
            for i in range(len(w)):
                d = w[:i] + w[i + 1:]
                if d not in seen:
                    seen.add(d)
                    nxt.append(d)
        out += nxt
        level = nxt
    return out


class DeleteTable:
    """One segment's vocabulary of one field, keyed by the deletions of each term's prefix.

    Three flat arrays: ``keys``, sorted, each ``crc32(key) << 32 | term number``; ``offsets``
    of each term in ``blob``, the UTF-8 terms end to end. 8 bytes a key: 150k made-up terms
    gave 1.1M keys, 9 MB (a dict of lists took ~85 MB). Saved at commit beside the segment
    and memory-mapped by readers, so every worker process shares one copy and none builds
    it. A crc32 collision only adds a candidate, which the distance check then drops."""

    def __init__(self, keys: _Ints, offsets: _Ints, blob: bytes | memoryview,
                 keep: mmap.mmap | None = None):
        self.keys, self.offsets, self.blob = keys, offsets, blob
        self._keep = keep  # the mmap behind the views, open as long as the table lives

    @classmethod
    def build(cls, terms: list[str], *, folded: bool) -> DeleteTable:
        packed: list[int] = []
        offsets = array("Q", [0])
        blob = bytearray()
        for i, t in enumerate(terms):
            # Folded fields hold folded terms already: fold() would only cost time.
            key = t[:PREFIX] if folded else _key(t)
            packed.extend((_hash(k) << 32) | i for k in _deletes(key, 1))
            blob += t.encode("utf-8")
            offsets.append(len(blob))
        packed.sort()
        work()["indexed"] += len(terms)
        return cls(array("Q", packed), offsets, bytes(blob))

    def save(self, path: Path) -> None:
        """Write the table to ``path`` atomically (a torn file is never read: load checks)."""
        header = struct.pack(_HEADER, _MAGIC, len(self.offsets) - 1, len(self.keys),
                             len(self.blob))
        # A dot-name: Whoosh's clean-up leaves it alone while it is being written.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(header)
            fh.write(self.offsets.tobytes())
            fh.write(self.keys.tobytes())
            fh.write(self.blob)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> DeleteTable | None:
        """The table saved at ``path``, memory-mapped; None when missing or unreadable."""
        try:
            with open(path, "rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # missing, or empty
            return None
        size = struct.calcsize(_HEADER)
        try:
            magic, n_terms, n_keys, n_blob = struct.unpack_from(_HEADER, mm)
        except struct.error:
            magic = None
        if magic != _MAGIC or len(mm) != size + 8 * (n_terms + 1 + n_keys) + n_blob:
            mm.close()
            return None
        view = memoryview(mm)
        off_end = size + 8 * (n_terms + 1)
        keys_end = off_end + 8 * n_keys
        return cls(view[keys_end - 8 * n_keys:keys_end].cast("Q"),
                   view[size:off_end].cast("Q"), view[keys_end:], keep=mm)

    def lookup(self, key: str) -> Iterator[str]:
        h = _hash(key)
        keys, offsets, blob = self.keys, self.offsets, self.blob
        i = bisect_left(keys, h << 32)
        while i < len(keys) and keys[i] >> 32 == h:
            t = keys[i] & _MASK
            yield bytes(blob[offsets[t]:offsets[t + 1]]).decode("utf-8")
            i += 1


def _hash(key: str) -> int:
    # Stable across processes (str hash() is not): tables are written by one, read by all.
    return zlib.crc32(key.encode("utf-8"))


def _has_identifier(node: qlang.Node) -> bool:
    if isinstance(node, (qlang.Ident, qlang.NoMatch)):
        return True
    if isinstance(node, (qlang.And, qlang.Or)):
        return any(_has_identifier(c) for c in node.children)
    if isinstance(node, qlang.Not):
        return _has_identifier(node.child)
    return False


def _looks_like_identifier(token: str) -> bool:
    """A token with a digit and anything else in it: "10.1234/x", "B2019", "978-604-…"."""
    return bool(_DIGIT.search(token)) and not token.isdigit()


class _Budget:
    def __init__(self) -> None:
        self.reads = MAX_READ
        self.comparisons = MAX_EXAMINED
        self.deadline = time.monotonic() + TIME_BUDGET

    def read(self) -> bool:
        """Take one term from a table; False once the query has used its share."""
        self.reads -= 1
        work()["read"] += 1
        return self.reads >= 0

    def compare(self) -> bool:
        """Take one distance computation; False once the query has used its share."""
        if self.comparisons <= 0 or time.monotonic() > self.deadline:
            return False
        self.comparisons -= 1
        work()["examined"] += 1
        return True


def _best(freq: DocFrequency, tables: list[DeleteTable], fieldname: str, term: str,
          budget: _Budget) -> str | None:
    maxdist = 2 if len(term) >= 4 else 1
    found: dict[str, int] = {}
    seen: set[str] = set()
    counter = work()
    for key in _deletes(_key(term), maxdist):
        for table in tables:
            counter["probes"] += 1
            for cand in table.lookup(key):
                if not budget.read():
                    return _pick(freq, fieldname, found)
                if cand in seen:
                    continue
                seen.add(cand)
                if abs(len(cand) - len(term)) > maxdist:
                    continue
                if not budget.compare():
                    return _pick(freq, fieldname, found)
                dist = osa_distance(term, cand)
                if 0 < dist <= maxdist:
                    found[cand] = dist
    return _pick(freq, fieldname, found)


def _pick(freq: DocFrequency, fieldname: str, found: dict[str, int]) -> str | None:
    # A table may name terms no document holds any more (deleted, or, in an engine that
    # keeps tables per commit, a commit that never finished): never suggest those.
    counts = {t: freq(fieldname, t) for t in found}
    held = [t for t in found if counts[t] > 0]
    if not held:
        return None
    return min(held, key=lambda t: (found[t], -counts[t], t))


def suggest(ast: qlang.Node, freq: DocFrequency,
            tables: Callable[[str], list[DeleteTable]]) -> list[str]:
    """The query with each misspelt syllable replaced by its nearest indexed term, or [].

    A syllable is misspelt when the index lacks it and no Vietnamese syllable is spelt so
    (index/syllable_shape.py); a word the index holds, or a real word it merely lacks
    ("đi"), is never changed. Nothing is suggested for an identifier search
    (:func:`_names_identifier`), and words written as a field the language does not know
    ("foo:bar", searched as words) are left as typed. The suggestion is the reader's own
    query, fields, phrases and operators kept (:func:`index.querylang.unparse`).

    ``freq`` counts the documents holding a term; ``tables(field)`` gives the delete tables
    of the snapshot's vocabulary of ``field`` (one of :data:`FIELDS`), built or mapped by
    the engine — asked only when some syllable is misspelt."""
    groups = qlang.word_groups(ast)
    if not groups or _has_identifier(ast) or _names_identifier(groups):
        return []
    slots = [(g, syl, _typed_as_field(nfc(g.text), syl)) for g in groups
             for syl in syllables(nfc(g.text))]
    if not slots or len(slots) > MAX_WORDS:
        return []
    # (group, syllable, field, index term or None when it is to stay as typed)
    plan: list[tuple[qlang.Words, Syllable, str, str | None]] = []
    for group, syl, as_field in slots:
        accented = has_diacritics(syl.text)
        fieldname = "all_x" if accented else "all_f"
        term = exact_form(syl.text) if accented else fold(syl.text)
        keep = (as_field or len(term) < 2 or len(term) > MAX_WORD_LEN or not term.isalpha()
                or freq(fieldname, term) > 0 or is_well_formed(syl.text))
        plan.append((group, syl, fieldname, None if keep else term))
    if all(term is None for *_, term in plan):
        return []
    by_field = {f: tables(f) for f in {f for _, _, f, term in plan if term is not None}}
    budget = _Budget()  # the clock starts once the tables exist: building is not searching
    changes: dict[int, list[tuple[Syllable, str]]] = {}
    for group, syl, fieldname, unknown in plan:
        best = _best(freq, by_field[fieldname], fieldname, unknown, budget) if unknown else None
        if best is not None:
            changes.setdefault(id(group), []).append((syl, best))
    if not changes:
        return []

    def respell(group: qlang.Words) -> qlang.Words:
        text = nfc(group.text)
        for syl, best in reversed(changes.get(id(group), [])):
            text = text[:syl.start] + best + text[syl.end:]
        return replace(group, text=text) if id(group) in changes else group

    return [qlang.unparse(qlang.map_word_groups(ast, respell))]


def _typed_as_field(text: str, syl: Syllable) -> bool:
    """Whether the syllable is inside a word written as an unknown field ("foo:bar")."""
    for m in _TOKEN.finditer(text):
        if m.start() <= syl.start < m.end():
            return qlang.unknown_field(m.group())
    return False


def _names_identifier(groups: list[qlang.Words]) -> bool:
    """Whether plain words name an identifier: a token mixing digits with letters or
    punctuation ("10.1234/x", "B2019", "978-604-…"), numbers running to
    :data:`ID_DIGITS` digits across spaces ("978 604 671 234 o", an ISSN's "1859 4816"), or
    an identifier's label beside a number ("ISBN 9786046712343")."""
    text = " ".join(g.text for g in groups)
    tokens = text.split()
    if any(_looks_like_identifier(tok) for tok in tokens):
        return True
    if any(len(_DIGIT.findall(run)) >= ID_DIGITS for run in _DIGIT_RUN.findall(text)):
        return True
    labelled = any(tok.strip(":#.").casefold() in ID_LABELS for tok in tokens)
    return labelled and bool(_DIGIT.search(text))


def vocabulary_terms(terms: Iterator[str]) -> list[str]:
    """The terms of a vocabulary that go into a table: words a query may misspell."""
    return [t for t in terms if len(t) <= MAX_WORD_LEN and t.isalpha()]
