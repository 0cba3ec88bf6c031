"""A record whose identifiers, links and words are as long as real ones get: a DOI of a
conference paper, a repository URL with a query string, a German-style compound title word.
The browser tests add it to the sample consortium to check that no page scrolls sideways on
a phone (tests/browser/test_narrow_screens.py)."""

from __future__ import annotations

from index import Record

LONG_DOI = ("10.1109/ACCESS.2023.3287654.supplementary-material-for-vietnamese-"
            "digital-library-interoperability-evaluation-2023-part-01")
LONG_URL = ("https://kho-tai-lieu-noi-sinh.truong-dai-hoc-khoa-hoc-tu-nhien.example.edu.vn/"
            "server/api/core/bitstreams/6f1c2a9e-4b7d-4c3e-9a51-0d2f6b8e7c41/content"
            "?download=true&format=application%2Fpdf&sequence=1&isAllowed=y")
LONG_WORD = "Thưviệnsốliênthôngđạihọcnghiêncứuhợptácquốctếchuẩnhóadữliệumởrộng"

LONG = Record(
    id="vnuhcm-dspace-long-identifiers", oai_identifier="oai:vnuhcm:9001",
    repository="vnuhcm-dspace", institution="vnuhcm", datestamp="2024-02-01T03:00:00Z",
    titles=[f"{LONG_WORD}: một đánh giá về khả năng tương tác"],
    creators=["Nguyễn Thị Phương Thảo"], subjects=[LONG_WORD, "Liên thông dữ liệu"],
    abstract=f"Bản tóm tắt có liên kết dài {LONG_URL} để kiểm tra việc xuống dòng.",
    publisher="Trường Đại học Khoa học Tự nhiên, Đại học Quốc gia Thành phố Hồ Chí Minh",
    year=2023, type="article", language="vie", doi=LONG_DOI, issn=["2169-3536"],
    journal="IEEE Access", volume="11", issue="7", pages="65001-65019", access="open",
    urls=[LONG_URL], fulltext_links=[LONG_URL], handle="123456789/99999999999",
)
