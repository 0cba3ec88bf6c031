"""A small consortium for the public pages' tests (and the browser tests' real server).

Vietnamese and English records, one work held by two members (same DOI), a record whose
every field is hostile HTML, and a run of reports for paging. The fixtures ``site`` (the app
with this index and these institutions) and ``web`` (its test client) are pulled into the
conftest of each folder whose tests use them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import index
from index import Record
from resolver import db
from resolver.registry.models import Institution

HOSTILE = '<script>alert("x")</script> Độc hại & "quoted"'
HOSTILE_AUTHOR = "<img src=x onerror=alert(1)>"
HOSTILE_ABSTRACT = "Tóm tắt </script><script>alert(2)</script> kết thúc"

INSTITUTIONS = [
    ("hue", "Đại học Huế", "Hue University", "member"),
    ("tvu", "Trường Đại học Trà Vinh", "Tra Vinh University", "member"),
    ("vnuhcm", "Đại học Quốc gia Thành phố Hồ Chí Minh",
     "Vietnam National University Ho Chi Minh City", "member"),
    ("nasati", "Cục Thông tin khoa học và công nghệ quốc gia",
     "National Agency for Science and Technology Information", "member"),
]

THESIS = Record(
    id="hue-dspace-thesis1", oai_identifier="oai:hue:101", repository="hue-dspace",
    institution="hue", datestamp="2024-05-02T08:00:00Z",
    titles=["Nghiên cứu xây dựng thư viện số tại Trường Đại học Khoa học",
            "Building a digital library at the University of Sciences"],
    creators=["Nguyễn Thị Thu Hà"], contributors=["Lê Văn Minh"],
    subjects=["Thư viện số", "DSpace"],
    abstract="Luận văn trình bày quá trình xây dựng thư viện số bằng phần mềm DSpace, "
             "từ khảo sát nhu cầu đến vận hành kho tài liệu nội sinh.",
    publisher="Trường Đại học Khoa học, Đại học Huế", dates=["2023"], year=2023,
    type="thesis", language="vie", handle="123456789/101",
    urls=["https://huespace.example.edu.vn/handle/123456789/101"],
    access="open", licence="CC BY 4.0", rights="CC BY 4.0",
    fulltext_links=["https://huespace.example.edu.vn/bitstream/123456789/101/1/luanvan.pdf"],
)

FLOOD_HUE = Record(
    id="hue-dspace-flood", oai_identifier="oai:hue:201", repository="hue-dspace",
    institution="hue", datestamp="2023-03-01T00:00:00Z",
    titles=["Ứng dụng học máy trong dự báo lũ trên lưu vực sông Hương"],
    creators=["Trần Đức Minh", "Nguyễn Văn An"], subjects=["Học máy", "Dự báo lũ"],
    abstract="Bài báo đánh giá các mô hình học máy dự báo lũ cho lưu vực sông Hương.",
    publisher="Đại học Huế", dates=["2022"], year=2022, type="article", language="vie",
    doi="10.26459/hueuni-jns.v131i1d.6543", issn=["1859-1388"],
    journal="Tạp chí Khoa học Đại học Huế", volume="131", issue="1D", pages="5-18",
    access="open", urls=["https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/6543"],
)

FLOOD_TVU = Record(
    id="tvu-ojs-flood", oai_identifier="oai:tvu:88", repository="tvu-ojs", institution="tvu",
    datestamp="2023-04-01T00:00:00Z",
    titles=["Ứng dụng học máy trong dự báo lũ trên lưu vực sông Hương"],
    creators=["Trần Đức Minh", "Nguyễn Văn An"], subjects=["Học máy"],
    year=2022, type="article", language="vie", doi="10.26459/hueuni-jns.v131i1d.6543",
    journal="Tạp chí Khoa học Đại học Huế", access="restricted",
    urls=["https://tvu.example.edu.vn/record/88"],
)

SURVEY = Record(
    id="hue-dspace-survey", oai_identifier="oai:hue:301", repository="hue-dspace",
    institution="hue", titles=["Digital library services in Vietnamese universities: a survey"],
    creators=["Tran, Thi Lan"], subjects=["Digital libraries", "Thư viện số"],
    abstract="A survey of 42 university libraries in Vietnam on repository software.",
    publisher="Hue University", year=2020, type="article", language="eng",
    doi="10.1234/lienhop.demo.2020.7", access="open",
)

BOOK = Record(
    id="nasati-koha-book", oai_identifier="oai:koha:4001", repository="nasati-koha",
    institution="nasati", titles=["Liên hợp thư viện Việt Nam về nguồn tin khoa học và công nghệ"],
    creators=["Trần Đắc Hiến"], subjects=["Liên hợp thư viện"], publisher="Khoa học và Kỹ thuật",
    year=2024, type="book", language="vie", isbn=["9780306406157"], access="restricted",
)

EVIL = Record(
    id="vnuhcm-dspace-evil", oai_identifier="oai:vnuhcm:666", repository="vnuhcm-dspace",
    institution="vnuhcm", titles=[HOSTILE], creators=[HOSTILE_AUTHOR],
    subjects=["<b>bold</b>"], abstract=HOSTILE_ABSTRACT, publisher='Nhà xuất bản "<i>"',
    year=2015, type="report", language="eng", access="open",
    urls=["javascript:alert(3)"],
)


def reports(n: int = 24) -> list[Record]:
    """``n`` NASATI reports, one a year from 1990: enough for several pages."""
    return [Record(
        id=f"nasati-koha-r{i:02d}", oai_identifier=f"oai:koha:r{i}", repository="nasati-koha",
        institution="nasati", titles=[f"Báo cáo tổng kết nhiệm vụ khoa học số {i}"],
        creators=[f"Phạm Văn Bình {i}"], subjects=["Báo cáo khoa học"], year=1990 + i,
        type="report", language="vie", access="restricted",
    ) for i in range(n)]


def records() -> list[Record]:
    return [THESIS, FLOOD_HUE, FLOOD_TVU, SURVEY, BOOK, EVIL, *reports()]


def build_index(path: Path, recs: list[Record] | None = None) -> None:
    ix = index.open_index(path)
    with ix.writer() as w:
        w.add(recs if recs is not None else records())


def add_institutions(app) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        for code, vi, en, status in INSTITUTIONS:
            s.add(Institution(code=code, name_vi=vi, name_en=en, status=status))


@pytest.fixture
def site(app):  # type: ignore[no-untyped-def]
    build_index(app.config["LIENHOP"].index_dir)
    add_institutions(app)
    return app


@pytest.fixture
def web(site):  # type: ignore[no-untyped-def]
    """A test client of the site, in Vietnamese (the default)."""
    return site.test_client()
