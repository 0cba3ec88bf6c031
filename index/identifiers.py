"""Normalisers for identifiers as users and records write them (pure functions).

Every function returns the canonical index form or ``None`` when the input is not a
plausible identifier, so callers can decide to fall back to word search.

This module is also the one home of the check-digit arithmetic and of the DOI resolver
prefixes: the harvesters (which pull identifiers out of messy metadata) and the resolver
(which keeps, but flags, a mistyped ISSN from an OpenURL) apply their own input policies
on top, but must reach the same canonical forms as the index, or a stored DOI and a
queried one would not meet.
"""

from __future__ import annotations

import re
import unicodedata

#: every way a DOI is written in front of "10.": doi:, info:doi/, urn:doi:, resolver URLs
DOI_PREFIX = re.compile(
    r"^\s*(?:doi\s*:?\s*|info:doi/|urn:doi:|(?:https?://)?(?:dx\.|www\.)?doi\.org/)",
    re.IGNORECASE,
)
_DOI = re.compile(r"^10\.\d{1,9}(?:\.\d+)*/\S+$")


def normalise_doi(value: str) -> str | None:
    """'doi:10.1/X', 'https://doi.org/10.1/X', '10.1/x' → '10.1/x' (DOIs are case-insensitive)."""
    v = unicodedata.normalize("NFKC", value).strip()
    v = DOI_PREFIX.sub("", v).strip()
    v = v.rstrip(".,;")
    return v.lower() if _DOI.match(v) else None


def isbn10_check(d9: str) -> str:
    """The ISBN-10 check character ('0'-'9' or 'X') of the first nine digits."""
    total = sum((10 - i) * int(c) for i, c in enumerate(d9[:9]))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check(d12: str) -> str:
    """The ISBN-13 (EAN-13) check digit of the first twelve digits."""
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(d12[:12]))
    return str((10 - total % 10) % 10)


def issn_check(d7: str) -> str:
    """The ISSN check character ('0'-'9' or 'X') of the first seven digits."""
    total = sum((8 - i) * int(c) for i, c in enumerate(d7[:7]))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def normalise_isbn(value: str) -> str | None:
    """Any written ISBN (10 or 13, hyphens, spaces, 'ISBN' prefix) → 13 digits, no hyphens."""
    v = re.sub(r"(?i)^\s*isbn(?:-1[03])?:?\s*", "", unicodedata.normalize("NFKC", value))
    v = re.sub(r"[\s\-‐–]", "", v).upper()
    if re.fullmatch(r"\d{9}[\dX]", v):
        if isbn10_check(v[:9]) != v[9]:
            return None
        d12 = "978" + v[:9]
        return d12 + isbn13_check(d12)
    if re.fullmatch(r"97[89]\d{10}", v):
        return v if isbn13_check(v[:12]) == v[12] else None
    return None


def normalise_issn(value: str) -> str | None:
    """'ISSN 1234-567x', '1234567X' → '1234-567X' (checksum verified)."""
    v = re.sub(r"(?i)^\s*e?-?issn:?\s*", "", unicodedata.normalize("NFKC", value))
    v = re.sub(r"[\s\-‐–]", "", v).upper()
    if not re.fullmatch(r"\d{7}[\dX]", v):
        return None
    if issn_check(v) != v[7]:
        return None
    return f"{v[:4]}-{v[4:]}"


def normalise_handle(value: str) -> str | None:
    """'hdl:123/45', 'https://hdl.handle.net/123/45' → '123/45'."""
    v = value.strip()
    v = re.sub(r"(?i)^(?:hdl:|(?:https?://)?hdl\.handle\.net/)", "", v)
    return v if re.fullmatch(r"[^\s/]+/\S+", v) else None
