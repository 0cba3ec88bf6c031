"""Text cleaning every crosswalk applies to every value (pure).

Nothing strips diacritics: Vietnamese text is only ever NFC-composed and
whitespace-collapsed, so "Huế" and "Hue" stay two spellings for the index's analysers to
fold, not for the harvester to lose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# XML 1.0 forbids these; some repositories still emit them (U+0003 in a Dataverse title, ...).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WS = re.compile(r"\s+")


def clean_text(value: str | None) -> str:
    """NFC-compose, drop control characters and collapse whitespace.

    >>> clean_text("  Lua\u0323\u0302n  va\u0306n\\n tha\u0323c si\u0303 ")
    'Luận văn thạc sĩ'
    >>> clean_text(None)
    ''
    """
    if not value:
        return ""
    text = _ILLEGAL.sub(" ", value)
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def dedupe(values: Iterable[str | None]) -> list[str]:
    """Clean every value, drop empty ones and case-insensitive duplicates, keep first order.

    >>> dedupe(["Huế", " huế ", "", None, "Hà Nội"])
    ['Huế', 'Hà Nội']
    """
    seen: set[str] = set()
    out: list[str] = []
    for raw in values:
        text = clean_text(raw)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


_TRAILING_PUNCT = re.compile(r"[\s/:;,=.]+$")


def trim_punctuation(value: str | None) -> str:
    """Clean a value and drop the ISBD punctuation MARC cataloguers leave at the end.

    A final full stop is kept after an initial or a common abbreviation.

    >>> trim_punctuation("Giáo trình tin học cơ sở /")
    'Giáo trình tin học cơ sở'
    >>> trim_punctuation("Nguyễn, Văn A.")
    'Nguyễn, Văn A.'
    >>> trim_punctuation("Loen, Johann Michael von.")
    'Loen, Johann Michael von'
    """
    text = clean_text(value)
    if text.endswith(".") and _is_abbreviation_end(text):
        return text
    return _TRAILING_PUNCT.sub("", text)


def _is_abbreviation_end(text: str) -> bool:
    words = text.split()
    last = words[-1] if words else ""
    core = last.rstrip(".").lstrip("(")
    return (len(core) == 1 and core.isalpha() and core.isupper()) or core in {
        "Jr", "Sr", "St", "Dr", "etc", "ed", "eds", "Co", "Inc", "Ltd", "Tp", "TP", "tr",
    }


def split_values(value: str | None, sep: str = ";") -> list[str]:
    """Split a delimited value (OJS puts all keywords in one dc:subject) into clean parts.

    >>> split_values("thư viện số; OAI-PMH ;  ; Huế")
    ['thư viện số', 'OAI-PMH', 'Huế']
    """
    return [part for part in (clean_text(p) for p in (value or "").split(sep)) if part]
