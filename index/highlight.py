"""Highlighting in the stored (accented) text for any query form (pure functions).

A syllable is marked when its folded form is one of the query's folded syllables, so
"thu vien" marks "Thư viện". Everything else is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from itertools import compress, islice

from index.analysis import SYLLABLE_RE, fold, fold_syllable, nfc


def _fold_table() -> tuple[dict[int, str], re.Pattern[str]]:
    """A one-character fold of every letter that folds to one ASCII letter (Latin, with
    Vietnamese's marks), and a pattern finding any other letter or digit (not ASCII)."""
    table: dict[int, str] = {}
    for cp in [*range(0x41, 0x250), *range(0x1E00, 0x1F00)]:
        ch = chr(cp)
        folded = fold(ch)
        if _LETTER.fullmatch(ch) and len(folded) == 1 and "a" <= folded <= "z":
            table[cp] = folded
    listed = "".join(re.escape(chr(cp)) for cp in sorted(table))
    return table, re.compile(f"[^\\W_0-9{listed}]")


_LETTER = re.compile(r"[^\W\d_]")
_FOLD, _OTHER = _fold_table()


@lru_cache(maxsize=256)
def _terms_pattern(terms: frozenset[str]) -> re.Pattern[str] | None:
    """The query syllables as whole syllables of a text folded by :data:`_FOLD` (where a
    syllable is a run of letters, or of digits, as in index/analysis.py)."""
    words = sorted((t for t in terms if t.isascii() and t.isalpha() and t.islower()),
                   key=lambda t: (-len(t), t))
    digits = sorted((t for t in terms if t.isascii() and t.isdigit()), key=lambda t: (-len(t), t))
    parts = []
    if words:
        parts.append("(?<![a-z])(?:" + "|".join(words) + ")(?![a-z])")
    if digits:
        parts.append("(?<![0-9])(?:" + "|".join(digits) + ")(?![0-9])")
    return re.compile("|".join(parts)) if parts else None


def _hits(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """(start, end) of the syllables of ``text`` (NFC) whose fold is in ``terms``, in order.

    A page of results highlights 20 abstracts of hundreds of syllables each: looking at each
    syllable in Python was a quarter of a search's CPU (measured at 100k records). A text
    whose letters and digits are all Latin letters and ASCII digits (Vietnamese and English
    text) is folded in one C call, character for character, and the query syllables found
    in it by one pattern; any other text is read syllable by syllable (the rule itself:
    tests/index/test_highlight.py holds both to it)."""
    if not terms:
        return []
    if _OTHER.search(text) is None:
        pattern = _terms_pattern(frozenset(terms))
        if pattern is None:
            return []
        return [m.span() for m in pattern.finditer(text.translate(_FOLD))]
    words = SYLLABLE_RE.findall(text)
    marked = list(compress(range(len(words)), map(terms.__contains__,
                                                    map(fold_syllable, words))))
    if not marked:
        return []
    found = SYLLABLE_RE.finditer(text)
    out: list[tuple[int, int]] = []
    prev = -1
    for i in marked:
        m = next(islice(found, i - prev - 1, None))
        out.append(m.span())
        prev = i
    return out


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def highlight(text: str, terms: set[str]) -> str:
    """``text`` escaped, with syllables whose fold is in ``terms`` wrapped in <mark>."""
    text = nfc(text)
    return _marked(text, _hits(text, terms))


def snippet(text: str, terms: set[str], width: int = 240) -> str:
    """The ``width``-character window of ``text`` holding most query syllables, highlighted."""
    text = nfc(text)
    if len(text) <= width:
        return highlight(text, terms)
    hits = [start for start, _end in _hits(text, terms)]
    if not hits:
        cut = text.rfind(" ", 0, width)
        return html.escape(text[: cut if cut > 0 else width]) + " …"
    best_start, best_count = hits[0], 0
    j = 0
    for i, start in enumerate(hits):  # sliding window over hit offsets
        while hits[j] < start - width // 2:
            j += 1
        if i - j + 1 > best_count:
            best_count, best_start = i - j + 1, hits[j]
    begin = max(0, best_start - 40)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < best_start else begin
    end = min(len(text), begin + width)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin else end
    return (("… " if begin else "") + highlight(text[begin:end], terms)
            + (" …" if end < len(text) else ""))
