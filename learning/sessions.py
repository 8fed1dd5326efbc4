"""Flask's signed-cookie sessions with the signing work prepared once per worker.

The cookies are byte for byte Flask's (same serializer, salt, key derivation and digest),
so sessions signed before and after this module are interchangeable. Flask builds a new
serializer for every request and itsdangerous derives the signing key from the secret
again for every signature it makes or checks; both depend only on the secret keys, so
they are kept until the keys change.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer


class _KeyCachingSigner(TimestampSigner):
    """The timed serializer's signer, deriving each secret's signing key only once."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = (secret_key if secret_key is not None else self.secret_keys[-1],
               self.salt, self.key_derivation, self.digest_method)
        derived = self._derived.get(key)
        if derived is None:
            if len(self._derived) >= 64:
                self._derived.clear()
            derived = self._derived[key] = super().derive_key(secret_key)
        return derived


class CookieSessionInterface(SecureCookieSessionInterface):
    """SecureCookieSessionInterface with one serializer per set of secret keys."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        if serializer is not None and serializer.signer is TimestampSigner:
            serializer.signer = _KeyCachingSigner
        self._serializer = (keys, serializer)
        return serializer
