"""The OAI-PMH error vocabulary (harvesters.protocol), shared by the client and both servers."""

from __future__ import annotations

import pytest

from harvesters.demo_server import OAIDevServer
from harvesters.page import parse_page
from harvesters.protocol import (
    ErrorCode,
    ErrorReply,
    ReceivedError,
    echoes_request,
    error_element,
)


def test_the_codes_are_exactly_those_of_oai_pmh_2():
    assert {c.value for c in ErrorCode} == {
        "badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat",
        "idDoesNotExist", "noRecordsMatch", "noMetadataFormats", "noSetHierarchy"}
    assert ErrorCode.BAD_VERB == "badVerb" and f"{ErrorCode.BAD_VERB}" == "badVerb"


def test_only_bad_verb_and_bad_argument_hide_the_request_arguments():
    assert not echoes_request("badVerb") and not echoes_request(ErrorCode.BAD_ARGUMENT)
    assert all(echoes_request(c) for c in ErrorCode
               if c not in (ErrorCode.BAD_VERB, ErrorCode.BAD_ARGUMENT))


def test_a_server_may_only_reply_with_a_protocol_code():
    assert ErrorReply("idDoesNotExist", "x").code is ErrorCode.ID_DOES_NOT_EXIST
    with pytest.raises(ValueError):
        ErrorReply("notAnOaiCode", "x")


def test_error_element_escapes_the_message():
    xml = error_element(ErrorReply(ErrorCode.BAD_ARGUMENT, 'from > until & "x"'))
    assert xml == '<error code="badArgument">from &gt; until &amp; "x"</error>'


def test_the_client_keeps_any_code_a_repository_sends():
    body = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b"<responseDate>2024-05-01T00:00:00Z</responseDate><request>http://x/oai</request>"
            b'<error code="badVerb">no</error><error code="vendorSpecific"/></OAI-PMH>')
    errors = parse_page(body).errors
    assert errors == [ReceivedError("badVerb", "no"), ReceivedError("vendorSpecific")]
    assert str(errors[0]) == "badVerb: no" and str(errors[1]) == "vendorSpecific"


def test_the_demo_server_answers_with_the_shared_error_element():
    with OAIDevServer() as server:
        status, text, _ = server.respond({"verb": "GetRecord", "identifier": "oai:x:1",
                                          "metadataPrefix": "oai_dc"}, False)
        assert status == 200
        assert error_element(ErrorReply(ErrorCode.ID_DOES_NOT_EXIST, "no item 'oai:x:1'")) in text
        assert 'identifier="oai:x:1"' in text  # idDoesNotExist echoes the arguments
        _, text, _ = server.respond({"verb": "Nope", "x": "1"}, False)
        assert '<error code="badVerb">' in text and "<request>" in text  # badVerb does not
