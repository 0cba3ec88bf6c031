"""The demo repository's fault plan (harvesters.demo_faults), without HTTP."""

from __future__ import annotations

import threading

import pytest

from harvesters.demo_faults import (
    FAULTS,
    FaultPlan,
    apply_byte_faults,
    apply_text_faults,
    canned_reply,
    rewrite_request,
    wrong_verb,
)
from harvesters.demo_server import OAIDevServer

PAGE = ('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><request verb="ListRecords">'
        "x</request><ListRecords><record><header><identifier>a</identifier></header><metadata>"
        "<dc>t</dc></metadata></record></ListRecords></OAI-PMH>")


def test_a_fault_matches_by_verb_and_resumption_after_its_skips():
    plan = FaultPlan()
    plan.inject("truncate", times=2, verb="ListRecords", resumption=True, skip=1)
    first = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    later = {"verb": "ListRecords", "resumptionToken": "t"}
    assert plan.take("ListRecords", first) == []  # not a resumption request
    assert plan.take("Identify", {"verb": "Identify"}) == []
    assert plan.take("ListRecords", later) == []  # skipped once
    assert [f.kind for f in plan.take("ListRecords", later)] == ["truncate"]
    assert [f.kind for f in plan.take("ListRecords", later)] == ["truncate"]
    assert plan.take("ListRecords", later) == []  # used up


def test_unknown_faults_are_refused_and_clear_forgets_the_rest():
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown fault"):
        plan.inject("meteor")
    plan.inject("html", times=5)
    plan.clear()
    assert plan.take("Identify", {}) == []
    assert "hold" in FAULTS and "gzip_bomb" in FAULTS


def test_canned_replies_take_the_first_injected_of_unavailable_and_html():
    plan = FaultPlan()
    plan.inject("html")
    plan.inject("unavailable", status=429, retry_after="7")
    reply = canned_reply(plan.take("Identify", {}))
    assert reply is not None and reply.status == 200 and b"<html>" in reply.body
    plan.inject("unavailable", status=429, retry_after="7")
    reply = canned_reply(plan.take("Identify", {}))
    assert reply is not None and (reply.status, reply.headers) == (429, {"Retry-After": "7"})
    assert canned_reply([]) is None


def test_request_and_answer_rewrites():
    plan = FaultPlan()
    plan.inject("expire_token", times=2)
    plan.inject("wrong_verb", as_verb="Identify")
    faults = plan.take("ListRecords", {"resumptionToken": "t"})
    assert rewrite_request(faults, {"resumptionToken": "t"}) == {"resumptionToken": "expired:t"}
    assert rewrite_request(faults, {"metadataPrefix": "x"}) == {"metadataPrefix": "x"}
    assert wrong_verb(faults) == "Identify" and wrong_verb([]) is None
    plan.inject("php_notice")
    plan.inject("illegal_chars")
    text = apply_text_faults(PAGE, plan.take("ListRecords", {}), {})
    assert text.endswith("<br />\n") and "<dc>\x03 \ufffe&#1;t</dc>" in text
    plan.inject("invalid_utf8")
    body = apply_byte_faults(PAGE.encode(), plan.take("ListRecords", {}))
    assert b"<dc>\xfft</dc>" in body
    plan.inject("truncate")
    assert apply_byte_faults(body, plan.take("ListRecords", {})) == body[: len(body) // 2]


def test_a_hold_waits_for_release():
    plan = FaultPlan()
    plan.inject("hold")
    faults = plan.take("Identify", {})
    done = threading.Event()
    worker = threading.Thread(target=lambda: (plan.wait_before_answer(faults), done.set()))
    worker.start()
    assert plan.holding.wait(5) and not done.is_set()
    plan.release()
    worker.join(5)
    assert done.is_set()


def test_a_server_that_never_started_stops_at_once():
    # Hung forever before: stop() waited for a serve_forever loop that never ran.
    server = OAIDevServer()
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive()
