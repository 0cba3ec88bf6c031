"""Conformance of /oai per verb and per error; every response is XSD-validated
(``oai_get`` and ``check`` in tests/support/oai.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from resolver.oai.provider import Query, encode_token
from tests.support.oai import NS, check, error_codes, oai_get

ID1 = "oai:lienhop.vn:hue-dspace-000001"


@pytest.fixture
def c(oai_app):  # type: ignore[no-untyped-def]
    return oai_app.test_client()


def walk(c, **params):  # type: ignore[no-untyped-def]
    """Every header/record of a list and the token elements seen."""
    verb = params["verb"]
    doc = oai_get(c, **params)
    items, tokens = [], []
    while True:
        assert not error_codes(doc), error_codes(doc)
        items += doc.findall(f"o:{verb}/o:header" if verb == "ListIdentifiers"
                             else f"o:{verb}/o:record", NS)
        tok = doc.find(f"o:{verb}/o:resumptionToken", NS)
        if tok is None or not tok.text:
            tokens.append(tok)
            return items, tokens
        tokens.append(tok)
        doc = oai_get(c, verb=verb, resumptionToken=tok.text)


def test_identify(c):
    doc = oai_get(c, verb="Identify")
    i = doc.find("o:Identify", NS)
    assert i.findtext("o:baseURL", namespaces=NS) == "http://localhost/oai"
    assert doc.find("o:request", NS).text == "http://localhost/oai"
    assert i.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert i.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert i.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert i.findtext("o:earliestDatestamp", namespaces=NS) == "2025-01-02T03:04:05Z"
    assert "Liên hợp" in i.findtext("o:repositoryName", namespaces=NS)
    assert "Consortium" in i.findtext("o:repositoryName", namespaces=NS)
    assert i.findtext("o:adminEmail", namespaces=NS) == "oai@lienhop.vn"
    rd = dt.datetime.strptime(doc.findtext("o:responseDate", namespaces=NS),
                              "%Y-%m-%dT%H:%M:%SZ")
    assert abs(rd - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=30)


@pytest.mark.parametrize("params,code", [
    ({}, "badVerb"),
    ({"verb": "Frobnicate"}, "badVerb"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": ID1}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2025-01-03",
      "until": "2025-01-02"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2025-01-01",
      "until": "2025-01-02T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2025-01-01T00:00:00"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "bad set"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
     "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "garbage"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "xoai", "identifier": ID1},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:lienhop.vn:nope"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:other:hue-dspace-000001"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:lienhop.vn:nope"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "inst:nowhere"},
     "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from_": "2030-01-01"},
     "noRecordsMatch"),
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_errors(c, params, code, method):
    doc = oai_get(c, method, **params)
    assert error_codes(doc) == [code]
    req = doc.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert dict(req.attrib) == {}  # §3.2: no echo of a request that was not valid


def test_repeated_argument_is_bad_argument(c):
    resp = c.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=mods")
    assert error_codes(check(resp.data)) == ["badArgument"]
    resp = c.get("/oai?verb=Identify&verb=Identify")
    assert error_codes(check(resp.data)) == ["badVerb"]


def test_forged_and_expired_tokens(c, oai_app):
    secret = oai_app.config["SECRET_KEY"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    q = Query(verb="ListRecords", prefix="oai_dc", last=(now, "a"), size=9, cursor=3,
              issued=now - dt.timedelta(hours=25))
    assert error_codes(oai_get(c, verb="ListRecords", resumptionToken=encode_token(q, secret))
                       ) == ["badResumptionToken"]
    q.issued = now
    good = encode_token(q, secret)
    forged = encode_token(q, "not-the-secret")
    assert error_codes(oai_get(c, verb="ListRecords", resumptionToken=forged)) == [
        "badResumptionToken"]
    # a ListRecords token is not a ListIdentifiers token
    assert error_codes(oai_get(c, verb="ListIdentifiers", resumptionToken=good)) == [
        "badResumptionToken"]


def test_request_echo_and_post_equals_get(c):
    params = dict(verb="ListIdentifiers", metadataPrefix="oai_dc", set="inst:hue")
    get, post = oai_get(c, **params), oai_get(c, "POST", **params)
    assert dict(get.find("o:request", NS).attrib) == params
    strip = lambda d: [h.findtext("o:identifier", namespaces=NS)  # noqa: E731
                       for h in d.iter(f"{{{NS['o']}}}header")]
    assert strip(get) == strip(post) and len(strip(get)) == 3


def test_list_walk_tokens_cursor_and_size(c):
    items, tokens = walk(c, verb="ListRecords", metadataPrefix="oai_dc")
    ids = [r.findtext("o:header/o:identifier", namespaces=NS) for r in items]
    assert len(ids) == len(set(ids)) == 7
    assert [t.get("cursor") for t in tokens] == ["0", "3", "6"]
    assert {t.get("completeListSize") for t in tokens} == {"7"}
    assert tokens[-1].text is None  # the last page carries an empty token
    assert all(t.get("expirationDate") for t in tokens[:-1])
    # a single-page list has no token at all
    doc = oai_get(c, verb="ListIdentifiers", metadataPrefix="oai_dc", set="inst:ctu")
    assert doc.find("o:ListIdentifiers/o:resumptionToken", NS) is None


def test_from_until_inclusive_both_granularities(c):
    for frm, until, n in [("2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z", 6),
                          ("2025-01-02T03:04:06Z", "2025-01-03T03:04:05Z", 1),
                          ("2025-01-02", "2025-01-02", 6), ("2025-01-03", "2025-01-03", 1)]:
        items, _ = walk(c, verb="ListIdentifiers", metadataPrefix="oai_dc", from_=frm,
                        until=until)
        assert len(items) == n, (frm, until)


def test_sets_filter_including_hierarchy(c):
    count = lambda s: len(walk(c, verb="ListIdentifiers", metadataPrefix="oai_dc",  # noqa: E731
                               set=s)[0])
    assert count("inst") == 7 and count("inst:hue") == 4 and count("inst:ctu") == 3
    assert count("type:thesis") == 5 and count("type:article") == 2 and count("open") == 5


def test_list_sets_bilingual(c):
    doc = oai_get(c, verb="ListSets")
    sets = {s.findtext("o:setSpec", namespaces=NS): s for s in doc.findall("o:ListSets/o:set", NS)}
    assert {"inst", "inst:hue", "inst:ctu", "type", "type:thesis", "type:conference_paper",
            "open"} <= set(sets)
    assert sets["inst:hue"].findtext("o:setName", namespaces=NS) == "Đại học Huế / Hue University"
    titles = sets["type:thesis"].findall(".//dc:title", NS)
    assert [(t.get("{http://www.w3.org/XML/1998/namespace}lang"), t.text) for t in titles] == [
        ("vi", "Luận văn"), ("en", "Thesis")]


def test_get_record_formats_and_provenance(c):
    doc = oai_get(c, verb="GetRecord", metadataPrefix="oai_dc", identifier=ID1)
    rec = doc.find("o:GetRecord/o:record", NS)
    assert rec.findtext("o:header/o:datestamp", namespaces=NS) == "2025-01-02T03:04:05Z"
    dcids = [e.text for e in rec.findall(".//dc:identifier", NS)]
    assert "https://doi.org/10.1234/x1" in dcids and "http://hdl.handle.net/123456789/1" in dcids
    o = rec.find("o:about/p:provenance/p:originDescription", NS)
    assert o.findtext("p:baseURL", namespaces=NS) == "http://hue.edu.vn/oai"
    assert o.findtext("p:identifier", namespaces=NS) == "oai:hue.edu.vn:123456789/1"
    assert o.findtext("p:datestamp", namespaces=NS) == "2024-06-01T10:00:00Z"
    mods = oai_get(c, verb="GetRecord", metadataPrefix="mods",
                   identifier="oai:lienhop.vn:ctu-dspace-000007")
    m = mods.find(".//m:mods", NS)
    assert m.findtext("m:titleInfo/m:title", namespaces=NS) == "Nghiên cứu số 7"
    assert m.findtext("m:identifier[@type='doi']", namespaces=NS) == "10.1234/x7"
    assert m.findtext("m:relatedItem[@type='host']/m:titleInfo/m:title",
                      namespaces=NS) == "Tạp chí Khoa học"
    assert m.findtext("m:part/m:detail[@type='volume']/m:number", namespaces=NS) == "3"
    # the source served MODS: the provenance says so
    assert mods.findtext(".//p:metadataNamespace", namespaces=NS) == "http://www.loc.gov/mods/v3"
    fmts = oai_get(c, verb="ListMetadataFormats", identifier=ID1)
    assert [p.text for p in fmts.iter(f"{{{NS['o']}}}metadataPrefix")] == ["oai_dc", "mods"]


def test_the_provider_raises_the_shared_server_side_error():
    import resolver.oai.provider as P
    from harvesters.protocol import ErrorCode, ErrorReply

    now = dt.datetime(2025, 1, 1)
    cases = [({"verb": ["Nope"]}, ErrorCode.BAD_VERB),
             ({"verb": ["ListRecords"]}, ErrorCode.BAD_ARGUMENT),
             ({"verb": ["ListRecords"], "resumptionToken": ["forged.x"]},
              ErrorCode.BAD_RESUMPTION_TOKEN),
             ({"verb": ["GetRecord"], "identifier": [ID1], "metadataPrefix": ["marc"]},
              ErrorCode.CANNOT_DISSEMINATE_FORMAT)]
    for params, code in cases:
        with pytest.raises(ErrorReply) as info:
            P.validate(params, secret="s", now=now, identifier_prefix="lienhop.vn")
        assert info.value.code is code
    assert P.error_xml([ErrorReply(ErrorCode.NO_RECORDS_MATCH, "a < b")]) == (
        '<error code="noRecordsMatch">a &lt; b</error>')
