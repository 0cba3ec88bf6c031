"""Standard numbers in an OpenURL: the resolver's input policy over ``index.identifiers``.

The rules — prefixes, percent-decoding, trailing punctuation, check digits, canonical
forms — are :mod:`index.identifiers`' alone, so a DOI or ISSN from an OpenURL is the string
the index and the knowledge base hold. What the resolver adds:

* a wrong check digit is kept and flagged (:class:`StandardNumber` ``valid=False``), not
  dropped: the knowledge base may hold the same typo, and a user should not lose a match
  because a publisher mistyped a digit;
* an ISSN may sit among other text (``1860-1839(ELECTRONIC)``), so the first ISSN-shaped
  number is taken;
* junk in front of a DOI (``Org/10.1002/…``) is common, so when the whole value is not a DOI
  the first DOI inside it is taken.
"""

from __future__ import annotations

from index.identifiers import StandardNumber, find_doi, find_issns, normalise_doi, parse_isbn

__all__ = ["StandardNumber", "normalize_doi", "normalize_isbn", "normalize_issn"]


def normalize_issn(raw: str | None) -> StandardNumber | None:
    """The first ISSN in *raw* as ``NNNN-NNNC`` with its validity; None when there is none."""
    return next(find_issns(raw), None)


def normalize_isbn(raw: str | None) -> StandardNumber | None:
    """The ISBN-13 of an ISBN-10 or ISBN-13 with its validity; None when not ISBN-shaped.

    An ISBN-10 with a bad check digit is converted anyway (its body is usually right)
    and flagged invalid; an ISBN-13 with a bad check digit is kept as given.
    """
    return parse_isbn(raw)


def normalize_doi(raw: str | None) -> str | None:
    """The bare lower-case DOI in *raw* (prefixes stripped), or None."""
    return normalise_doi(raw) or find_doi(raw)
