"""Identifiers (DOI, ISBN, ISSN, Handle): the one home of their rules (pure functions).

Every reader of identifiers reaches its canonical forms here — the index (stored records,
typed queries, dedup keys), the harvesters (identifiers in messy metadata), the OpenURL
parser, the KBART and COUNTER readers — so that a DOI stored by a crosswalk, typed into the
search box, carried by an OpenURL and listed in a usage report is one string, and lookups
and dedup meet. Callers keep their own *input policy* on top (the harvester looks for an
identifier inside a longer value, the resolver keeps a mistyped ISSN but flags it, KBART
rejects the row, COUNTER drops the number but keeps the figures), never their own rules;
``tests/index/test_identifier_agreement.py`` feeds all of them the same nasty inputs.

Three kinds of function:

* ``normalise_*`` judges a whole value: the canonical form, or None when the value is not
  a valid identifier (so the search box can fall back to word search);
* ``parse_isbn`` / ``parse_issn`` say what a value would be and whether its check digit is
  right, for callers that keep a mistyped number (flagged) rather than lose a match;
* ``find_*`` look for identifiers inside longer text ("ISBN 0-306-40615-2 (pbk.)",
  "Available at https://doi.org/10.1234/x.").

The rules, and why
------------------

Every value is first *tidied*: NFKC (full-width digits and compatibility hyphens become
plain ones), invisible characters dropped — the soft hyphen U+00AD, zero-width space and
joiners, word joiner, BOM, which web pages and PDFs put into long numbers as line-break
hints and which whoever copies the number cannot see — and surrounding whitespace stripped.

DOI (DOI Handbook §2.2, Crossref's recommended pattern):

* the ways a DOI is written in front of ``10.`` are stripped, repeatedly
  (``doi:https://doi.org/10…`` happens): ``doi:`` / ``DOI:`` / ``doi `` , ``info:doi/``,
  ``urn:doi:``, ``http(s)://(dx.|www.)doi.org/``; an opening bracket or quote in front goes
  too (a DOI never starts with one);
* percent-decoded exactly once, everywhere: a DOI in a URL or an OpenURL is
  percent-encoded (``10.1234%2Fabc``), DOIs holding a literal ``%xx`` are vanishingly rare,
  and decoding in some readers but not in others made ``%2F`` and ``/`` two DOIs. Once,
  not until nothing changes: a ``%252F`` is then a ``%2F``, the same in every reader;
* lower-cased: DOIs are case-insensitive (for ASCII) by definition;
* at the end, ``. , ; :`` are dropped (the sentence around a cited DOI), and a closing
  ``)`` ``]`` ``}`` ``>`` or quote only when it is unbalanced: in
  ``10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O`` the brackets belong
  to the DOI, in ``(see 10.1234/abc)`` the last one does not;
* shape: ``10.``, a registrant code of 4–9 digits with optional ``.digits`` subdivisions
  (``10.1000.10`` is valid per the Handbook), ``/``, a suffix without whitespace. No
  registrant code is shorter than four digits, which keeps IP ranges (``10.0.0.0/8``) and
  version numbers from passing for DOIs.

ISBN (ISO 2108): labels ``ISBN``, ``ISBN-10``, ``ISBN-13`` (with or without ``:``) and
``urn:isbn:`` stripped; spaces, hyphens and dashes dropped; ``x`` read as ``X``; a trailing
qualifier such as ``(pbk.)`` ignored; the check digit verified. The canonical form is the
13 digits of the ISBN-13 — an ISBN-10 gets ``978`` and a recomputed check digit — so both
spellings of one book meet.

ISSN (ISO 3297): labels ``ISSN``, ``eISSN``, ``e-ISSN``, ``p-ISSN``, ``ISSN-L`` and
``urn:issn:`` stripped; spaces, hyphens and dashes; ``x`` read as ``X``; a trailing
qualifier such as ``(Print)`` ignored; the check digit verified. Canonical form
``1234-567X``, as printed on the journal.

Handle (RFC 3650): ``hdl:``, ``info:hdl/`` and ``http(s)://hdl.handle.net/`` (also its
``api/handles/``) stripped, the same tidying, a URL's query and fragment dropped,
percent-decoded once like a DOI, a trailing ``/`` dropped; the case is kept (handles are
case-sensitive unless their naming authority says otherwise); shape ``prefix/suffix``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = [
    "DOI_PREFIX",
    "HANDLE_PREFIX",
    "INVISIBLE",
    "StandardNumber",
    "find_doi",
    "find_isbns",
    "find_issns",
    "is_canonical_isbn",
    "is_canonical_issn",
    "isbn10_check",
    "isbn13_check",
    "issn_check",
    "normalise_doi",
    "normalise_handle",
    "normalise_isbn",
    "normalise_issn",
    "parse_isbn",
    "parse_issn",
    "tidy",
]

#: soft hyphen, zero-width space / non-joiner / joiner, word joiner, BOM
INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
#: the hyphens and dashes typed between the groups of an ISBN or ISSN (after NFKC)
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True, slots=True)
class StandardNumber:
    """An ISBN or ISSN in its canonical form and whether its check digit is right."""

    value: str
    valid: bool


def tidy(value: str | None) -> str:
    """NFKC, invisible characters dropped, surrounding whitespace stripped.

    >>> tidy(" 978\u00ad-604\u200b-913-088-5 ")
    '978-604-913-088-5'
    """
    if not value:
        return ""
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", value)).strip()


def _decode_once(s: str) -> str:
    """Percent-decode one time; text whose escapes are not UTF-8 is left as it is."""
    if "%" not in s or not _PERCENT.search(s):
        return s
    try:
        return tidy(unquote(s, errors="strict"))
    except UnicodeDecodeError:
        return s


# --- check digits --------------------------------------------------------------------------


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


@functools.cache
def _weight_tables() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Weighted digit sums of every 4-digit ISSN head, 3-digit ISSN tail and 4-digit
    EAN group, built on first use: looking them up is five times faster than the
    arithmetic, which counts for a KBART file of 600k rows that are nearly all canonical."""
    def table(width: int, weights: tuple[int, ...]) -> dict[str, int]:
        return {
            f"{n:0{width}d}": sum(w * int(c) for w, c in zip(weights, f"{n:0{width}d}",
                                                               strict=True))
            for n in range(10**width)
        }

    return table(4, (8, 7, 6, 5)), table(3, (4, 3, 2)), table(4, (1, 3, 1, 3))


def is_canonical_issn(s: str) -> bool:
    """Whether *s* is already a canonical ISSN with a right check digit (a fast path:
    exactly when ``normalise_issn(s) == s``)."""
    if len(s) != 9 or s[4] != "-":
        return False
    heads, tails, _ = _weight_tables()
    head, tail = heads.get(s[:4]), tails.get(s[5:8])
    return head is not None and tail is not None and s[8] == "0123456789X"[
        (11 - (head + tail) % 11) % 11]


def is_canonical_isbn(s: str) -> bool:
    """Whether *s* is already a canonical ISBN-13 with a right check digit (a fast path:
    exactly when ``normalise_isbn(s) == s``)."""
    if len(s) != 13 or s[:3] not in ("978", "979"):
        return False
    _, _, quads = _weight_tables()
    q1, q2, q3 = quads.get(s[:4]), quads.get(s[4:8]), quads.get(s[8:12])
    return (q1 is not None and q2 is not None and q3 is not None
            and s[12] == str((10 - (q1 + q2 + q3) % 10) % 10))


# --- DOI -----------------------------------------------------------------------------------

#: every way a DOI is written in front of "10.": resolver URLs, info:doi/, urn:doi:, doi:
DOI_PREFIX = re.compile(
    r"^\s*(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|info:doi/|urn:doi:|doi\s*:\s*|doi\s+)",
    re.IGNORECASE,
)
_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")
_DOI_IN_TEXT = re.compile(r"(?<![\w.])10\.\d{4,9}(?:\.\d+)*/\S+")
_OPENERS = "([{<\"'"
_CLOSER_OF = {")": "(", "]": "[", "}": "{", ">": "<"}


def _trim_end(s: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets or quotes at the end."""
    while s and (
        s[-1] in ".,;:"
        or (s[-1] in _CLOSER_OF and s.count(s[-1]) > s.count(_CLOSER_OF[s[-1]]))
        or (s[-1] in "\"'" and s.count(s[-1]) % 2 == 1)
    ):
        s = s[:-1]
    return s


def _canonical_doi(s: str) -> str | None:
    s = _trim_end(s.strip()).lower()
    return s if _DOI.fullmatch(s) else None


def normalise_doi(value: str | None) -> str | None:
    """A whole value written as a DOI → the bare lower-case DOI, else None.

    >>> normalise_doi("https://doi.org/10.1234/ABC%2Fdef.")
    '10.1234/abc/def'
    >>> normalise_doi("doi:10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O")
    '10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o'
    >>> normalise_doi("(doi:10.1000.10/abc)")
    '10.1000.10/abc'
    >>> normalise_doi("10.0.0.0/8") is None
    True
    """
    s = _decode_once(tidy(value)).lstrip(_OPENERS)
    for _ in range(4):
        stripped = DOI_PREFIX.sub("", s, count=1).lstrip(_OPENERS)
        if stripped == s:
            break
        s = stripped
    return _canonical_doi(s)


def find_doi(text: str | None) -> str | None:
    """The first DOI written anywhere in *text*, canonical, or None.

    >>> find_doi("Available at https://dx.doi.org/10.26459%2FHUEUNI.6123 (accessed 2020).")
    '10.26459/hueuni.6123'
    """
    s = _decode_once(tidy(text))
    for match in _DOI_IN_TEXT.finditer(s):
        if doi := _canonical_doi(match.group(0)):
            return doi
    return None


# --- ISBN ----------------------------------------------------------------------------------

# "ISBN-13:", "ISBN 10", "urn:isbn:" — but in "ISBN 1034567890" the 10 is the number's
_ISBN_LABEL = re.compile(
    r"(?:urn:isbn:|isbn(?:[-\s]?1[03](?![\d\-]))?\s*:?)\s*", re.IGNORECASE
)
_ISBN_NUMBER = re.compile(rf"[\d\s{_DASHES}]*[\dXx]")
_ISBN_IN_TEXT = re.compile(rf"(?<!\w)(?:\d[\s{_DASHES}]?){{9,12}}[\dXx](?!\w)")
_QUALIFIER_OK = re.compile(r"(?!\w)")  # what may follow a number: nothing, a space, "(pbk.)"


def _isbn_from_digits(digits: str) -> StandardNumber | None:
    d = digits.upper()
    if len(d) == 10 and d[:9].isdigit() and (d[9].isdigit() or d[9] == "X"):
        core = "978" + d[:9]
        return StandardNumber(core + isbn13_check(core), isbn10_check(d) == d[9])
    if len(d) == 13 and d.isdigit():
        return StandardNumber(d, d[:3] in ("978", "979") and isbn13_check(d) == d[12])
    return None


def parse_isbn(value: str | None) -> StandardNumber | None:
    """A whole value written as an ISBN → its ISBN-13 and whether the check digit is right;
    None when it is not ISBN-shaped.

    An ISBN-10 with a wrong check digit still gets its ISBN-13 (its body is usually
    right); an ISBN-13 with a wrong one is kept as written.

    >>> parse_isbn("ISBN-10: 0-8044-2957-x (pbk.)")
    StandardNumber(value='9780804429573', valid=True)
    >>> parse_isbn("978-0-306-40615-8")
    StandardNumber(value='9780306406158', valid=False)
    """
    s = tidy(value)
    if is_canonical_isbn(s):
        return StandardNumber(s, True)
    if label := _ISBN_LABEL.match(s):
        s = s[label.end():]
    m = _ISBN_NUMBER.match(s)
    if not m or not _QUALIFIER_OK.match(s, m.end()):
        return None
    return _isbn_from_digits(re.sub(r"[^\dXx]", "", m.group(0)))


def normalise_isbn(value: str | None) -> str | None:
    """Any written ISBN (10 or 13, hyphens, spaces, label) → 13 digits; None when invalid."""
    n = parse_isbn(value)
    return n.value if n is not None and n.valid else None


def find_isbns(text: str | None) -> Iterator[StandardNumber]:
    """Every ISBN-shaped number in *text*, in order, each with its validity."""
    s = _ISBN_LABEL.sub(" ", tidy(text))
    for match in _ISBN_IN_TEXT.finditer(s):
        if n := _isbn_from_digits(re.sub(r"[^\dXx]", "", match.group(0))):
            yield n


# --- ISSN ----------------------------------------------------------------------------------

_ISSN_LABEL = re.compile(
    r"(?:urn:issn:|(?:e|p|print|online)?[-\s]?issn(?:[-\s]?l)?\s*:?)\s*", re.IGNORECASE
)
_ISSN_NUMBER = re.compile(rf"(\d{{4}})\s*[{_DASHES}]?\s*(\d{{3}}[\dXx])")
_ISSN_IN_TEXT = re.compile(
    rf"(?:(?<=issn)|(?<![\w{_DASHES}]))(\d{{4}})\s*[{_DASHES}]?\s*(\d{{3}}[\dXx])"
    rf"(?![\w{_DASHES}])",
    re.IGNORECASE,
)


def _issn_from_digits(digits: str) -> StandardNumber:
    d = digits.upper()
    return StandardNumber(f"{d[:4]}-{d[4:]}", issn_check(d) == d[7])


def parse_issn(value: str | None) -> StandardNumber | None:
    """A whole value written as an ISSN → ``1234-567X`` and whether the check digit is
    right; None when it is not ISSN-shaped.

    >>> parse_issn("urn:issn:0866-708x")
    StandardNumber(value='0866-708X', valid=True)
    >>> parse_issn("e-ISSN 1859 4817 (online)")
    StandardNumber(value='1859-4817', valid=False)
    """
    s = tidy(value)
    if is_canonical_issn(s):
        return StandardNumber(s, True)
    if label := _ISSN_LABEL.match(s):
        s = s[label.end():]
    m = _ISSN_NUMBER.match(s)
    if not m or not _QUALIFIER_OK.match(s, m.end()):
        return None
    return _issn_from_digits(m.group(1) + m.group(2))


def normalise_issn(value: str | None) -> str | None:
    """'ISSN 1234-567x', '1234567X' → '1234-567X'; None when invalid."""
    n = parse_issn(value)
    return n.value if n is not None and n.valid else None


def find_issns(text: str | None) -> Iterator[StandardNumber]:
    """Every ISSN-shaped number in *text* ("1860-1839(ELECTRONIC),15937879(PRINT)"), in
    order, each with its validity."""
    for match in _ISSN_IN_TEXT.finditer(tidy(text)):
        yield _issn_from_digits(match.group(1) + match.group(2))


# --- Handle --------------------------------------------------------------------------------

#: every way a Handle is written in front of "prefix/suffix"
HANDLE_PREFIX = re.compile(
    r"^(?:hdl:\s*|info:hdl/|(?:https?://)?hdl\.handle\.net/(?:api/handles/)?)", re.IGNORECASE
)
_HANDLE = re.compile(r"[^\s/]+/\S+")


def normalise_handle(value: str | None) -> str | None:
    """'hdl:123/45', 'https://hdl.handle.net/123/45?locatt=x', '123/45' → '123/45'."""
    s = HANDLE_PREFIX.sub("", tidy(value), count=1)
    s = _decode_once(re.split(r"[?#]", s, maxsplit=1)[0]).rstrip("/")
    return s if _HANDLE.fullmatch(s) else None
