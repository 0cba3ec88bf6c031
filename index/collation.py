"""Vietnamese alphabetical order: a ă â b c d đ e ê … o ô ơ … u ư …, tones as a tie-break.

Primary level: letters (with their letter marks, tones ignored); secondary: the tones in the
dictionary order ngang, huyền, hỏi, ngã, sắc, nặng; tertiary: case. Python's default
code-point order puts "Đ" after "Z" and "ă" after "z", which is why this exists.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn


def _split(ch: str) -> tuple[str, int]:
    """One NFC character → (letter with letter marks, tone rank)."""
    parts = unicodedata.normalize("NFD", ch)
    base, marks = parts[0], parts[1:]
    tone = 0
    letter_marks = ""
    for m in marks:
        if m in _TONE_RANK:
            tone = _TONE_RANK[m]
        elif m in _LETTER_MARKS:
            letter_marks += m
    return unicodedata.normalize("NFC", base + letter_marks), tone


@lru_cache(maxsize=8192)  # every title of a rebuild is keyed: few distinct characters
def _char_key(ch: str) -> tuple[str, str, str]:
    """One letter or digit's (primary, secondary, tertiary) parts of a sort key."""
    letter, tone = _split(ch)
    low = letter.lower()
    if low in _RANK:
        primary = chr(0x100 + _RANK[low])
    elif low.isdigit():
        primary = chr(0x10 + int(low)) if low.isascii() else low
    else:
        primary = chr(0x1000 + ord(low))  # other scripts after Latin, by code
    return primary, chr(0x30 + tone), "1" if letter != low else "0"


def sort_key(text: str) -> str:
    """A string whose code-point order is the Vietnamese order of ``text``."""
    text = unicodedata.normalize("NFC", text).strip()
    primary: list[str] = []
    secondary: list[str] = []
    tertiary: list[str] = []
    for ch in text:
        if not ch.isalnum():
            if ch.isspace() and primary and primary[-1] != "\x01":
                primary.append("\x01")  # word boundary sorts before any letter
            continue
        p, s, t = _char_key(ch)
        primary.append(p)
        secondary.append(s)
        tertiary.append(t)
    return "".join(primary) + "\x00" + "".join(secondary) + "\x00" + "".join(tertiary)
