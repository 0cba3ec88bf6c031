"""Highlighting in the stored (accented) text for any query form (pure functions).

A syllable is marked when its folded form is one of the query's folded syllables, so
"thu vien" marks "Thư viện". Everything else is HTML-escaped.
"""

from __future__ import annotations

import html

from index.analysis import SYLLABLE_RE, fold_syllable, nfc


def highlight(text: str, terms: set[str]) -> str:
    """``text`` escaped, with syllables whose fold is in ``terms`` wrapped in <mark>."""
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


def snippet(text: str, terms: set[str], width: int = 240) -> str:
    """The ``width``-character window of ``text`` holding most query syllables, highlighted."""
    text = nfc(text)
    if len(text) <= width:
        return highlight(text, terms)
    hits = [m.start() for m in SYLLABLE_RE.finditer(text) if fold_syllable(m.group()) in terms]
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
