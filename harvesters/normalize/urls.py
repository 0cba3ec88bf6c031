"""Links: which values are usable URLs, and which point at the full text itself."""

from __future__ import annotations

import re

from harvesters.normalize.text import clean_text

_URL = re.compile(r"^(?:https?|ftp)://\S+$", re.IGNORECASE)


def normalise_url(value: str | None) -> str | None:
    """Return the value when it is an absolute http(s)/ftp URL without spaces, else None.

    >>> normalise_url(" https://tapchi.hueuni.edu.vn/index.php/jed/article/view/6123 ")
    'https://tapchi.hueuni.edu.vn/index.php/jed/article/view/6123'
    >>> normalise_url("www.example.org") is None
    True
    """
    text = clean_text(value)
    return text if _URL.match(text) else None


_FULLTEXT = re.compile(
    r"(?:\.pdf(?:$|[?#])|/bitstream/|/bitstreams/[^/]+/(?:content|download)"
    r"|/article/download/|/article/view/\d+/\d+|/download/\d+/\d+)",
    re.IGNORECASE,
)


def is_fulltext_url(url: str | None) -> bool:
    """True for links that point at a file rather than a landing page.

    >>> is_fulltext_url("https://elib.hueuni.edu.vn/bitstream/123456789/42/1/LV.pdf")
    True
    >>> is_fulltext_url("https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/5012/3021")
    True
    >>> is_fulltext_url("https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/5012")
    False
    """
    return bool(url) and bool(_FULLTEXT.search(url or ""))
