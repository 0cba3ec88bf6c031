"""resolver.web.signing: tokens and session cookies exactly as itsdangerous and Flask make
them, so links and sessions from before an upgrade still verify, and ours verify elsewhere."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from resolver.web.signing import CookieSessions, TimedTokens

KEY, SALT = "a-secret", "lienhop.go.v2"
PAYLOADS = [
    ["https://doi.org/10.1/x", "fulltext", None, "hue", 42],  # short: sent uncompressed
    ["https://example.org/" + "abc/" * 200, "open", "Tạp chí Khoa học – Đại học Huế" * 5],
    {"nested": [1, 2.5, True, None], "text": "ư ơ đ \u202e"},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_tokens_verify_both_ways_with_itsdangerous(payload: object) -> None:
    ours, stock = TimedTokens(KEY, salt=SALT), URLSafeTimedSerializer(KEY, salt=SALT)
    assert stock.loads(ours.dumps(payload)) == payload
    assert ours.loads(stock.dumps(payload)) == payload
    value, signed = stock.loads(ours.dumps(payload), return_timestamp=True)
    assert value == payload and abs(signed.timestamp() - time.time()) < 5


def test_the_same_payload_and_second_give_the_same_token() -> None:
    ours, stock = TimedTokens(KEY, salt=SALT), URLSafeTimedSerializer(KEY, salt=SALT)
    for payload in PAYLOADS:
        for _ in range(3):  # a second may turn between the two: one of three agrees
            if ours.dumps(payload) == stock.dumps(payload):
                break
        else:
            pytest.fail(f"tokens differ for {payload!r}")


def test_another_key_or_salt_or_a_changed_token_is_refused() -> None:
    token = TimedTokens(KEY, salt=SALT).dumps(PAYLOADS[0])
    for other in (TimedTokens("another", salt=SALT), TimedTokens(KEY, salt="other"),
                  URLSafeTimedSerializer("another", salt=SALT)):
        with pytest.raises(BadSignature):
            other.loads(token)
    with pytest.raises(BadSignature):
        TimedTokens(KEY, salt=SALT).loads(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(SignatureExpired):
        TimedTokens(KEY, salt=SALT).loads(token, max_age=-1)


def test_one_serializer_signs_from_many_threads() -> None:
    ours, stock = TimedTokens(KEY, salt=SALT), URLSafeTimedSerializer(KEY, salt=SALT)
    tokens: list[str] = []

    def sign() -> None:
        for i in range(200):
            tokens.append(ours.dumps([i]))

    threads = [threading.Thread(target=sign) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(stock.loads(t)[0] for t in tokens) == sorted(list(range(200)) * 4)


def session_app(key: str, fallbacks: list[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.secret_key = key
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks or []
    app.session_interface = CookieSessions()

    @app.get("/set")
    def set_value() -> str:
        session["who"] = "hue"
        return "set"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("who"))

    return app


def test_session_cookies_are_flasks_own() -> None:
    ours, stock = session_app(KEY), session_app(KEY)
    stock.session_interface = Flask.session_interface
    for writer, reader in ((ours, stock), (stock, ours), (ours, ours)):
        client = writer.test_client()
        client.get("/set")
        cookie = client.get_cookie("session")
        assert cookie is not None
        other = reader.test_client()
        other.set_cookie("session", cookie.value)
        assert other.get("/get").get_data(as_text=True) == "hue"


def test_a_new_secret_key_refuses_old_sessions_unless_kept_as_a_fallback() -> None:
    app = session_app(KEY)
    client = app.test_client()
    client.get("/set")
    assert client.get("/get").get_data(as_text=True) == "hue"
    app.secret_key = "rotated"
    assert client.get("/get").get_data(as_text=True) == "None"
    client.get("/set")
    app.secret_key = "rotated-again"
    app.config["SECRET_KEY_FALLBACKS"] = ["rotated"]
    assert client.get("/get").get_data(as_text=True) == "hue"
