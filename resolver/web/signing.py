"""Signed URL-safe tokens in itsdangerous's own format, with the per-call set-up done once.

Every ``/resolve/api`` answer signs a ``/go/`` token per target (about three), and every
request opens Flask's signed session cookie. The stock classes redo fixed work on each call:
a JSON encoder and a signer made per token, the signing key derived again, HMAC through
``hmac.py``'s Python path; and Flask builds a new cookie serializer for every request. Here
each is made once:

- :class:`TimedTokens` is ``URLSafeTimedSerializer`` with its signers made once per salt
  (derived keys kept, HMAC in one OpenSSL call) and one JSON encoder. Tokens are the same:
  one made here loads with a stock ``URLSafeTimedSerializer`` and the other way round
  (``tests/resolver/web/test_signing.py``), so links signed before an upgrade keep working.
- :class:`CookieSessions` is Flask's signed-cookie session interface with its serializer
  made once per secret key (and fallbacks) instead of once per request.
"""

from __future__ import annotations

import hmac
import json
import threading
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes
from itsdangerous.signer import HMACAlgorithm, Signer
from itsdangerous.timed import TimestampSigner

__all__ = ["CookieSessions", "TimedTokens"]

#: ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``, itsdangerous's compact
#: JSON, without making an encoder per call
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _CompactJSON:
    """itsdangerous's ``_CompactJSON`` (same text), with a ready-made encoder."""

    @staticmethod
    def loads(payload: str | bytes) -> Any:
        return json.loads(payload)

    @staticmethod
    def dumps(obj: Any, **_kwargs: Any) -> str:
        return _COMPACT_JSON(obj)


class _HMAC(HMACAlgorithm):
    """itsdangerous's HMAC, computed in one OpenSSL call (``hmac.digest``) by digest name."""

    def __init__(self, digest_method: Any = None) -> None:
        super().__init__(digest_method)
        self._name: str = self.digest_method().name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self._name)


class _Signer(TimestampSigner):
    """itsdangerous's timestamp signer, each secret key's signing key derived once (the
    derivation hashes salt and key: the same result on every call)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = None if secret_key is None else want_bytes(secret_key)
        found = self._derived.get(key)
        if found is None:
            found = self._derived[key] = super().derive_key(secret_key)
        return found


class TimedTokens(URLSafeTimedSerializer):
    """``URLSafeTimedSerializer`` (same tokens for the same key and salt), cheaper per token.

    Thread-safe: what it keeps (signers, derived keys) never changes once made.
    """

    def __init__(self, secret_key: str | bytes, salt: str | bytes | None = b"itsdangerous"
                 ) -> None:
        super().__init__(secret_key, salt=salt, serializer=_CompactJSON, signer=_Signer)
        self._signers: dict[str | bytes | None, Signer] = {}
        self._lock = threading.Lock()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is None:
            salt = self.salt
        found = self._signers.get(salt)
        if found is None:
            with self._lock:
                found = self._signers.get(salt)
                if found is None:
                    found = self.signer(self.secret_keys, salt=salt, algorithm=_HMAC())
                    self._signers[salt] = found
        return found


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the serializer made once per secret key.

    Flask makes a ``URLSafeTimedSerializer`` for every request that opens a session, which
    is every request. The same serializer is kept until ``SECRET_KEY`` or
    ``SECRET_KEY_FALLBACKS`` changes.
    """

    def __init__(self) -> None:
        self._kept: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = (keys, super().get_signing_serializer(app))
            self._kept = kept
        return kept[1]
