"""A person's whole name as one term: what lets a full-name query find that person first.

Syllable pairs alone cannot tell "Nguyễn Văn Diệu Hòa" from a record where "Nguyễn Văn"
begins one author's name and "Diệu Hòa" stands in the title: both hold the query's pairs.
So each creator value is also indexed whole, folded, as one term in the creator bigram field
(``=nguyen_van_dieu_hoa``; the leading :data:`MARK` keeps it apart from every pair, which has
one separator and no mark), and a query ranks a record higher when a run of its syllables
is exactly one of its creators (index/features.py, ``ranking_features``).

A value written "Surname, Given" is also indexed in the order "Given Surname", so "John
Smith" finds "Smith, John"; Vietnamese names keep their order either way ("Nguyễn, Văn An"
→ ``=nguyen_van_an``). What follows the name in a catalogue's heading — a role in brackets,
life dates — is not part of it: "Nguyễn Văn An (chủ biên)" and "Smith, John, 1950-" are
"Nguyễn Văn An" and "Smith, John".
"""

from __future__ import annotations

import re

from index.analysis import BIGRAM_SEP, fold_syllable, nfc

#: Begins every whole-name term.
MARK = "="
#: Names longer than this are not names (a corporate body, a sentence): no whole-name term.
MAX_SYLLABLES = 8
#: The longest run of query syllables tried as a name, and how many runs a query may try
#: (a bound on the work of a long query: each run is one term lookup).
QUERY_RUN = 6
QUERY_RUNS = 64
_LETTERS = re.compile(r"[^\W\d_]+")
# Where the name ends in a heading: a bracketed role or note, or life dates.
_HEADING_TAIL = re.compile(r"[(\[]|,?\s*\d")


def _term(syllables: list[str]) -> str:
    return MARK + BIGRAM_SEP.join(syllables)


def _folded(text: str) -> list[str]:
    return [fold_syllable(w) for w in _LETTERS.findall(text)]


def name_terms(value: str) -> list[str]:
    """The whole-name terms of one creator value (none for a one-syllable or overlong
    value)."""
    text = nfc(value)
    if m := _HEADING_TAIL.search(text):
        text = text[:m.start()]
    out: list[str] = []
    whole = _folded(text)
    if 2 <= len(whole) <= MAX_SYLLABLES:
        out.append(_term(whole))
        surname, comma, given = text.partition(",")
        if comma and "," not in given:
            front, back = _folded(surname), _folded(given)
            if front and back:
                turned = _term(back + front)
                if turned not in out:
                    out.append(turned)
    return out


def query_names(folds: list[str]) -> list[tuple[str, int]]:
    """Every run of two or more neighbouring folded query syllables that could be a whole
    name, as (term, number of syllables): a query that is a name, or holds one among other
    words ("Hòa Nguyễn Văn Diệu Hòa luận văn")."""
    out: dict[str, int] = {}
    n = len(folds)
    for size in range(min(n, QUERY_RUN), 1, -1):  # longest first, if the bound cuts
        for start in range(n - size + 1):
            run = folds[start:start + size]
            if all(run):
                out.setdefault(_term(run), size)
                if len(out) >= QUERY_RUNS:
                    return list(out.items())
    return list(out.items())
