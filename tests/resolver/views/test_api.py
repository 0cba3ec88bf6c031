"""The JSON API: the documented contract (docs/api.md) and the page's parameters."""

from __future__ import annotations

import dataclasses

from index import Record
from tests.support.sample import EVIL, FLOOD_HUE, HOSTILE, THESIS

RESULT_KEYS = {"id", "title", "creators", "year", "type", "language", "access",
               "institutions", "identifiers", "url"}


def test_search_contract(web):
    res = web.get("/api/search?q=thu+vien+so")
    assert res.status_code == 200 and res.mimetype == "application/json"
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    body = res.get_json()
    assert {"query", "total", "page", "size", "results", "facets", "suggestions"} <= set(body)
    assert body["query"] == "thu vien so" and body["total"] == 2
    assert body["page"] == 1 and body["size"] == 20
    hit = next(r for r in body["results"] if r["id"] == THESIS.id)
    assert set(hit) == RESULT_KEYS
    assert hit == {
        "id": THESIS.id, "title": THESIS.title, "creators": THESIS.creators, "year": 2023,
        "type": "thesis", "language": "vie", "access": "open", "institutions": ["hue"],
        "identifiers": {"doi": None, "isbn": [], "issn": [], "handle": "123456789/101",
                        "url": "https://hdl.handle.net/123456789/101"},
        "url": f"http://localhost/record/{THESIS.id}",
    }
    for name in ("institution", "type", "language", "access", "year"):
        assert all(set(f) == {"value", "count"} for f in body["facets"][name])
    assert {"value": "hue", "count": 2} in body["facets"]["institution"]


def test_clusters_list_every_holding_institution(web):
    body = web.get("/api/search?q=hoc+may+du+bao+lu").get_json()
    assert body["total"] == 1
    assert sorted(body["results"][0]["institutions"]) == ["hue", "tvu"]
    assert body["results"][0]["identifiers"]["doi"] == FLOOD_HUE.doi


def test_facet_parameters_filter_like_the_page(web):
    body = web.get("/api/search?institution=nasati&type=report&year=1990-1994&sort=oldest"
                   ).get_json()
    assert body["total"] == 5
    assert [r["year"] for r in body["results"]] == [1990, 1991, 1992, 1993, 1994]
    assert body["filters"] == {"institution": ["nasati"], "type": ["report"],
                               "year": ["1990-1994"]}
    assert web.get("/api/search?language=eng&access=open").get_json()["total"] == 2


def test_year_facet_values_are_valid_year_parameters(web):
    facets = web.get("/api/search").get_json()["facets"]["year"]
    for f in facets:
        assert web.get(f"/api/search?year={f['value']}").get_json()["total"] == f["count"]


def test_paging_and_size_cap(web):
    a = web.get("/api/search?q=bao+cao&size=5&page=1&sort=title").get_json()
    b = web.get("/api/search?q=bao+cao&size=5&page=2&sort=title").get_json()
    assert len(a["results"]) == 5 and len(b["results"]) == 5
    assert not {r["id"] for r in a["results"]} & {r["id"] for r in b["results"]}
    assert web.get("/api/search?size=100000").get_json()["size"] == 100


def test_suggestions(web):
    assert web.get("/api/search?q=hoc+mayy").get_json()["suggestions"] == ["hoc may"]


def test_hostile_text_is_data_not_markup(web):
    body = web.get("/api/search?q=doc+hai").get_json()
    assert body["results"][0]["title"] == HOSTILE  # JSON carries text as it is


def test_record_has_every_field(web):
    res = web.get(f"/api/records/{EVIL.id}")
    assert res.status_code == 200
    body = res.get_json()
    fields = {f.name for f in dataclasses.fields(Record)}
    assert fields <= set(body)
    assert Record.from_dict(body) == EVIL
    assert body["url"] == f"http://localhost/record/{EVIL.id}"


def test_record_holdings(web):
    body = web.get(f"/api/records/{FLOOD_HUE.id}").get_json()
    assert {h["institution"] for h in body["holdings"]} == {"hue", "tvu"}
    assert "rft_id=info%3Adoi%2F10.26459" in body["openurl"]


def test_unknown_record_is_a_json_404(web):
    res = web.get("/api/records/nope")
    assert res.status_code == 404 and res.get_json() == {"error": "not found"}


def test_without_an_index_the_api_answers_empty(client):
    body = client.get("/api/search?q=x").get_json()
    assert body["total"] == 0 and body["results"] == []
