"""Harvesters, index and resolver reach the same canonical identifiers.

A DOI stored by a crosswalk, typed into the search box and carried by an OpenURL must be
the same string, or lookups and dedup silently miss.
"""

import pytest

from harvesters import normalize as harvested
from index import identifiers as queried
from resolver.openurl import parse as cited

DOIS = [
    "10.26459/HUEUNI-JNS.V131I1D.6543",
    "doi:10.26459/hueuni-jns.v131i1d.6543",
    "DOI: 10.26459/hueuni-jns.v131i1d.6543",
    "info:doi/10.26459/hueuni-jns.v131i1d.6543",
    "urn:doi:10.26459/hueuni-jns.v131i1d.6543",
    "https://doi.org/10.26459/hueuni-jns.v131i1d.6543",
    "http://dx.doi.org/10.26459/hueuni-jns.v131i1d.6543",
    "https://www.doi.org/10.26459/hueuni-jns.v131i1d.6543",
]


@pytest.mark.parametrize("written", DOIS)
def test_doi_forms_agree(written):
    expected = "10.26459/hueuni-jns.v131i1d.6543"
    assert harvested.normalise_doi(written) == expected
    assert queried.normalise_doi(written) == expected
    assert cited.normalize_doi(written) == expected


@pytest.mark.parametrize(("written", "expected"), [
    ("0-306-40615-2", "9780306406157"),
    ("978-604-913-088-5", "9786049130885"),
    ("ISBN 9786049130885", "9786049130885"),
])
def test_isbn_forms_agree(written, expected):
    assert harvested.normalise_isbn(written) == expected
    assert queried.normalise_isbn(written) == expected
    number = cited.normalize_isbn(written)
    assert number is not None and (number.value, number.valid) == (expected, True)


@pytest.mark.parametrize("written", ["1859-4816", "ISSN 18594816", "1859 4816"])
def test_issn_forms_agree(written):
    assert harvested.normalise_issn(written) == "1859-4816"
    assert queried.normalise_issn(written) == "1859-4816"
    assert cited.normalize_issn(written) == cited.StandardNumber("1859-4816", True)


def test_bad_check_digits_are_judged_alike():
    assert harvested.normalise_isbn("0-306-40615-3") is None
    assert queried.normalise_isbn("0-306-40615-3") is None
    assert cited.normalize_isbn("0-306-40615-3").valid is False
    assert harvested.normalise_issn("1859-4817") is None
    assert queried.normalise_issn("1859-4817") is None
    assert cited.normalize_issn("1859-4817").valid is False
