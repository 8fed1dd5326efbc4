"""Flask's signed-cookie sessions with the signing work prepared once per worker.

The cookies are byte for byte Flask's (same serializer, salt, key derivation and digest),
so sessions signed before and after this module are interchangeable. Flask builds a new
serializer for every request and itsdangerous derives the signing key from the secret
again for every signature it makes or checks; both depend only on the secret keys, so
they are kept until the keys change.

A browser sends the same cookie with every request until the session changes (the login
refreshes it at most once a minute), so each worker also remembers the cookies it has
already verified: the exact cookie string, signature included, with its signing time and
contents. A remembered cookie skips the decoding, decompression and HMAC check, but not the
age check, and is forgotten when the keys change.
"""

from __future__ import annotations

import time

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

# Cookies whose values are all of these are remembered: a session holding a list or a dict
# (flashed messages) may be changed in place by the request, so it is decoded afresh.
_SCALARS = (str, int, float, bool, type(None))
VERIFIED_COOKIES_KEPT = 4096


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
    """SecureCookieSessionInterface with one serializer per set of secret keys, and the
    cookies it verified remembered (see the module's docstring)."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None
        self._verified: dict[str, tuple[int, dict]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(value)
        if known is not None:
            signed_at, data = known
            if 0 <= int(time.time()) - signed_at <= max_age:  # itsdangerous's age check
                return self.session_class(data)
            del self._verified[value]
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(item, _SCALARS) for item in data.values()):
            if len(self._verified) >= VERIFIED_COOKIES_KEPT:
                self._verified.clear()
            self._verified[value] = (int(signed_at.timestamp()), dict(data))
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # The usual request reads the session and leaves it as it was: Flask's method would
        # work out every cookie attribute and parse the Vary header to add one value to it.
        if session and not self.should_set_cookie(app, session):
            if session.accessed:
                vary = response.headers.get("Vary")
                if not vary:
                    response.headers["Vary"] = "Cookie"
                elif "cookie" not in (value.strip().lower() for value in vary.split(",")):
                    response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        if serializer is not None and serializer.signer is TimestampSigner:
            serializer.signer = _KeyCachingSigner
        self._serializer = (keys, serializer)
        self._verified.clear()  # verified with the keys that have just changed
        return serializer
