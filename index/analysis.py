"""Vietnamese-aware text analysis: pure functions first, Whoosh adapters at the bottom.

Pipeline (see docs in the issue / notes §c): NFC → syllables → for the *exact* form:
lowercase + one tone-mark placement; for the *folded* form: drop every combining mark,
map đ/Đ → d, lowercase.

Neighbours (syllable bigrams, which answer phrases: no field stores positions) are made by
:func:`gap_separator` alone, for documents and queries alike, so a phrase copied from a
title, punctuation and all, is analysed exactly as the title was indexed. Punctuation inside
a sentence (":", ",", "/", "(", "–", quotes…) is no gap: "University: Part" and "University
Part" are one pair. A sentence end is a gap of its own kind ("Hà. Nội" pairs as ``ha.noi``,
never as the phrase "hà nội"), and values of a multi-valued field are never neighbours.

This module's path and the names ``_VietTokenizer``, ``ExactTokenizer``, ``FoldTokenizer``
and ``BigramTokenizer`` are part of the on-disk format: Whoosh pickles the schema, with an
instance of each tokenizer, into the TOC of every index (index/whoosh_engine/schema.py), and
unpickling finds a class by its module path and name. Moving or renaming one makes every
index already built unreadable (unpickling fails: "No module named …", "Can't get
attribute …"), so they stay here, whatever else moves; tests/index/test_pickled_paths.py
checks what an index references.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Tone marks (the five Vietnamese tones); circumflex, breve and horn are letter marks and
# never move.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Letters and digits are separate syllables: PDF extraction glues footnote digits to
# names ("Hòa1"), and "Hòa" must still be found.
_SYLLABLE = re.compile(r"[^\W\d_]+|\d+")
SYLLABLE_RE = _SYLLABLE
# The same syllables, kept by re.split with the text between them.
_SPLIT = re.compile(f"({_SYLLABLE.pattern})")
#: Joins two neighbouring syllables in a bigram term: "hà nội", "Hà-Nội", "Hà: Nội" → ha_noi.
BIGRAM_SEP = "_"
#: Joins two syllables on either side of a sentence end: "Hà. Nội" → ha.noi.
BREAK_SEP = "."
#: Between the values of a multi-valued field (and the parts of the "all" text): the last
#: syllable of one title and the first of the next are no neighbours.
VALUE_SEP = " | "
# A sentence end: terminal punctuation, closing quotes/brackets, then white space. Not the
# dot of ".NET", "1.5" or "Hà.Nội" (no space after it).
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s")


def gap_separator(gap: str) -> str | None:
    """How two syllables are neighbours, given ``gap``, the text between them.

    :data:`BIGRAM_SEP` for one phrase, :data:`BREAK_SEP` across a sentence end, ``None``
    across a value separator. The one rule for indexed text and queries alike.
    """
    if gap == " ":  # nearly every gap: keep it cheap
        return BIGRAM_SEP
    if "|" in gap:
        return None
    if _SENTENCE_END.search(gap):
        return BREAK_SEP
    return BIGRAM_SEP


def nfc(text: str) -> str:
    """Canonical composition; the only change ever made to text stored for display."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=262_144)
def fold_syllable(syllable: str) -> str:
    """:func:`fold` memoised: the syllable vocabulary is small, texts are long."""
    return fold(syllable)


def fold(text: str) -> str:
    """Remove all diacritics (tone and letter marks), map đ/Đ → d, lowercase.

    Not ``whoosh.support.charset.accent_map``: it maps combining tilde/dot-below to letters
    when fed NFD text (notes §c.2), and NFD strip alone leaves đ (it has no decomposition).
    NFKD also unpacks ligatures and compatibility forms for English text.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "d").lower()


def _move_tone(syllable: str) -> str:
    """Put the tone of a final open oa/oe/uy (not after q) on the first vowel: hoà → hòa."""
    parts: list[list[str]] = []  # [base, marks...] per letter
    for ch in unicodedata.normalize("NFD", syllable):
        if unicodedata.combining(ch) and parts:
            parts[-1].append(ch)
        else:
            parts.append([ch])
    if len(parts) < 2:
        return syllable
    first, second = parts[-2], parts[-1]
    rhyme = (first[0] + second[0]).lower()
    if rhyme not in ("oa", "oe", "uy"):
        return syllable
    if rhyme == "uy" and len(parts) >= 3 and parts[-3][0].lower() == "q":
        return syllable  # "quý": u belongs to the onset qu-, the tone sits on y
    if len(first) > 1 and any(m not in _TONES for m in first[1:]):
        return syllable  # a letter mark on the first vowel: not the open rhyme
    tones = [m for m in second[1:] if m in _TONES]
    if not tones or any(m in _TONES for m in first[1:]):
        return syllable
    second[1:] = [m for m in second[1:] if m not in _TONES]
    first.extend(tones)
    return unicodedata.normalize("NFC", "".join("".join(p) for p in parts))


@lru_cache(maxsize=262_144)
def exact_form(syllable: str) -> str:
    """The accent-exact index form of one syllable: NFC, lowercase, one tone placement."""
    return _move_tone(nfc(syllable).lower())


def normalise_tones(text: str) -> str:
    """Apply the tone placement rule to every syllable of ``text`` (keeps case and spacing)."""
    text = nfc(text)
    return _SYLLABLE.sub(lambda m: _move_tone(m.group()), text)


@dataclass(frozen=True, slots=True)
class Syllable:
    text: str  # as written (NFC)
    start: int  # offsets in the NFC text
    end: int
    sep: str | None  # how it pairs with the previous syllable (gap_separator); None: not


def syllables(text: str) -> list[Syllable]:
    """Split NFC text into syllables, noting how each pairs with the previous one."""
    out: list[Syllable] = []
    prev_end = -1
    for m in _SYLLABLE.finditer(text):
        sep = gap_separator(text[prev_end:m.start()]) if prev_end >= 0 else None
        out.append(Syllable(m.group(), m.start(), m.end(), sep))
        prev_end = m.end()
    return out


def exact_tokens(text: str) -> list[str]:
    return [exact_form(w) for w in _SYLLABLE.findall(nfc(text))]


def marked_exact_tokens(text: str) -> list[str]:
    """Exact forms of the syllables that carry a mark. Unmarked syllables equal their fold
    and the folded field already holds them; exact matches are only boosted for syllables
    the user typed with marks, so this halves the exact field at no loss."""
    out = []
    for w in _SYLLABLE.findall(nfc(text)):
        e = exact_form(w)
        if e != fold_syllable(w):
            out.append(e)
    return out


def fold_tokens(text: str) -> list[str]:
    return [fold_syllable(w) for w in _SYLLABLE.findall(nfc(text))]


def fold_bigrams(text: str) -> list[str]:
    """Neighbouring-syllable pairs, folded, joined by :func:`gap_separator`: "Hà Nội" and
    "Hà: Nội" give ``ha_noi``, "Hà. Nội" gives ``ha.noi``, "Hà | Nội" nothing."""
    return phrase_terms(text)[0]


def phrase_terms(text: str) -> tuple[list[str], list[str]]:
    """What a document must hold to contain ``text`` as a phrase: its pairs (as
    :func:`fold_bigrams`), and its folded syllables that are in no pair (a phrase of one
    word, or a value on its own beside "|")."""
    pairs: list[str] = []
    lone: list[str] = []
    sylls = syllables(nfc(text))
    folds = [fold_syllable(s.text) for s in sylls]
    for i, s in enumerate(sylls):
        if s.sep is not None:
            pairs.append(folds[i - 1] + s.sep + folds[i])
        nxt = sylls[i + 1].sep if i + 1 < len(sylls) else None
        if s.sep is None and nxt is None:
            lone.append(folds[i])
    return pairs, lone


def index_forms(text: str) -> tuple[list[str], list[str], list[str]]:
    """``(marked_exact_tokens, fold_tokens, fold_bigrams)`` of ``text`` in one pass.

    Indexing needs all three forms of every text; splitting and folding once instead of
    three times (and handing the engines the term lists, so no analyzer runs) is what the
    write path uses. Equal to the three functions by construction (tested). The hot loop
    of a rebuild: one split gives syllables and gaps alike, the per-syllable forms are
    memoised, and nearly every gap is one space."""
    parts = _SPLIT.split(nfc(text))  # gap, syllable, gap, ..., syllable, gap
    words = parts[1::2]
    if not words:
        return [], [], []
    folds = list(map(fold_syllable, words))
    exact = [e for e, f in zip(map(exact_form, words), folds, strict=True) if e != f]
    pairs: list[str] = []
    add = pairs.append
    for prev, gap, cur in zip(folds, parts[2::2], folds[1:], strict=False):  # n-1 gaps
        if gap == " ":
            add(prev + BIGRAM_SEP + cur)
        elif (sep := gap_separator(gap)) is not None:
            add(prev + sep + cur)
    return exact, folds, pairs


def has_diacritics(text: str) -> bool:
    """True when the user typed any Vietnamese mark or đ (then exact matches rank first)."""
    return fold(text) != nfc(text).lower()


# --------------------------------------------------------------------------------------
# Whoosh adapters. Module-level classes, here for good: the schema pickled into every
# index's TOC names them by this module path (see the module docstring). The schema only
# keeps them for old callers: documents are indexed from term lists (index_forms).

try:  # pragma: no cover - import guard only matters if the engine is swapped out
    from whoosh.analysis import Token, Tokenizer
except ImportError:  # pragma: no cover
    Tokenizer = object
    Token = None


class _VietTokenizer(Tokenizer):  # type: ignore[misc]  # whoosh is untyped: the base is Any
    """Emits index terms; subclasses choose the form. No positions are needed: phrases are
    answered with the bigram field, so fields are indexed with frequencies only."""

    def _terms(self, text: str) -> Iterable[str]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Any]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for term in self._terms(value):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            yield t


class ExactTokenizer(_VietTokenizer):
    def _terms(self, text: str) -> Iterable[str]:
        return marked_exact_tokens(text)


class FoldTokenizer(_VietTokenizer):
    def _terms(self, text: str) -> Iterable[str]:
        return fold_tokens(text)


class BigramTokenizer(_VietTokenizer):
    def _terms(self, text: str) -> Iterable[str]:
        return fold_bigrams(text)
