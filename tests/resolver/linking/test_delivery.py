"""Document delivery: a prefilled form, CSRF-protected, stored for the administrators."""

from __future__ import annotations

from sqlalchemy import select

from resolver import db
from resolver.linking.models import DeliveryRequest
from tests.support.kb_site import HYDROLOGY
from tests.support.pages import csrf_token


def requests_stored(app) -> list[DeliveryRequest]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(DeliveryRequest)))


def _form(client, query: str = HYDROLOGY) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    body = client.get("/resolve/api?" + query + "&inst=nasati").get_json()
    [delivery] = [t for t in body["targets"] if t["kind"] == "delivery"]
    location = client.get(delivery["url"].removeprefix("http://localhost")).headers["Location"]
    assert location.startswith("/resolve/delivery?")
    res = client.get(location)
    assert res.status_code == 200
    return res.get_data(as_text=True), location


def test_delivery_form_is_prefilled_and_stores_the_request(kb_app, kb_client):
    html, _ = _form(kb_client)
    assert "Groundwater in the Mekong delta" in html and "0022-1694" in html
    kev = html.split('name="kev" value="', 1)[1].split('"', 1)[0]
    inst = html.split('name="inst" value="', 1)[1].split('"', 1)[0]
    assert inst == "nasati"
    res = kb_client.post("/resolve/delivery", data={
        "csrf_token": csrf_token(html), "kev": kev.replace("&amp;", "&"), "inst": inst,
        "name": "Trần Thị Lan", "email": "lan@example.edu.vn", "note": "Cần gấp"})
    assert res.status_code == 200
    assert "Cảm ơn" in res.get_data(as_text=True)
    [req] = requests_stored(kb_app)
    assert req.status == "new" and req.requester_name == "Trần Thị Lan"
    assert req.institution == "nasati"
    assert req.citation["doi"] == "10.1016/j.jhydrol.2019.01.001"
    assert req.citation["date_iso"] == "2019" and req.citation["volume"] == "570"


def test_delivery_without_csrf_token_is_refused(kb_app, kb_client):
    res = kb_client.post("/resolve/delivery", data={
        "kev": HYDROLOGY, "name": "X", "email": "x@example.org"})
    assert res.status_code == 400
    assert requests_stored(kb_app) == []


def test_delivery_validates_what_the_user_typed(kb_app, kb_client):
    html, _ = _form(kb_client)
    res = kb_client.post("/resolve/delivery?lang=en", data={
        "csrf_token": csrf_token(html), "kev": HYDROLOGY, "name": "",
        "email": "not-an-address<script>", "note": ""})
    assert res.status_code == 400
    page = res.get_data(as_text=True)
    assert "Please give your name." in page and "valid e-mail" in page
    assert "<script>" not in page.split("<main", 1)[1]
    assert requests_stored(kb_app) == []
