"""parse_page over one sample body per verb, error and real-world quirk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harvesters.page import (
    MalformedPage,
    NotOAIResponse,
    decode_body,
    parse_page,
    strip_illegal,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oai"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_listrecords_page_with_token():
    page = parse_page(load("listrecords.xml"))
    assert page.verb == "ListRecords"
    assert page.response_date == "2024-05-02T03:04:05Z"
    assert [r.identifier for r in page.records] == [
        f"oai:dlib.hueuni.edu.vn:123456789/{i}" for i in range(3)
    ]
    first = page.records[0]
    assert first.problem is None
    assert first.header.sets == ("com_123456789_1",)
    assert first.metadata.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert "Bạch Mã".encode() in first.xml()
    tok = page.token
    assert (tok.value, tok.cursor, tok.complete_list_size) == ("oai_dc////100", 0, 7)
    assert tok.expiration_date == "2024-05-03T03:04:05Z"
    assert not page.salvaged and not page.errors


def test_last_page_empty_token_means_end():
    page = parse_page(load("listrecords_last_empty_token.xml"))
    assert page.token is not None and page.token.value == ""
    assert page.token.cursor == 6


def test_no_token_element():
    page = parse_page(load("listrecords_no_token.xml"))
    assert page.token is None
    assert len(page.records) == 3


def test_deleted_header_has_no_metadata():
    page = parse_page(load("listrecords_deleted.xml"))
    live, gone = page.records
    assert not live.deleted and live.metadata is not None
    assert gone.deleted and gone.metadata is None and gone.problem is None


def test_dspace_cursor_is_kept_as_given():
    page = parse_page(load("listrecords_dspace_cursor.xml"))
    assert page.token.cursor == 3 and page.token.complete_list_size == 1100


def test_listidentifiers_headers():
    page = parse_page(load("listidentifiers.xml"))
    assert page.verb == "ListIdentifiers"
    assert len(page.records) == 4
    assert page.records[-1].deleted
    assert all(r.metadata is None for r in page.records)
    assert page.token.value == ""


def test_getrecord():
    page = parse_page(load("getrecord.xml"))
    assert page.verb == "GetRecord" and len(page.records) == 1


@pytest.mark.parametrize("name", ["identify.xml", "listsets.xml", "listmetadataformats.xml"])
def test_other_verbs_parse_without_records(name):
    page = parse_page(load(name))
    assert page.records == [] and page.errors == [] and page.root is not None


@pytest.mark.parametrize(
    "code",
    ["badResumptionToken", "noRecordsMatch", "badArgument", "cannotDisseminateFormat",
     "idDoesNotExist", "noSetHierarchy", "badVerb"],
)
def test_errors(code):
    page = parse_page(load(f"error_{code}.xml"), status=422)
    assert [e.code for e in page.errors] == [code]
    assert page.errors[0].message


def test_several_errors():
    page = parse_page(load("error_multiple.xml"))
    assert [e.code for e in page.errors] == ["badArgument", "badArgument"]


def test_prefixed_envelope():
    page = parse_page(load("quirk_prefixed_envelope.xml"))
    assert page.verb == "ListRecords"
    assert len(page.records) == 2 and page.token.value == "tok-2"


def test_envelope_without_namespace():
    page = parse_page(load("quirk_no_namespace.xml"))
    assert len(page.records) == 3 and all(r.problem is None for r in page.records)


def test_php_notice_after_root_is_cut(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        page = parse_page(load("quirk_php_notice.xml"), repository="hue")
    assert page.trailing_junk and len(page.records) == 3
    assert "repository=hue event=trailing_junk" in caplog.text


def test_illegal_chars_are_stripped_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        page = parse_page(load("quirk_illegal_chars.xml"), repository="hue")
    assert not page.salvaged
    assert page.stripped == {"U+0003": 1, "U+FFFE": 1, "U+0001": 1, "U+001F": 1}
    title = page.records[0].metadata.findtext("{http://purl.org/dc/elements/1.1/}title")
    assert title == "Nghiên cứu khí hậu miền Trung ậ"  # the legal &#7853; survives
    assert "event=stripped_chars" in caplog.text and "U+0003x1" in caplog.text


def test_invalid_utf8_is_replaced_not_fatal(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        page = parse_page(load("quirk_invalid_utf8.xml"), repository="hue")
    assert page.bad_bytes == 2 and len(page.records) == 3
    assert "event=invalid_utf8" in caplog.text


def test_declared_latin1_is_honoured():
    body = ('<?xml version="1.0" encoding="ISO-8859-1"?>'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>x</responseDate>'
            '<error code="badVerb">Café</error></OAI-PMH>').encode("latin-1")
    assert parse_page(body).errors[0].message == "Café"


def test_broken_record_costs_only_itself(caplog):
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        page = parse_page(load("quirk_broken_record.xml"), repository="hue")
    assert page.salvaged and not page.truncated
    good = [r for r in page.records if not r.problem]
    bad = [r for r in page.records if r.problem]
    assert [r.identifier for r in good] == [
        "oai:dlib.hueuni.edu.vn:123456789/0", "oai:dlib.hueuni.edu.vn:123456789/2"]
    assert [r.identifier for r in bad] == ["oai:dlib.hueuni.edu.vn:123456789/1"]
    assert "not well-formed" in bad[0].problem
    assert page.token.value == "tok-broken" and page.token.complete_list_size == 9
    assert "identifier=oai:dlib.hueuni.edu.vn:123456789/1 event=bad_record" in caplog.text
    # the rebuilt tree holds the good records, for tree-based (Sickle) consumers
    assert len(page.root.findall(".//{http://www.openarchives.org/OAI/2.0/}record")) == 2


def test_truncated_body_is_flagged():
    page = parse_page(load("quirk_truncated.xml"))
    assert page.salvaged and page.truncated
    assert [r.problem is None for r in page.records] == [True, False]
    assert page.token is None


def test_html_is_refused():
    with pytest.raises(NotOAIResponse, match="HTML"):
        parse_page(load("quirk_html.html"), status=200)


@pytest.mark.parametrize("body", [b"", b"   \n", b"<foo/>"])
def test_not_oai(body):
    with pytest.raises(NotOAIResponse):
        parse_page(body)


def test_garbage_is_malformed():
    with pytest.raises(MalformedPage):
        parse_page(b"<OAI-PMH><unclosed")


def test_strip_illegal_keeps_legal_text():
    text, removed = strip_illegal("Tiếng Việt\t\n&#x110;&#272;")
    assert text == "Tiếng Việt\t\n&#x110;&#272;" and not removed


def test_decode_body_bom():
    assert decode_body("\ufeffĐà Nẵng".encode("utf-8-sig"))[0] == "Đà Nẵng"


def test_entities_are_not_resolved():
    body = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&x;'
            b"</responseDate></OAI-PMH>")
    page = parse_page(body)
    assert "root:" not in page.response_date


NEXT = '<resumptionToken cursor="0">t2</resumptionToken>'


def _body(records: str, resumption: str = NEXT, verb: str = "ListRecords") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-05-02T03:04:05Z</responseDate>"
        f'<request verb="{verb}" metadataPrefix="oai_dc">http://x/oai</request>'
        f"<{verb}>{records}{resumption}</{verb}></OAI-PMH>"
    ).encode()


def _rec(n: int, *, attrs: str = "", title: str | None = None) -> str:
    title = f"<dc:title>Bài {n}</dc:title>" if title is None else title
    return (
        f"<record{attrs}><header><identifier>oai:x:{n}</identifier>"
        f"<datestamp>2024-05-0{1 + n % 9}</datestamp></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        f' xmlns:dc="http://purl.org/dc/elements/1.1/">{title}</oai_dc:dc>'
        "</metadata></record>"
    )


@pytest.mark.parametrize("attrs", [
    ' xmlns="http://www.openarchives.org/OAI/2.0/"',
    " xmlns='http://www.openarchives.org/OAI/2.0/' id=\"r\"",
])
def test_salvage_finds_records_whose_tags_carry_attributes(attrs):
    records = "".join(
        _rec(n, attrs=attrs, title="<dc:title>hỏng</dc:titl>" if n == 3 else None)
        for n in range(100))
    page = parse_page(_body(records))
    assert page.salvaged
    good = [r.identifier for r in page.records if not r.problem]
    bad = [r for r in page.records if r.problem]
    assert len(good) == 99 and "oai:x:3" not in good
    assert [r.identifier for r in bad] == ["oai:x:3"] and bad[0].datestamp == "2024-05-04"
    assert page.token.value == "t2"


def test_salvage_counts_records_it_cannot_delimit():
    # a record whose start tag is itself broken: its header is still counted, never dropped
    records = _rec(0) + _rec(1).replace("<record>", "<record <") + _rec(2)
    page = parse_page(_body(records))
    assert sorted(r.identifier for r in page.records if not r.problem) == ["oai:x:0", "oai:x:2"]
    assert len([r for r in page.records if r.problem]) >= 1


def test_salvage_refuses_a_page_whose_token_it_cannot_read():
    body = _body(_rec(0) + "<record><header>", resumption="<resumptionToken cursor='0'>t2<")
    with pytest.raises(MalformedPage, match="resumptionToken"):
        parse_page(body)


def test_salvage_of_a_list_identifiers_page():
    headers = "".join(
        f"<header><identifier>oai:x:{n}</identifier><datestamp>2024-05-01</datestamp></header>"
        for n in range(5)) + "<header><identifier>oai:x:5</identifier><datestamp>2024"
    page = parse_page(_body(headers, verb="ListIdentifiers"))
    assert [r.identifier for r in page.records if not r.problem] == [
        f"oai:x:{n}" for n in range(5)]


def test_a_record_without_payload_is_not_a_parse_problem():
    # what withdrawn items look like in some repositories: the crosswalk decides
    body = _body('<record><header><identifier>oai:x:1</identifier>'
                 "<datestamp>2024-05-01</datestamp></header><metadata/></record>", resumption="")
    [rec] = parse_page(body).records
    assert rec.problem is None and rec.metadata is None and not rec.deleted


def test_the_answer_says_what_it_answers():
    page = parse_page(_body(_rec(0)))
    assert page.namespace == "http://www.openarchives.org/OAI/2.0/"
    assert page.request == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
