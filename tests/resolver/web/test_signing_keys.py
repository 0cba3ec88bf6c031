"""resolver.web.signing.TimedTokens writes its tokens itself: with rotated keys it signs with
the newest and still reads the older ones, a salt given per call still works, and a token
signed with another key, salt or time is refused, as with stock itsdangerous."""

from __future__ import annotations

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from resolver.web.signing import TimedTokens

SALT = "lienhop.go.v2"
PAYLOAD = ["https://ezproxy.example.edu.vn/login?url=https://platform3.example.org/title/12",
           "fulltext", "pkg03", "inst042", "10.1016/j.jhydrol.2019.01.001", "0022-1694", None,
           "Groundwater in the Mekong delta: a review of Tạp chí Khoa học", 123456789]


def test_rotated_keys_sign_with_the_newest_and_read_the_older() -> None:
    rotated = TimedTokens(["old-key", "new-key"], salt=SALT)
    assert URLSafeTimedSerializer("new-key", salt=SALT).loads(rotated.dumps(PAYLOAD)) == PAYLOAD
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer("old-key", salt=SALT).loads(rotated.dumps(PAYLOAD))
    assert rotated.loads(URLSafeTimedSerializer("old-key", salt=SALT).dumps(PAYLOAD)) == PAYLOAD


def test_a_salt_given_per_call_is_used() -> None:
    ours = TimedTokens("k", salt=SALT)
    token = ours.dumps(PAYLOAD, salt="other")
    assert URLSafeTimedSerializer("k", salt="other").loads(token) == PAYLOAD
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer("k", salt=SALT).loads(token)
    assert ours.dumps(PAYLOAD, salt=SALT).rsplit(".", 2)[0] == ours.dumps(PAYLOAD).rsplit(
        ".", 2)[0]


@pytest.mark.parametrize("payload", [PAYLOAD, [], {"a": "ư"}, "x" * 5000, 0, None])
def test_tokens_read_back_with_their_time(payload: object) -> None:
    ours, stock = TimedTokens("k", salt=SALT), URLSafeTimedSerializer("k", salt=SALT)
    token = ours.dumps(payload)
    assert stock.loads(token, max_age=60) == payload == ours.loads(token, max_age=60)
    with pytest.raises(SignatureExpired):
        stock.loads(token, max_age=-1)
