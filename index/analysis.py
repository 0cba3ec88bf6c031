"""Vietnamese-aware text analysis: pure functions first, Whoosh adapters at the bottom.

Pipeline (see docs in the issue / notes §c): NFC → syllables → for the *exact* form:
lowercase + one tone-mark placement; for the *folded* form: drop every combining mark,
map đ/Đ → d, lowercase. Syllable bigrams are only made between syllables separated by
whitespace (or a hyphen/apostrophe), so "Hà. Nội dung" never yields "hà nội".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

# Tone marks (the five Vietnamese tones); circumflex, breve and horn are letter marks and
# never move.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Letters and digits are separate syllables: PDF extraction glues footnote digits to
# names ("Hòa1"), and "Hòa" must still be found.
_SYLLABLE = re.compile(r"[^\W\d_]+|\d+")
SYLLABLE_RE = _SYLLABLE
# A gap made only of these still joins two syllables into a bigram.
_JOINING_GAP = re.compile(r"[\s\-\u2010-\u2013'’]*")
BIGRAM_SEP = "_"


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
    joined: bool  # True when this syllable may form a bigram with the previous one


def syllables(text: str) -> list[Syllable]:
    """Split NFC text into syllables, noting which neighbours may form bigrams."""
    out: list[Syllable] = []
    prev_end = -1
    for m in _SYLLABLE.finditer(text):
        joined = prev_end >= 0 and _JOINING_GAP.fullmatch(text, prev_end, m.start()) is not None
        out.append(Syllable(m.group(), m.start(), m.end(), joined))
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
    """Adjacent-syllable pairs, folded, never across punctuation ("Hà. Nội" is no pair)."""
    out = []
    prev = ""
    prev_end = -1
    text = nfc(text)
    for m in _SYLLABLE.finditer(text):
        cur = fold_syllable(m.group())
        if prev_end >= 0:
            gap = text[prev_end:m.start()]
            if gap == " " or _JOINING_GAP.fullmatch(gap):
                out.append(prev + BIGRAM_SEP + cur)
        prev, prev_end = cur, m.end()
    return out


def index_forms(text: str) -> tuple[list[str], list[str], list[str]]:
    """``(marked_exact_tokens, fold_tokens, fold_bigrams)`` of ``text`` in one pass.

    Indexing needs all three forms of every text; splitting and folding once instead of
    three times (and handing Whoosh the term lists, so no analyzer runs) is what the
    write path uses. Equal to the three functions by construction (tested)."""
    exact: list[str] = []
    folds: list[str] = []
    pairs: list[str] = []
    prev = ""
    prev_end = -1
    text = nfc(text)
    for m in _SYLLABLE.finditer(text):
        w = m.group()
        cur = fold_syllable(w)
        e = exact_form(w)
        if e != cur:
            exact.append(e)
        folds.append(cur)
        if prev_end >= 0:
            gap = text[prev_end:m.start()]
            if gap == " " or _JOINING_GAP.fullmatch(gap):
                pairs.append(prev + BIGRAM_SEP + cur)
        prev, prev_end = cur, m.end()
    return exact, folds, pairs


def has_diacritics(text: str) -> bool:
    """True when the user typed any Vietnamese mark or đ (then exact matches rank first)."""
    return fold(text) != nfc(text).lower()


# --------------------------------------------------------------------------------------
# Whoosh adapters. Module-level classes so the schema pickled into the index TOC can be
# unpickled by readers.

try:  # pragma: no cover - import guard only matters if the engine is swapped out
    from whoosh.analysis import Token, Tokenizer
except ImportError:  # pragma: no cover
    Tokenizer = object  # type: ignore[assignment,misc]
    Token = None  # type: ignore[assignment]


class _VietTokenizer(Tokenizer):  # type: ignore[misc,valid-type]
    """Emits index terms; subclasses choose the form. No positions are needed: phrases are
    answered with the bigram field, so fields are indexed with frequencies only."""

    def _terms(self, text: str) -> Iterable[str]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs) -> Iterator:
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
