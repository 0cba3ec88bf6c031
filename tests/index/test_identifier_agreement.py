"""Every reader of identifiers reaches the same canonical form, on nasty inputs.

A DOI stored by a crosswalk, typed into the search box, carried by an OpenURL and an ISSN
listed in a KBART file or a COUNTER report must be one string, or lookups, dedup and usage
matching silently miss. ``index.identifiers`` holds the rules; each reader below is fed
through its real entry point (the OpenURL as a KEV query string, KBART as a file, COUNTER
as a JSON report), so a reader that grows its own rule again fails here.

"Refused" is each reader's own policy for a wrong check digit or a non-identifier — the
index and the harvester return None, the resolver keeps the number flagged invalid, KBART
rejects the row, COUNTER drops the number — and every reader must refuse the same inputs.
"""

from __future__ import annotations

import doctest
import json
import random
from collections.abc import Callable
from urllib.parse import quote

import pytest

from harvesters import normalize as harvested
from index import identifiers as queried
from resolver.kb.kbart import parse_kbart
from resolver.openurl import (
    Citation,
    StandardNumber,
    normalize_isbn,
    normalize_issn,
    parse_openurl,
)
from resolver.usage.counter import parse_counter_json

SHY, ZWSP, NBH = "\u00ad", "\u200b", "\u2011"  # soft hyphen, zero-width space, no-break hyphen

Reader = Callable[[str], str | None]


# --- the readers, each through its real entry point ------------------------------------------


def _kev(pairs: list[tuple[str, str]], *, encode: bool) -> Citation:
    """Send the pairs as a KEV query, percent-encoded as a client should, or as typed."""
    text = "&".join(f"{k}={quote(v, safe='') if encode else v}" for k, v in pairs)
    return parse_openurl("url_ver=Z39.88-2004&rft.atitle=T&rft.btitle=B&" + text)


def _openurl_doi(encode: bool) -> Reader:
    def read(value: str) -> str | None:
        key = "rft_id" if queried.DOI_PREFIX.match(value) else "rft.doi"
        return _kev([(key, value)], encode=encode).doi

    return read


def _openurl_isbn(value: str) -> str | None:
    key = "rft_id" if value.lower().startswith("urn:isbn:") else "rft.isbn"
    c = _kev([("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), (key, value)], encode=True)
    return c.isbn if c.isbn_valid else None


def _openurl_issn(value: str) -> str | None:
    key = "rft_id" if value.lower().startswith("urn:issn:") else "rft.issn"
    c = _kev([(key, value)], encode=True)
    if c.issn:
        return c.issn if c.issn_valid else None
    return c.eissn if c.eissn_valid else None  # "e-ISSN …" lands in eissn


_KBART_HEAD = ("publication_title\tprint_identifier\tonline_identifier\ttitle_url\t"
               "publication_type\n")


def _kbart(kind: str) -> Reader:
    def read(value: str) -> str | None:
        row = f"A title\t{value}\t\thttps://example.org/t\t{kind}\n"
        parsed = parse_kbart((_KBART_HEAD + row).encode())
        return parsed.titles[0].print_identifier if parsed.titles else None

    return read


def _counter(id_type: str) -> Reader:
    def read(value: str) -> str | None:
        report = {
            "Report_Header": {
                "Release": "5", "Report_ID": "TR", "Report_Name": "Title Master Report",
                "Created": "2024-02-03T00:00:00Z", "Created_By": "Test", "Customer_ID": "c1",
                "Institution_Name": "Đại học Huế",
                "Report_Filters": [{"Name": "Begin_Date", "Value": "2024-01-01"},
                                   {"Name": "End_Date", "Value": "2024-01-31"}],
            },
            "Report_Items": [{
                "Title": "A title", "Platform": "P", "Publisher": "Pub",
                "Item_ID": [{"Type": id_type, "Value": value}],
                "Performance": [{
                    "Period": {"Begin_Date": "2024-01-01", "End_Date": "2024-01-31"},
                    "Instance": [{"Metric_Type": "Total_Item_Requests", "Count": 3}],
                }],
            }],
        }
        row = parse_counter_json(json.dumps(report)).rows[0]
        return {"ISBN": row.isbn, "DOI": row.doi}.get(id_type, row.issn)

    return read


DOI_READERS: dict[str, Reader] = {
    "index": queried.normalise_doi,
    "harvester": harvested.normalise_doi,
    "openurl, encoded": _openurl_doi(encode=True),
    "openurl, as typed": _openurl_doi(encode=False),
    "counter": _counter("DOI"),
}
ISBN_READERS: dict[str, Reader] = {
    "index": queried.normalise_isbn,
    "harvester": harvested.normalise_isbn,
    "openurl": _openurl_isbn,
    "kbart": _kbart("monograph"),
    "counter": _counter("ISBN"),
}
ISSN_READERS: dict[str, Reader] = {
    "index": queried.normalise_issn,
    "harvester": harvested.normalise_issn,
    "openurl": _openurl_issn,
    "kbart": _kbart("serial"),
    "counter": _counter("Print_ISSN"),
}
HANDLE_READERS: dict[str, Reader] = {
    "index": queried.normalise_handle,
    "harvester": harvested.normalise_handle,
}


def _answers(readers: dict[str, Reader], written: str) -> dict[str, str | None]:
    return {name: read(written) for name, read in readers.items()}


# --- the nasty inputs --------------------------------------------------------------------------

SICI = "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O"

DOIS = [
    # the three disagreements measured in issue 13
    ("doi:10.1234/ABC%2Fdef", "10.1234/abc/def"),
    ("10.1234/abc)", "10.1234/abc"),
    ("10.1234.5/abc", "10.1234.5/abc"),
    # prefixes, alone and doubled
    ("DOI: 10.1234/ABC%2fdef.", "10.1234/abc/def"),
    ("https://dx.doi.org/10.1234/ABC%2Fdef", "10.1234/abc/def"),
    ("http://doi.org/doi:10.1234/ABC/def", "10.1234/abc/def"),
    ("info:doi/https://doi.org/10.1234/abc/def", "10.1234/abc/def"),
    ("doi:info:doi/10.1234/abc/def", "10.1234/abc/def"),
    ("urn:doi:10.1234/ABC/DEF;", "10.1234/abc/def"),
    ("https://www.doi.org/10.26459/HUEUNI-JNS.V131I1D.6543", "10.26459/hueuni-jns.v131i1d.6543"),
    ("doi.org/10.1000.10/ABC", "10.1000.10/abc"),
    # whitespace, soft hyphens, zero-width characters
    (f"  doi: 10.1234/AB{SHY}C/d{ZWSP}ef \t", "10.1234/abc/def"),
    # trailing punctuation and brackets: unbalanced ones go, balanced ones stay
    ("(doi:10.1234/abc).", "10.1234/abc"),
    ("10.1234/abc(1)", "10.1234/abc(1)"),
    ("https://doi.org/10.1234/abc[2]];", "10.1234/abc[2]"),
    (SICI, SICI.lower()),
    (f"https://dx.doi.org/{SICI}.", SICI.lower()),
    # not DOIs: a registrant code is 4-9 digits, an IP range is no DOI
    ("10.1/abc", None),
    ("doi:10.12/abc", None),
    ("10.0.0.0/8", None),
    ("doi:not-a-doi", None),
]

ISBNS = [
    ("0-306-40615-2", "9780306406157"),
    ("ISBN 0-306-40615-2 (pbk.)", "9780306406157"),
    ("urn:isbn:0306406152", "9780306406157"),
    ("ISBN-13: 978-0-306-40615-7", "9780306406157"),
    ("ISBN-10: 0-8044-2957-X", "9780804429573"),
    ("0-8044-2957-x", "9780804429573"),  # ISBN-10 with a lower-case x
    (f" 978{SHY}0{SHY}306{SHY}40615{SHY}7 ", "9780306406157"),
    (f"978{NBH}0{NBH}306{ZWSP}40615{NBH}7", "9780306406157"),
    ("978 0 306 40615 7", "9780306406157"),
    ("978-0-306-40615-7.", "9780306406157"),
    # wrong check digits and non-ISBNs: refused by every reader
    ("0-306-40615-3", None),
    ("978-0-306-40615-8", None),
    ("ISBN 0-8044-2957-1", None),
    ("9999999999AA", None),
]

ISSNS = [
    ("0866-708x", "0866-708X"),  # lower-case x
    ("ISSN 0866-708x", "0866-708X"),
    ("urn:issn:0866708X", "0866-708X"),
    ("eISSN: 0866 708X", "0866-708X"),
    ("e-ISSN 0866-708X (Online)", "0866-708X"),
    (f" 0866{SHY}-708{ZWSP}X ", "0866-708X"),
    ("0866\u2013708X", "0866-708X"),  # an en dash
    ("ISSN-L 1859-4816", "1859-4816"),
    ("1859-4816.", "1859-4816"),
    # wrong check digits: refused by every reader
    ("1859-4817", None),
    ("ISSN 0866-7081", None),
    ("urn:issn:1234-5678", None),
]

HANDLES = [
    ("hdl:1765/315", "1765/315"),
    (" hdl: 1765/315 ", "1765/315"),
    ("info:hdl/1765/315/", "1765/315"),
    ("https://hdl.handle.net/1765/315?locatt=view:master", "1765/315"),
    ("http://hdl.handle.net/api/handles/1765/315", "1765/315"),
    ("https://hdl.handle.net/1765%2F315", "1765/315"),
    (f"hdl:1765/{SHY}315", "1765/315"),
]


@pytest.mark.parametrize(("written", "expected"), DOIS)
def test_doi_forms_agree(written: str, expected: str | None) -> None:
    assert _answers(DOI_READERS, written) == dict.fromkeys(DOI_READERS, expected)


@pytest.mark.parametrize(("written", "expected"), ISBNS)
def test_isbn_forms_agree(written: str, expected: str | None) -> None:
    assert _answers(ISBN_READERS, written) == dict.fromkeys(ISBN_READERS, expected)


@pytest.mark.parametrize(("written", "expected"), ISSNS)
def test_issn_forms_agree(written: str, expected: str | None) -> None:
    assert _answers(ISSN_READERS, written) == dict.fromkeys(ISSN_READERS, expected)


@pytest.mark.parametrize(("written", "expected"), HANDLES)
def test_handle_forms_agree(written: str, expected: str | None) -> None:
    assert _answers(HANDLE_READERS, written) == dict.fromkeys(HANDLE_READERS, expected)


def test_bad_check_digits_are_kept_flagged_by_the_resolver() -> None:
    """The resolver's policy: the KB may hold the same typo, so the number is kept, flagged."""
    assert normalize_isbn("0-306-40615-3") == StandardNumber("9780306406157", False)
    assert normalize_isbn("ISBN 978-0-306-40615-8") == StandardNumber("9780306406158", False)
    assert normalize_issn("issn 1859-4817") == StandardNumber("1859-4817", False)
    c = parse_openurl("rft.jtitle=J&rft.issn=1859%E2%80%934817&rft.isbn=0-306-40615-3")
    assert (c.issn, c.issn_valid, c.isbn, c.isbn_valid) == (
        "1859-4817", False, "9780306406157", False)


def test_kbart_rejects_a_wrong_check_digit_with_its_reason() -> None:
    parsed = parse_kbart((_KBART_HEAD + "T\tISSN 1859-4817\t\thttps://e.org/t\tserial\n"
                          + "B\tISBN 0-306-40615-3\t\thttps://e.org/b\tmonograph\n").encode())
    assert [r.reason_en for r in parsed.rejected] == [
        "print_identifier: ISSN 'ISSN 1859-4817' has a wrong check digit",
        "print_identifier: ISBN 'ISBN 0-306-40615-3' has a wrong check digit",
    ]


def test_fast_canonical_checks_agree_with_the_parsers() -> None:
    """KBART's fast path answers exactly when the general parser would return the value."""
    rng = random.Random(13)
    issns = [f"{d[:4]}-{d[4:]}{rng.choice('0123456789Xx')}"
             for d in (f"{rng.randrange(10**7):07d}" for _ in range(3000))]
    issns += [f"{d[:4]}-{d[4:]}{queried.issn_check(d)}"
              for d in (f"{rng.randrange(10**7):07d}" for _ in range(3000))]
    isbns = [f"97{rng.choice('789')}{rng.randrange(10**10):010d}" for _ in range(3000)]
    isbns += [d + queried.isbn13_check(d)
              for d in (f"97{rng.choice('89')}{rng.randrange(10**9):09d}" for _ in range(3000))]
    for s in issns:
        assert queried.is_canonical_issn(s) == (queried.normalise_issn(s) == s), s
    for s in isbns:
        assert queried.is_canonical_isbn(s) == (queried.normalise_isbn(s) == s), s
    assert queried.is_canonical_issn("0866-708X") and not queried.is_canonical_issn("0866-708x")


def test_the_rules_examples() -> None:
    result = doctest.testmod(queried)
    assert result.attempted >= 10 and result.failed == 0
