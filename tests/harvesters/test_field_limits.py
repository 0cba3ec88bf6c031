"""A harvested record stores at most so much per field; what is cut is logged (issue 12)."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from xml.sax.saxutils import escape

from lxml import etree

from harvesters.crosswalk import Header, crosswalk

HEADER = Header("oai:hue:huge", "2024-05-02T08:00:00Z")
SENTENCE = "Nghiên cứu ảnh hưởng của biến đổi khí hậu đến thủy văn sông Hương. "
MEGABYTE_TEXT = SENTENCE * (1_000_000 // len(SENTENCE.encode()) + 1)


def oai_dc(**elements: list[str]) -> etree._Element:
    body = "".join(f"<dc:{name}>{escape(v)}</dc:{name}>"
                   for name, values in elements.items() for v in values)
    return etree.fromstring(
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        f' xmlns:dc="http://purl.org/dc/elements/1.1/">{body}</oai_dc:dc>')


def walk(payload: etree._Element):  # type: ignore[no-untyped-def]
    return crosswalk("oai_dc", payload, HEADER, repository="hue-dspace", institution="hue")


def cuts(caplog) -> dict[tuple[str, str], tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(field, unit) → (from, to) of every field_cut line logged."""
    found = {}
    for m in re.finditer(r"event=field_cut identifier=(\S+) field=(\S+) from=(\d+) to=(\d+)"
                         r" unit=(\w+)", caplog.text):
        assert m.group(1) == HEADER.identifier
        found[(m.group(2), m.group(5))] = (int(m.group(3)), int(m.group(4)))
    return found


def test_a_megabyte_title_and_abstract_are_cut_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        record = walk(oai_dc(title=[MEGABYTE_TEXT], description=[MEGABYTE_TEXT],
                             creator=["Nguyễn Văn An"], identifier=["10.1234/abc"]))
    assert len(record.title) <= 2_000 and record.title.endswith("…")
    assert len(record.abstract) <= 20_000 and record.abstract.endswith("…")
    assert MEGABYTE_TEXT.startswith(record.title[:-1]) and record.title.startswith("Nghiên cứu")
    assert unicodedata.is_normalized("NFC", record.title)
    assert len(json.dumps(record.to_dict(), ensure_ascii=False).encode()) < 100_000
    logged = cuts(caplog)
    assert logged[("titles", "chars")] == (len(MEGABYTE_TEXT.strip()), len(record.title))
    assert logged[("abstract", "chars")] == (len(MEGABYTE_TEXT.strip()), len(record.abstract))
    assert record.creators == ["Nguyễn Văn An"] and record.doi == "10.1234/abc"


def test_repeated_fields_keep_at_most_two_hundred_values(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        record = walk(oai_dc(
            title=["Thư viện số"],
            creator=[f"Nguyễn Văn {i}" for i in range(5_000)] + ["Trần " * 1_000],
            subject=[f"Chủ đề {i}" for i in range(1_000)],
            identifier=[f"https://repo.example.edu.vn/item/{i}" for i in range(1_000)]
            + ["https://repo.example.edu.vn/" + "x" * 5_000]))
    assert record.creators[:2] == ["Nguyễn Văn 0", "Nguyễn Văn 1"]
    assert len(record.creators) == 200 and len(record.subjects) == 200
    assert len(record.urls) == 200 and all(len(u) < 100 for u in record.urls)
    logged = cuts(caplog)
    assert logged[("creators", "values")] == (5_001, 200)
    assert logged[("subjects", "values")] == (1_000, 200)
    assert ("urls", "values") in logged


def test_one_long_name_is_cut_to_five_hundred_characters(caplog):
    long_name = "Tôn Nữ Thị " * 100
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        record = walk(oai_dc(title=["Thư viện số"], creator=[long_name, "Lê Văn Minh"]))
    assert len(record.creators[0]) <= 500 and record.creators[1] == "Lê Văn Minh"
    assert cuts(caplog)[("creators", "chars")] == (len(long_name.strip()),
                                                   len(record.creators[0]))


def test_a_cut_never_parts_a_letter_from_its_marks():
    # Letters with no composed form stay base + marks in NFC: the cut must not split them.
    unit = "q\u0323\u0302"  # three code points, one letter
    assert unicodedata.normalize("NFC", unit) == unit
    for extra in range(3):
        title = "a" * (1_998 + extra) + unit * 10
        record = walk(oai_dc(title=[title]))
        kept = record.title[:-1]
        assert record.title.endswith("…") and len(record.title) <= 2_000
        assert title.startswith(kept)
        assert unicodedata.category(title[len(kept)]) not in ("Mn", "Mc", "Me"), extra


def test_a_record_within_the_limits_is_untouched(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        record = walk(oai_dc(title=["Thư viện số " * 100], description=[SENTENCE * 200],
                             creator=[f"Nguyễn Văn {i}" for i in range(200)]))
    assert record.title == ("Thư viện số " * 100).strip() and len(record.creators) == 200
    assert record.abstract == (SENTENCE * 200).strip()
    assert "field_cut" not in caplog.text
