"""OAIClient against the live devserver: paging, tokens, granularity, errors, quirks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harvesters.client import (
    DAY,
    SECONDS,
    BadResumptionToken,
    InvalidResponse,
    OAIClient,
    OAIProtocolError,
    TokenLoop,
    TruncatedResponse,
    format_datestamp,
)
from harvesters.demo_server import OAIDevServer


def ids(pages):
    return [r.identifier for p in pages for r in p.records]


@pytest.fixture
def client(server, fast_transport):
    return OAIClient(server.url, transport=fast_transport, repository="hue")


def test_identify(client):
    info = client.identify()
    assert info.granularity == SECONDS
    assert info.deleted_record == "persistent"
    assert info.compression == ("gzip",)
    assert info.response_date.endswith("Z")


def test_identify_day_granularity(fast_transport):
    with OAIDevServer([], granularity="day", deleted_record="transient") as srv:
        info = OAIClient(srv.url, transport=fast_transport).identify()
    assert (info.granularity, info.deleted_record) == (DAY, "transient")
    assert info.earliest_datestamp == "2000-01-01"


def test_all_pages(client, server, records):
    pages = list(client.list_records("oai_dc"))
    assert [len(p.records) for p in pages] == [10, 10, 5]
    assert ids(pages) == [r.identifier for r in records]
    assert pages[-1].token.value == ""
    assert pages[1].token.cursor == 10


@pytest.mark.parametrize("final", ["empty", "absent"])
def test_end_of_list_with_empty_or_absent_token(fast_transport, records, final):
    with OAIDevServer(records, page_size=10, end_of_list=final) as srv:
        pages = list(OAIClient(srv.url, transport=fast_transport).list_records("oai_dc"))
        assert len(ids(pages)) == 25 and len(srv.requests) == 3


def test_dspace_cursor_counting_pages_is_harmless(fast_transport, records):
    with OAIDevServer(records, page_size=10, cursor_mode="pages") as srv:
        pages = list(OAIClient(srv.url, transport=fast_transport).list_records("oai_dc"))
    assert [p.token.cursor for p in pages] == [0, 1, 2]
    assert len(ids(pages)) == 25


def test_a_token_repeated_for_good_fails_the_list_instead_of_ending_it(client, server):
    server.inject("repeat_token", times=99, resumption=True)
    got = []
    with pytest.raises(TokenLoop, match="already sent"):
        for page in client.list_records("oai_dc"):
            got.append(page)
    # page 1 is good; page 2 handed back its own token: asked again 3 times, then an error,
    # never an endless loop and never a silent end of the list
    assert len(got) == 1
    assert len(server.requests) == 2 + client.token_retries


def test_a_token_repeated_once_is_asked_again(client, server, records):
    server.inject("repeat_token", times=2, resumption=True)
    pages = list(client.list_records("oai_dc"))
    assert sorted(ids(pages)) == sorted(r.identifier for r in records)


def test_from_until_in_seconds_granularity(client, server):
    since = datetime(2024, 3, 1, 0, 5, 0, tzinfo=UTC)
    pages = list(client.list_records("oai_dc", from_=since, until="2024-03-01T00:09:00Z",
                                     granularity=SECONDS))
    assert len(ids(pages)) == 5
    assert server.requests[0][1]["from"] == "2024-03-01T00:05:00Z"


def test_from_in_day_granularity(fast_transport, make_records):
    recs = make_records(5)
    with OAIDevServer(recs, granularity="day") as srv:
        c = OAIClient(srv.url, transport=fast_transport)
        info = c.identify()
        pages = list(c.list_records("oai_dc", from_="2024-03-01T10:00:00Z",
                                    granularity=info.granularity))
        assert srv.requests[-1][1]["from"] == "2024-03-01"  # never seconds to a day repo
        assert len(ids(pages)) == 5
        # and sending seconds anyway is what the provider rejects (Dataverse#11020)
        with pytest.raises(OAIProtocolError, match="badArgument"):
            list(c.list_records("oai_dc", from_="2024-03-01T10:00:00Z", granularity=SECONDS))


def test_sets(client):
    assert len(ids(client.list_records("oai_dc", set="com_123456789_1"))) == 9
    assert len(ids(client.list_records("oai_dc", set="com_123456789_1:col_123456789_2"))) == 9
    assert len(ids(client.list_records("oai_dc", set="com_123456789_7"))) == 16


def test_no_records_match_is_empty_success(client):
    assert list(client.list_records("oai_dc", from_="2030-01-01", granularity=DAY)) == []


def test_no_records_match_on_422(fast_transport):
    with OAIDevServer([], error_status=422) as srv:
        assert list(OAIClient(srv.url, transport=fast_transport).list_records("oai_dc")) == []


def test_bad_resumption_token(client, server):
    server.inject("expire_token", resumption=True)
    pages = client.list_records("oai_dc")
    next(pages)
    with pytest.raises(BadResumptionToken) as info:
        next(pages)
    assert info.value.code == "badResumptionToken"


def test_other_oai_errors_are_clear(client):
    with pytest.raises(OAIProtocolError, match="cannotDisseminateFormat") as info:
        list(client.list_records("marc21"))
    assert info.value.code == "cannotDisseminateFormat"
    assert "unknown prefix" in str(info.value)


def test_resume_from_saved_token(client, records):
    first = next(iter(client.list_records("oai_dc")))
    rest = list(client.list_records("oai_dc", resumption_token=first.token.value))
    assert ids([first, *rest]) == [r.identifier for r in records]


def test_html_page_is_a_clear_error(client, server):
    server.inject("html")
    with pytest.raises(InvalidResponse, match="HTML page"):
        client.identify()


def test_truncated_body_is_refetched(client, server, records):
    server.inject("truncate", resumption=True)
    assert len(ids(client.list_records("oai_dc"))) == 25


def test_persistently_truncated_body_raises(client, server):
    server.inject("truncate", times=10, resumption=True)
    with pytest.raises(TruncatedResponse):
        list(client.list_records("oai_dc"))


def test_dropped_connection_and_503_mid_list(client, server):
    server.inject("drop", resumption=True)
    server.inject("unavailable", times=2, retry_after="1", resumption=True)
    assert len(ids(client.list_records("oai_dc"))) == 25


@pytest.mark.parametrize("fault", ["illegal_chars", "php_notice", "prefixed", "invalid_utf8"])
def test_quirky_pages_lose_nothing(client, server, fault):
    server.inject(fault, times=3)
    pages = list(client.list_records("oai_dc"))
    assert len(ids(pages)) == 25
    assert not any(r.problem for p in pages for r in p.records)


def test_broken_record_costs_only_itself(client, server):
    server.inject("broken_record", resumption=True)
    pages = list(client.list_records("oai_dc"))
    problems = [r for p in pages for r in p.records if r.problem]
    assert len(problems) == 1 and problems[0].identifier.endswith("/10")
    assert len(ids(pages)) == 25


def test_sickle_api_goes_through_our_transport_and_parser(client, server):
    server.inject("unavailable", retry_after="1")
    server.inject("illegal_chars", times=3)
    records = list(client.ListRecords(metadataPrefix="oai_dc"))
    assert len(records) == 25
    assert records[0].metadata["title"][0].startswith("Nghiên cứu")
    assert client.Identify().granularity == "YYYY-MM-DDThh:mm:ssZ"


def test_sickle_api_stops_on_token_loop(client, server):
    server.inject("repeat_token", times=99, resumption=True)
    assert len(list(client.ListRecords(metadataPrefix="oai_dc"))) == 20


def test_format_datestamp_converts_to_utc():
    from datetime import timedelta, timezone

    ict = timezone(timedelta(hours=7))
    assert format_datestamp(datetime(2024, 5, 1, 6, 0, tzinfo=ict), SECONDS) == (
        "2024-04-30T23:00:00Z")
    assert format_datestamp(datetime(2024, 5, 1, 6, 0, tzinfo=ict), DAY) == "2024-04-30"


# --------------------------------------------------------------------------- the devserver
# The provider itself, checked through the same transport and parser (Repository-Explorer
# style: every verb, illegal and exclusive arguments, errors, POST, gzip, schema).


def _ask(transport, server, **params):
    from harvesters.page import parse_page

    resp = transport.get(server.url, params)
    return resp, parse_page(resp.content)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"verb": "Frobnicate"}, "badVerb"),
        ({}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "foo": "1"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-02",
          "until": "2024-03-01"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-02",
          "until": "2024-03-03T00:00:00Z"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:404"},
         "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nope"}, "noRecordsMatch"),
    ],
)
def test_devserver_errors(server, fast_transport, params, code):
    resp, page = _ask(fast_transport, server, **params)
    assert resp.status == 200 and [e.code for e in page.errors] == [code]
    request = page.root.find("{http://www.openarchives.org/OAI/2.0/}request")
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # §3.2: no attributes echoed for these
    else:
        assert request.attrib


def test_devserver_repeated_argument_is_bad(server):
    import requests

    body = requests.get(server.url + "?verb=Identify&verb=Identify", timeout=5).content
    assert b'code="badArgument"' in body


def test_devserver_no_set_hierarchy(fast_transport):
    from harvesters.demo_server import DevRecord

    with OAIDevServer([DevRecord("oai:a:1", "2024-01-01T00:00:00Z", {"oai_dc": "<x/>"})]) as s:
        assert _ask(fast_transport, s, verb="ListSets")[1].errors[0].code == "noSetHierarchy"


def test_devserver_other_verbs(server, fast_transport, records):
    _, page = _ask(fast_transport, server, verb="GetRecord", metadataPrefix="oai_dc",
                   identifier=records[4].identifier)
    assert page.records[0].identifier == records[4].identifier
    _, page = _ask(fast_transport, server, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert len(page.records) == 10 and page.records[0].metadata is None
    _, page = _ask(fast_transport, server, verb="ListSets")
    specs = page.root.findall(".//{http://www.openarchives.org/OAI/2.0/}setSpec")
    assert {s.text for s in specs} == {"com_123456789_1", "com_123456789_1:col_123456789_2",
                                       "com_123456789_7"}
    _, page = _ask(fast_transport, server, verb="ListMetadataFormats")
    assert page.root.findtext(".//{http://www.openarchives.org/OAI/2.0/}metadataPrefix") == (
        "oai_dc")


def test_devserver_deleted_record_via_getrecord(server, fast_transport, records):
    server.delete(records[0].identifier)
    _, page = _ask(fast_transport, server, verb="GetRecord", metadataPrefix="oai_dc",
                   identifier=records[0].identifier)
    assert page.records[0].deleted and page.records[0].metadata is None


def test_devserver_post_equals_get(server):
    import requests

    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
    got = requests.get(server.url, params=params, timeout=5).text
    posted = requests.post(server.url, data=params, timeout=5).text
    strip = lambda t: t.split("</responseDate>", 1)[1]  # noqa: E731
    assert strip(got) == strip(posted)


def test_devserver_gzip_only_when_asked(server):
    import urllib.request

    with urllib.request.urlopen(server.url + "?verb=Identify", timeout=5) as plain:
        assert plain.headers.get("Content-Encoding") is None
        assert plain.read().startswith(b"<?xml")


def test_devserver_token_expiration_date(fast_transport, records):
    with OAIDevServer(records, page_size=10, token_ttl=3600) as srv:
        _, page = _ask(fast_transport, srv, verb="ListRecords", metadataPrefix="oai_dc")
    assert page.token.expiration_date and page.token.complete_list_size == 25


def test_devserver_changes_while_listing_move_to_the_end(server, fast_transport, records):
    from dataclasses import replace

    from harvesters.demo_server import utc_now_seconds

    pages = OAIClient(server.url, transport=fast_transport).list_records("oai_dc")
    first = next(pages)
    server.upsert(replace(records[0], datestamp=utc_now_seconds()))  # already delivered
    server.remove(records[15].identifier)  # not yet delivered
    rest = [r.identifier for p in pages for r in p.records]
    assert len(first.records) + len(rest) == 25  # 24 survivors + the changed one again
    assert rest[-1] == records[0].identifier


@pytest.mark.realdata
def test_devserver_responses_validate_against_oai_pmh_xsd(server, fast_transport, records):
    from pathlib import Path

    from lxml import etree

    xsd = Path(__file__).resolve().parents[2].parent / "shared/data/oai/schemas/OAI-PMH.xsd"
    if not xsd.exists():
        pytest.skip(f"schema absent: {xsd}")
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    server.delete(records[1].identifier)
    for params in [
        {"verb": "Identify"}, {"verb": "ListSets"}, {"verb": "ListMetadataFormats"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "com_123456789_7"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": records[1].identifier},
        {"verb": "Nope"}, {"verb": "ListRecords", "metadataPrefix": "x"},
    ]:
        body = fast_transport.get(server.url, params).content
        schema.assertValid(etree.fromstring(body))
