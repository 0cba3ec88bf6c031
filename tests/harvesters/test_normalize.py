"""The shared normalisation helpers."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import unicodedata

import pytest

from harvesters import normalize as n


def test_doctests() -> None:
    # harvesters.normalize is a package of one module per concept: run every module's examples.
    attempted = failed = 0
    for info in pkgutil.iter_modules(n.__path__):
        result = doctest.testmod(importlib.import_module(f"{n.__name__}.{info.name}"))
        attempted, failed = attempted + result.attempted, failed + result.failed
    assert attempted > 20 and failed == 0


def test_clean_text_nfc_whitespace_and_controls() -> None:
    nfd = unicodedata.normalize("NFD", "Thừa  Thiên\tHuế")
    assert n.clean_text(nfd + "\x03\n") == "Thừa Thiên Huế"
    assert n.clean_text("\u00a0Đà\u00a0Nẵng ") == "Đà Nẵng"


def test_dedupe_keeps_first_spelling_and_order() -> None:
    assert n.dedupe(["Hà Nội", "HÀ NỘI", unicodedata.normalize("NFD", "hà nội"), "Huế"]) == [
        "Hà Nội",
        "Huế",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1234/ABC", "10.1234/abc"),
        ("doi:10.1234/ABC", "10.1234/abc"),
        ("DOI: 10.1234/ABC", "10.1234/abc"),
        ("https://doi.org/10.1234/ABC", "10.1234/abc"),
        ("http://dx.doi.org/10.1234/ABC", "10.1234/abc"),
        ("info:doi/10.1234/ABC", "10.1234/abc"),
        ("10.1234/abc.", "10.1234/abc"),
        ("10.1234.5/ABC", "10.1234.5/abc"),  # a subdivided prefix (DOI Handbook)
        ("(doi:10.1234/abc(1)).", "10.1234/abc(1)"),  # balanced brackets belong to the DOI
        ("doi:10.1234/a\u00adbc", "10.1234/abc"),  # a soft hyphen is not part of it
        ("10.1/abc", None),  # registrant codes have four digits or more
        ("no doi here", None),
    ],
)
def test_normalise_doi(raw: str, expected: str | None) -> None:
    assert n.normalise_doi(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("604-913-088-4", "9786049130885"),
        ("ISBN 0-8044-2957-X", "9780804429573"),
        ("978-604-62-1234-8", "9786046212348"),
        ("9786046212348 (bìa cứng)", "9786046212348"),
        ("978-604-62-1234-9", None),  # bad check digit
        ("0-8044-2957-1", None),
        ("123", None),
    ],
)
def test_normalise_isbn(raw: str, expected: str | None) -> None:
    assert n.normalise_isbn(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0866-708X", "0866-708X"),
        ("0866-708x", "0866-708X"),
        ("0866708X", "0866-708X"),
        ("ISSN 1859-3100", "1859-3100"),
        ("1859-3101", None),
    ],
)
def test_normalise_issn(raw: str, expected: str | None) -> None:
    assert n.normalise_issn(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://hdl.handle.net/123456789/42", "123456789/42"),
        ("https://hdl.handle.net/123456789/42?locatt=view:master", "123456789/42"),
        ("hdl:123456789/42", "123456789/42"),
        ("info:hdl/123456789/42", "123456789/42"),
        ("https://elib.hueuni.edu.vn/handle/123456789/42", "123456789/42"),
        ("https://example.org/article/42", None),
        ("123456789/42", None),  # a bare path is too ambiguous
    ],
)
def test_normalise_handle(raw: str, expected: str | None) -> None:
    assert n.normalise_handle(raw) == expected


def test_classify_identifier_kinds() -> None:
    kinds = [i.kind for v in ("https://doi.org/10.1000/x", "urn:nbn:de:1", "1859-3100")
             for i in n.classify_identifier(v)]
    assert kinds == ["doi", "other", "issn"]


def test_classify_identifier_reads_urns_and_ignores_soft_hyphens() -> None:
    assert n.classify_identifier("urn:isbn:0-8044-2957-x") == [
        n.Identifier("isbn", "9780804429573")]
    assert n.classify_identifier("urn:issn:1859-310x") == []  # wrong check digit: dropped
    assert n.classify_identifier("978\u00ad0\u00ad306\u00ad40615\u00ad7") == [
        n.Identifier("isbn", "9780306406157")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["info:eu-repo/semantics/masterThesis"], "thesis"),
        (["info:eu-repo/semantics/doctoralThesis"], "dissertation"),
        (["Luận văn thạc sĩ"], "thesis"),
        (["Khoá luận tốt nghiệp"], "thesis"),
        (["Luận án"], "dissertation"),
        (["Thesis", "Doctoral"], "thesis"),  # first recognised value wins
        (["Bài báo"], "article"),
        (["Journal Article"], "article"),
        (["Báo cáo"], "report"),
        (["Kỷ yếu hội thảo"], "conference paper"),
        (["info:eu-repo/semantics/conferenceObject"], "conference paper"),
        (["Sách"], "book"),
        (["Giáo trình"], "book"),
        (["Dataset"], "dataset"),
        (["Text", "Image"], "other"),
        ([], "other"),
    ],
)
def test_map_type(values: list[str], expected: str) -> None:
    assert n.map_type(values) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("vi", "vie"), ("vie", "vie"), ("vn", "vie"), ("vi_VN", "vie"), ("vi-VN", "vie"),
        ("Tiếng Việt", "vie"), ("Vietnamese", "vie"), ("en", "eng"), ("en_US", "eng"),
        ("English", "eng"), ("eng", "eng"), ("fre", "fra"), ("ger", "deu"), ("und", ""),
        ("", ""), ("xx", ""),
    ],
)
def test_map_language(raw: str, expected: str) -> None:
    assert n.map_language(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giáo trình kinh tế học vi mô", "vie"),
        (unicodedata.normalize("NFD", "Đánh giá chất lượng nước sông Hương"), "vie"),
        ("Rice yield response to salinity in the Mekong Delta", "eng"),
        ("Ciências da Educação", ""),
        ("La dimension personelle dans la formation des enseignants", ""),
        ("", ""),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert n.detect_language(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Tạp chí Khoa học, Tập 12, Số 3, tr. 45-52",
            ("Tạp chí Khoa học", "12", "3", "45-52", None),
        ),
        ("Journal X; Vol 5, No 2 (2019); 10-20", ("Journal X", "5", "2", "10-20", 2019)),
        (
            "Tạp chí Khoa học Đại học Huế: Kinh tế và Phát triển; Tập 130 Số 5C (2021); 45-58",
            ("Tạp chí Khoa học Đại học Huế: Kinh tế và Phát triển", "130", "5C", "45-58", 2021),
        ),
        ("Journal of Hydrology, 2019, 570(3): 12–25", ("Journal of Hydrology", "570", "3", "12-25",
                                                        None)),
        ("Vol. 12 No. 3 (2020): pp. 1-10", ("", "12", "3", "1-10", 2020)),
        ("Tạp chí Sinh học", ("Tạp chí Sinh học", "", "", "", None)),
    ],
)
def test_parse_source_citation(raw: str, expected: tuple) -> None:
    assert tuple(n.parse_source_citation(raw)) == expected


def test_citation_without_enumeration_is_flagged() -> None:
    assert not n.parse_source_citation("Wiley Blackwell").has_enumeration
    assert n.parse_source_citation("Tập 5, Số 1").has_enumeration


@pytest.mark.parametrize(
    ("rights", "expected"),
    [
        (["info:eu-repo/semantics/openAccess"], "open"),
        (["Open Access"], "open"),
        (["Truy cập mở"], "open"),
        (["CC BY-NC 4.0"], "open"),
        (["http://creativecommons.org/licenses/by/4.0/"], "open"),
        (["info:eu-repo/semantics/restrictedAccess"], "restricted"),
        (["info:eu-repo/semantics/closedAccess", "open access"], "restricted"),
        (["© 2016 Nature Publishing Group. All Rights Reserved."], "restricted"),
        ([], "restricted"),
    ],
)
def test_access_from_rights(rights: list[str], expected: str) -> None:
    assert n.access_from_rights(rights) == expected


@pytest.mark.parametrize(
    ("rights", "expected"),
    [
        (["https://creativecommons.org/licenses/by-sa/4.0"], "CC BY-SA 4.0"),
        (["Creative Commons License [CC BY-NC-ND] http://creativecommons.org/licenses/by-nc-nd/3.0/de/"],
         "CC BY-NC-ND 3.0"),
        (["CC BY 4.0"], "CC BY 4.0"),
        (["http://creativecommons.org/publicdomain/zero/1.0/"], "CC0"),
        (["All rights reserved"], ""),
    ],
)
def test_licence_from_rights(rights: list[str], expected: str) -> None:
    assert n.licence_from_rights(rights) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2019-05-03", 2019), ("[1995?]", 1995), ("c2015.", 2015), ("năm 2020", 2020),
     ("20150723134008.0", None), ("n.d.", None)],
)
def test_extract_year(raw: str, expected: int | None) -> None:
    assert n.extract_year(raw) == expected


def test_trim_punctuation_keeps_initials() -> None:
    assert n.trim_punctuation("Giáo trình /") == "Giáo trình"
    assert n.trim_punctuation("Smith, J.") == "Smith, J."
    assert n.trim_punctuation("Huế :") == "Huế"


def test_is_fulltext_url() -> None:
    assert n.is_fulltext_url("https://x.vn/server/api/core/bitstreams/ab-12/content")
    assert n.is_fulltext_url("https://x.vn/files/report.PDF")
    assert not n.is_fulltext_url("https://x.vn/handle/123456789/42")
