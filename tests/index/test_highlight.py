"""Highlighting marks exactly the syllables whose fold is a query syllable, whatever the
text holds (digits, underscores, combining marks, superscripts, HTML), and the snippet is
the window holding most of them: checked against the rule written out syllable by
syllable (what index/highlight.py did before it skipped to the hits in C)."""

from __future__ import annotations

import html
import random

import pytest

from index.analysis import SYLLABLE_RE, fold, fold_syllable, nfc
from index.highlight import highlight, snippet


def rule_highlight(text: str, terms: set[str]) -> str:
    text = nfc(text)
    out: list[str] = []
    pos = 0
    for m in SYLLABLE_RE.finditer(text):
        if fold_syllable(m.group()) in terms:
            out.append(html.escape(text[pos:m.start()]))
            out.append("<mark>" + html.escape(m.group()) + "</mark>")
            pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def rule_snippet(text: str, terms: set[str], width: int = 240) -> str:
    text = nfc(text)
    if len(text) <= width:
        return rule_highlight(text, terms)
    hits = [m.start() for m in SYLLABLE_RE.finditer(text) if fold_syllable(m.group()) in terms]
    if not hits:
        cut = text.rfind(" ", 0, width)
        return html.escape(text[: cut if cut > 0 else width]) + " …"
    best_start, best_count = hits[0], 0
    j = 0
    for i, start in enumerate(hits):
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
    return (("… " if begin else "") + rule_highlight(text[begin:end], terms)
            + (" …" if end < len(text) else ""))


#: Vietnamese and English text (folded character for character) ...
LATIN = ["Thư", "viện", "thu", "VIỆN", "số", "so", "2024", "a_b", "<b>", "&", "Đà", "Nẵng",
         "hoà", "hòa", "e\u0301\u0323", "12ab34", " ", "  ", ", ", ". ", "—", "\n", "-", "'",
         "lúa", "gạo", "Ça", "ªº", "İ", "“", "”", "…", "thuc", "th"]
#: ... and letters or digits of other kinds (read syllable by syllable).
OTHER = ["x²", "ﬁ", "Ａ", "中文", "٣", "Ωmega", "ǅ"]


@pytest.mark.parametrize("seed", range(60))
def test_highlight_and_snippet_follow_the_rule(seed):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    pieces = LATIN + OTHER if seed % 3 == 0 else LATIN
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 400)))
    terms = {fold(rng.choice(pieces + ["thu", "vien", "so"]).strip())
             for _ in range(rng.randint(0, 4))} - {""}
    assert highlight(text, terms) == rule_highlight(text, terms)
    for width in (20, 240):
        assert snippet(text, terms, width) == rule_snippet(text, terms, width)
