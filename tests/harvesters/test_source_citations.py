"""dc:source citations → journal, volume, issue, pages, year (harvesters.normalize.citations).

Issue 15: OJS's "Tạp chí Khoa học Trà Vinh; Số 40 (2021)" was read as volume 40, issue 2021.
A number that is a year is the year, never an issue or a volume.
"""

from __future__ import annotations

import unicodedata

import pytest

from harvesters.normalize import parse_source_citation

# (dc:source, (journal, volume, issue, pages, year)): shapes Vietnamese and English OJS,
# DSpace and Zenodo write.
SHAPES = [
    # OJS 3, Vietnamese locale: issue and year, no volume (the issue's example)
    ("Tạp chí Khoa học Trà Vinh; Số 40 (2021)",
     ("Tạp chí Khoa học Trà Vinh", "", "40", "", 2021)),
    ("Tạp chí Khoa học Trà Vinh; Số 40 (2021); 1-10",
     ("Tạp chí Khoa học Trà Vinh", "", "40", "1-10", 2021)),
    ("Tạp chí Khoa học Đại học Huế: Kinh tế và Phát triển; Tập 130 Số 5C (2021); 45-58",
     ("Tạp chí Khoa học Đại học Huế: Kinh tế và Phát triển", "130", "5C", "45-58", 2021)),
    ("Tạp chí Khoa học Đại học Cần Thơ; Tập 57 Số 3 (2021): Khoa học Tự nhiên; 12-20",
     ("Tạp chí Khoa học Đại học Cần Thơ", "57", "3", "12-20", 2021)),
    ("Tạp chí Y học TP. Hồ Chí Minh; Tập 25, Số 2 (2021)",
     ("Tạp chí Y học TP. Hồ Chí Minh", "25", "2", "", 2021)),
    ("Tập 58, Số 6A (2020)", ("", "58", "6A", "", 2020)),
    ("TẠP CHÍ KHOA HỌC; TẬP 5, SỐ 2 (2020)", ("TẠP CHÍ KHOA HỌC", "5", "2", "", 2020)),
    # OJS repeating the issue's own title after the colon
    ("Tạp chí Khoa học Đại học Sư phạm TP Hồ Chí Minh; Tập 17 Số 9 (2020): Tập 17, Số 9 "
     "(2020); 1612-1620",
     ("Tạp chí Khoa học Đại học Sư phạm TP Hồ Chí Minh", "17", "9", "1612-1620", 2020)),
    ("Tạp chí Khoa học, Tập 12, Số 3, tr. 45-52", ("Tạp chí Khoa học", "12", "3", "45-52", None)),
    ("Tạp chí Nghiên cứu, Quyển 4, Số 2 (2019)", ("Tạp chí Nghiên cứu", "4", "2", "", 2019)),
    ("T. 5, S. 3", ("", "5", "3", "", None)),
    ("Tạp chí Khoa học Xã hội, T. 5, S. 3 (2019), tr. 12-20",
     ("Tạp chí Khoa học Xã hội", "5", "3", "12-20", 2019)),
    # the year with the issue, after "năm", inside a date in brackets
    ("Tạp chí Kinh tế và Phát triển, Số 3/2021, tr. 5-14",
     ("Tạp chí Kinh tế và Phát triển", "", "3", "5-14", 2021)),
    ("Tạp chí Khoa học và Công nghệ, Số 3 năm 2021",
     ("Tạp chí Khoa học và Công nghệ", "", "3", "", 2021)),
    ("Tạp chí Giáo dục, Kỳ 2 tháng 5/2020, trang 12-15",
     ("Tạp chí Giáo dục", "", "2", "12-15", 2020)),
    ("Tạp chí Khoa học; Số 5 (tháng 3/2021)", ("Tạp chí Khoa học", "", "5", "", 2021)),
    ("Tạp chí Y học Việt Nam, tr. 12-20", ("Tạp chí Y học Việt Nam", "", "", "12-20", None)),
    # English OJS and DSpace
    ("Journal X; Vol 5, No 2 (2019); 10-20", ("Journal X", "5", "2", "10-20", 2019)),
    ("Vol 12 No 3 (2020)", ("", "12", "3", "", 2020)),
    ("Vol. 12 No. 3 (2020): pp. 1-10", ("", "12", "3", "1-10", 2020)),
    ("Journal of Science; Vol. 8 No. 1 (2018)", ("Journal of Science", "8", "1", "", 2018)),
    ("Journal; Vol 12 (2020): Special issue", ("Journal", "12", "", "", 2020)),
    ("Journal; No. 7 (2016)", ("Journal", "", "7", "", 2016)),
    ("Journal, No. 1-2 (2020)", ("Journal", "", "1-2", "", 2020)),
    ("Journal, Volume 12, Issue 3, 2020, pp. 12–20", ("Journal", "12", "3", "12-20", 2020)),
    ("Journal of X, Vol. XII, No. 2", ("Journal of X", "XII", "2", "", None)),
    ("Journal, pp. 12–20", ("Journal", "", "", "12-20", None)),
    # APA style, and Zenodo's "journal, volume(issue), pages, (date)"
    ("Journal of Hydrology, 12(3), 45-52", ("Journal of Hydrology", "12", "3", "45-52", None)),
    ("Journal of Hydrology, 2019, 570(3): 12–25",
     ("Journal of Hydrology", "570", "3", "12-25", None)),
    ("Cell Reports, 42(10), (2023-10-12)", ("Cell Reports", "42", "10", "", 2023)),
    ("ILM-FAN XABARNOMASI, 14(01), 1200-1208, (2026-06-09)",
     ("ILM-FAN XABARNOMASI", "14", "01", "1200-1208", 2026)),
    ("ТЕРАПЕВТИЧЕСКИЙ ВЕСТНИК УЗБЕКИСТАНА, 113-121, (2025-02)",
     ("ТЕРАПЕВТИЧЕСКИЙ ВЕСТНИК УЗБЕКИСТАНА", "", "", "113-121", 2025)),
    # no enumeration: the text is a name, years and all
    ("People and Nature, (2023-10-13)", ("People and Nature", "", "", "", 2023)),
    ("PyHEP 2023 Workshop, 9-12 October 2023",
     ("PyHEP 2023 Workshop, 9-12 October 2023", "", "", "", None)),
    ("Tạp chí Sinh học", ("Tạp chí Sinh học", "", "", "", None)),
    ("", ("", "", "", "", None)),
]


def test_decomposed_vietnamese_reads_the_same() -> None:
    raw = "Tạp chí Khoa học Trà Vinh; Số 40 (2021)"
    assert parse_source_citation(unicodedata.normalize("NFD", raw)) == \
        parse_source_citation(raw)


@pytest.mark.parametrize(("raw", "expected"), SHAPES, ids=[s[0][:40] for s in SHAPES])
def test_source_shapes(raw: str, expected: tuple[str, str, str, str, int | None]) -> None:
    assert tuple(parse_source_citation(raw)) == expected


@pytest.mark.parametrize("raw", [
    "Tạp chí Khoa học Trà Vinh; Số 40 (2021)",
    "Journal; 40 (2021)",
    "Journal, 5 (1998)",
    "Journal; No. 3 (2020-05)",
    "Tạp chí; Số 12 (12/2020)",
])
def test_a_year_in_brackets_is_never_an_issue_or_volume(raw: str) -> None:
    """The rule of issue 15, whatever surrounds it."""
    parsed = parse_source_citation(raw)
    assert parsed.year is not None
    assert str(parsed.year) not in (parsed.volume, parsed.issue)
