"""``/go/`` click-through tokens: signed, expiring, and counted once however often replayed."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from resolver import db
from resolver.usage.models import ClickLog
from resolver.views.resolve import GO_SALT
from tests.support.kb_site import HYDROLOGY, PROXY
from tests.support.pages import go_links

DOI_URL = "https://doi.org/10.1016/j.jhydrol.2019.01.001"
PAYLOAD = [DOI_URL, "fulltext", "sd", "hue", "10.1016/j.jhydrol.2019.01.001", "0022-1694",
           None, "Groundwater in the Mekong delta"]


def clicks(app) -> list[ClickLog]:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        return list(s.scalars(select(ClickLog)))


def first_link(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/resolve?" + HYDROLOGY + "&inst=hue").get_data(as_text=True)
    return go_links(html)[0]


def signed_at(app, payload: list, seconds_ago: float) -> str:  # type: ignore[no-untyped-def]
    """A token as the server signs it, but stamped ``seconds_ago``."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - seconds_ago)

    return URLSafeTimedSerializer(app.secret_key, salt=GO_SALT, signer=Then).dumps(payload)


def menu_links(html: str) -> list[str]:
    return re.findall(r'href="(/resolve\?[^"]+)"', html)


def test_replaying_one_token_counts_one_click(kb_app, kb_client):
    link = first_link(kb_client)
    for _ in range(5):
        res = kb_client.get(link)
        assert res.status_code == 302 and res.headers["Location"] == PROXY + DOI_URL
    assert len(clicks(kb_app)) == 1


def test_two_menus_give_two_tokens_and_two_clicks(kb_app, kb_client):
    # Two readers of the same item at the same library, in the same second, are two clicks.
    a, b = first_link(kb_client), first_link(kb_client)
    assert a != b
    kb_client.get(a)
    kb_client.get(b)
    assert len(clicks(kb_app)) == 2


def test_an_expired_token_gets_a_friendly_page_and_no_click(kb_app, kb_client):
    token = signed_at(kb_app, PAYLOAD, seconds_ago=2 * 24 * 3600)
    res = kb_client.get("/go/" + token)
    assert res.status_code == 410
    assert "Location" not in res.headers
    html = res.get_data(as_text=True)
    assert "hết hạn" in html  # Vietnamese by default
    # The way back: the menu of the same item, for the same library.
    back = menu_links(html)
    assert back, html
    again = kb_client.get(back[0].replace("&amp;", "&"))
    assert again.status_code == 200
    assert "Groundwater in the Mekong delta" in again.get_data(as_text=True)
    assert "Toàn văn bài viết – ScienceDirect" in again.get_data(as_text=True)
    english = kb_client.get("/go/" + token + "?lang=en")
    assert english.status_code == 410 and "expired" in english.get_data(as_text=True)
    assert clicks(kb_app) == []


def test_a_token_within_its_day_is_followed(kb_app, kb_client):
    token = signed_at(kb_app, PAYLOAD, seconds_ago=23 * 3600)
    res = kb_client.get("/go/" + token)
    assert res.status_code == 302 and res.headers["Location"] == DOI_URL


def test_the_lifetime_can_be_configured(kb_app, kb_client):
    kb_app.config["LIENHOP_GO_TOKEN_MAX_AGE"] = 60
    assert kb_client.get("/go/" + signed_at(kb_app, PAYLOAD, 120)).status_code == 410
    assert kb_client.get("/go/" + signed_at(kb_app, PAYLOAD, 10)).status_code == 302


def test_a_token_of_the_previous_version_is_treated_as_expired(kb_app, kb_client):
    # Old tokens carry no time, so there is no telling a fresh one from a years-old one.
    old = URLSafeSerializer(kb_app.secret_key, salt="lienhop.go").dumps(PAYLOAD)
    res = kb_client.get("/go/" + old + "?lang=en")
    assert res.status_code == 410 and "Location" not in res.headers
    assert "expired" in res.get_data(as_text=True)
    assert menu_links(res.get_data(as_text=True))
    assert clicks(kb_app) == []


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_signed_token_cannot_be_altered_to_go_elsewhere(kb_app, kb_client):
    token = first_link(kb_client).removeprefix("/go/")
    payload, stamp, sig = token.rsplit(".", 2)
    evil = [
        # The payload swapped for one naming another destination, signature kept.
        _b64(json.dumps(["https://evil.example/", "fulltext", "sd", "hue", None, None, None,
                         None], separators=(",", ":")).encode()) + f".{stamp}.{sig}",
        # A later timestamp (to outlive the expiry), signature kept.
        f"{payload}.{_b64(int(time.time() + 10 ** 6).to_bytes(4, 'big'))}.{sig}",
        # Someone else's signature.
        f"{payload}.{stamp}.{_b64(b'x' * 20)}",
    ]
    for bad in evil:
        res = kb_client.get("/go/" + bad)
        assert res.status_code == 400, bad
        assert "Location" not in res.headers
    assert clicks(kb_app) == []


@pytest.mark.parametrize("payload", [
    {"url": DOI_URL}, "x", [], [None], [42, "open"],
    ["javascript:alert(1)", "open"], ["//evil.example/x", "open"], ["data:text/html,hi"],
])
def test_signed_tokens_for_no_destination_we_build_are_a_clean_400(kb_app, kb_client,
                                                                   payload):
    for age in (0, 3 * 24 * 3600):
        res = kb_client.get("/go/" + signed_at(kb_app, payload, age) + "?lang=en")
        assert res.status_code == 400, (payload, age)
        assert "Location" not in res.headers
        assert "damaged" in res.get_data(as_text=True)
    assert clicks(kb_app) == []
