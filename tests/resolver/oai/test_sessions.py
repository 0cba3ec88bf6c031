"""/oai reads through the request's session, like every view, and every verb gives its
connection back to the pool — a streamed list too, once its last chunk is sent (Flask ends
the request's context after the view returns, and again after the stream)."""

from __future__ import annotations

import pytest

from resolver.web import services
from tests.support.oai import oai_get


@pytest.mark.parametrize("params", [
    {"verb": "Identify"},
    {"verb": "ListSets"},
    {"verb": "ListMetadataFormats", "identifier": "oai:lienhop.vn:hue-dspace-000001"},
    {"verb": "GetRecord", "identifier": "oai:lienhop.vn:hue-dspace-000001",
     "metadataPrefix": "oai_dc"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
])
def test_every_verb_gives_its_connection_back(oai_app, params):
    pool = services.engine(oai_app).pool
    before = pool.checkedout()
    oai_get(oai_app.test_client(), **params)
    assert pool.checkedout() == before

