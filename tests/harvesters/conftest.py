"""Fixtures for the harvester tests: realistic Vietnamese oai_dc records and a live provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from harvesters.demo_server import DevRecord, OAIDevServer
from harvesters.http import Transport, TransportConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oai"

_TITLES = [
    "Nghiên cứu ảnh hưởng của biến đổi khí hậu đến sản xuất lúa ở Đồng bằng sông Cửu Long",
    "Ứng dụng học sâu trong nhận dạng chữ viết tay tiếng Việt",
    "Đánh giá chất lượng nước sông Hương đoạn chảy qua thành phố Huế",
    "Tổng hợp vật liệu nano bạc và khả năng kháng khuẩn",
    "Quản lý thư viện số tại các trường đại học Việt Nam: thực trạng và giải pháp",
    "Phát triển du lịch cộng đồng ở tỉnh Lào Cai",
    "Mô hình hóa dòng chảy lũ lưu vực sông Vu Gia – Thu Bồn",
]
_CREATORS = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thu Hương",
             "Đỗ Quang Vinh", "Võ Thị Mỹ Dung", "Huỳnh Đức Thắng"]
_SUBJECTS = ["Nông nghiệp", "Trí tuệ nhân tạo", "Môi trường", "Hóa học", "Thư viện học",
             "Du lịch", "Thủy văn"]
_TYPES = ["Luận văn thạc sĩ", "Article", "Luận án tiến sĩ", "Bài báo khoa học"]


def dc_xml(n: int, *, title: str | None = None) -> str:
    """A realistic Vietnamese oai_dc payload (what DSpace at a Vietnamese university sends)."""
    i = n % len(_TITLES)
    title = title if title is not None else f"{_TITLES[i]} (số {n})"
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/'
        ' http://www.openarchives.org/OAI/2.0/oai_dc.xsd">'
        f"<dc:title>{escape(title)}</dc:title>"
        f"<dc:creator>{_CREATORS[i]}</dc:creator>"
        f"<dc:creator>{_CREATORS[(i + 3) % len(_CREATORS)]}</dc:creator>"
        f"<dc:subject>{_SUBJECTS[i]}</dc:subject>"
        "<dc:description>Tóm tắt: luận văn trình bày kết quả nghiên cứu, phân tích số liệu"
        " và đề xuất giải pháp cho địa phương.</dc:description>"
        "<dc:publisher>Đại học Huế</dc:publisher>"
        f"<dc:date>{2010 + n % 14}-0{1 + n % 9}-15</dc:date>"
        f"<dc:type>{_TYPES[n % len(_TYPES)]}</dc:type>"
        f"<dc:identifier>http://hdl.handle.net/123456789/{n}</dc:identifier>"
        "<dc:language>vi</dc:language>"
        "<dc:rights>Open Access</dc:rights>"
        "</oai_dc:dc>"
    )


def make_records(count: int, *, start: int = 0, day: str = "2024-03-0") -> list[DevRecord]:
    """``count`` records with increasing datestamps over a few days and two sets."""
    out = []
    for n in range(start, start + count):
        stamp = f"2024-03-{1 + n // 1000:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00Z"
        sets = ("com_123456789_1", "com_123456789_1:col_123456789_2") if n % 3 == 0 else (
            "com_123456789_7",)
        out.append(DevRecord(f"oai:dlib.hueuni.edu.vn:123456789/{n}", stamp,
                             {"oai_dc": dc_xml(n)}, sets=sets))
    return out


@pytest.fixture
def records() -> list[DevRecord]:
    return make_records(25)


@pytest.fixture
def server(records: list[DevRecord]) -> Iterator[OAIDevServer]:
    with OAIDevServer(records, page_size=10) as srv:
        yield srv


@pytest.fixture
def fast_transport() -> Transport:
    """No politeness delay, no real sleeping, tiny caps: tests run in milliseconds."""
    sleeps: list[float] = []
    t = Transport(
        TransportConfig(delay=0, max_retries=4, backoff_base=2, max_retry_after=5,
                        connect_timeout=2, read_timeout=5),
        sleep=sleeps.append,
    )
    t.sleeps = sleeps  # type: ignore[attr-defined]
    return t


@pytest.fixture(name="make_records")
def make_records_fixture():
    """The :func:`make_records` factory (test modules never import from a conftest)."""
    return make_records


@pytest.fixture(name="dc_xml")
def dc_xml_fixture():
    return dc_xml
