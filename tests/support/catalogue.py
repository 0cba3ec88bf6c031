"""A small Vietnamese/English catalogue written for the index tests, and how to read hits."""

from __future__ import annotations

from index import Record


def rec(rid: str, title: str, **kw) -> Record:
    kw.setdefault("institution", "Đại học Huế")
    kw.setdefault("repository", "test")
    return Record(id=rid, oai_identifier=f"oai:test:{rid}", titles=[title], **kw)


CATALOGUE = [
    rec("thuvien", "Thư viện số trong trường đại học", year=2021, creators=["Nguyễn Văn Nam"],
        abstract="Bài viết trình bày mô hình thư viện số và dịch vụ thông tin cho sinh viên.",
        subjects=["Thư viện học"], type="article", language="vie", access="open"),
    rec("vienthu", "Viện thư ký và công tác văn phòng", year=2015, language="vie",
        abstract="Giáo trình nghiệp vụ văn thư lưu trữ.", type="book"),
    rec("hoabinh", "Địa chí tỉnh Hòa Bình", year=2010, language="vie", type="book"),
    rec("hoabinh-old", "Kinh tế nông nghiệp Hoà Bình", year=2012, language="vie",
        institution="Đại học Thái Nguyên"),
    rec("thuyloi", "Công trình thuỷ lợi miền Trung", year=2018, language="vie",
        creators=["Trần Thị Lan"], type="report"),
    rec("khoe", "Sức khỏe cộng đồng ở nông thôn", year=2019, language="vie", type="article"),
    rec("quy", "Quý tộc và đời sống cung đình", year=2001, language="vie"),
    rec("ban-table", "Cái bàn gỗ truyền thống", year=2005, language="vie"),
    rec("ban-friend", "Người bạn đồng hành", year=2006, language="vie"),
    rec("ban-sell", "Bán hàng trực tuyến", year=2007, language="vie"),
    rec("ban-plain", "Ban chấp hành công đoàn", year=2008, language="vie"),
    rec("dang", "Đặng Thai Mai và văn học", year=2003, language="vie", creators=["Lê Văn Ba"]),
    rec("dang2", "Dạng thức của động từ", year=2004, language="vie"),
    rec("dang3", "Đang trên đường phát triển", year=2004, language="vie"),
    rec("hanoi", "Văn hóa Hà Nội xưa", year=2000, language="vie"),
    rec("hapunct", "Nghiên cứu ở Hà. Nội dung chính là nông nghiệp", year=2000, language="vie"),
    rec("vietnam", "Kinh tế Việt Nam sau đổi mới", year=2016, language="vie",
        creators=["Phạm Minh Hoàng"]),
    rec("namauthor", "Quản trị dữ liệu nghiên cứu", year=2022, creators=["Hoàng Văn Nam"],
        language="vie"),
    rec("hue", "Kiến trúc cung đình Huế", year=2014, language="vie", institution="Đại học Huế"),
    rec("daihoc", "Đại học và xã hội tri thức", year=2020, language="vie"),
    rec("en-lib", "Digital libraries in Southeast Asia", year=2019, language="eng",
        creators=["Smith, John"], doi="10.1234/dl.2019.7", issn=["1234-5679"],
        abstract="We survey digital library services in Vietnam and Thailand.",
        institution="Đại học Quốc gia Hà Nội", type="article", access="open"),
    rec("en-book", "Organic chemistry handbook", year=2011, language="eng",
        isbn=["9780306406157"], institution="Đại học Cần Thơ", type="book"),
]


def ids(result) -> list[str]:
    return [h.record.id for h in result.hits]
