"""Who is asking: inst parameter, campus IP (X-Forwarded-For only via trusted proxies),
the remembered choice, else the chooser."""

from __future__ import annotations

from tests.support.kb_site import HYDROLOGY, TRUSTED_PROXY
from tests.support.pages import csrf_token


def who(client, query: str = "", **kw) -> str | None:  # type: ignore[no-untyped-def]
    return client.get("/resolve/api?" + HYDROLOGY + query, **kw).get_json()["institution"]


def test_inst_parameter(kb_client):
    assert who(kb_client, "&inst=ctu") == "ctu"
    assert who(kb_client, "&inst=CTU") == "ctu"


def test_inst_parameter_wins_over_the_campus_network(kb_client):
    assert who(kb_client, "&inst=ctu", environ_base={"REMOTE_ADDR": "203.0.113.9"}) == "ctu"


def test_campus_ip_range(kb_client):
    assert who(kb_client, environ_base={"REMOTE_ADDR": "203.0.113.9"}) == "hue"
    assert who(kb_client, environ_base={"REMOTE_ADDR": "198.51.100.200"}) == "ctu"
    assert who(kb_client, environ_base={"REMOTE_ADDR": "192.0.2.1"}) is None


def test_x_forwarded_for_is_trusted_only_from_the_configured_proxy(kb_client):
    spoofed = who(kb_client, headers={"X-Forwarded-For": "203.0.113.9"},
                  environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert spoofed is None
    via_proxy = who(kb_client, headers={"X-Forwarded-For": "203.0.113.9"},
                    environ_base={"REMOTE_ADDR": TRUSTED_PROXY})
    assert via_proxy == "hue"
    # A client that prepends a campus address itself is still seen as the real client.
    prepended = who(kb_client, headers={"X-Forwarded-For": "203.0.113.9, 192.0.2.1"},
                    environ_base={"REMOTE_ADDR": TRUSTED_PROXY})
    assert prepended is None


def test_cookie_from_an_earlier_choice_and_ip_beats_it(kb_client):
    kb_client.set_cookie("lienhop_inst", "vnu")
    assert who(kb_client) == "vnu"
    assert who(kb_client, environ_base={"REMOTE_ADDR": "203.0.113.9"}) == "hue"
    kb_client.set_cookie("lienhop_inst", "no-such-library")
    assert who(kb_client) is None


def test_unknown_user_is_asked_to_choose_and_the_choice_is_remembered(kb_client):
    html = kb_client.get("/resolve?" + HYDROLOGY + "&lang=en").get_data(as_text=True)
    assert "We could not tell which library you belong to" in html
    assert '<select id="inst" name="inst">' in html and "Hue University" in html
    res = kb_client.post("/resolve/institution", data={
        "csrf_token": csrf_token(html), "inst": "hue", "back": HYDROLOGY})
    assert res.status_code == 303
    assert res.headers["Location"] == "/resolve?" + HYDROLOGY
    assert "lienhop_inst=hue" in res.headers["Set-Cookie"]
    assert "HttpOnly" in res.headers["Set-Cookie"]
    again = kb_client.get(res.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "You chose Hue University earlier." in again
    assert who(kb_client) == "hue"


def test_unknown_library_choice_is_refused(kb_client):
    html = kb_client.get("/resolve?" + HYDROLOGY).get_data(as_text=True)
    res = kb_client.post("/resolve/institution", data={
        "csrf_token": csrf_token(html), "inst": "nowhere", "back": HYDROLOGY})
    assert res.status_code == 400
