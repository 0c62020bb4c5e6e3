"""The session cookie: Flask's signed cookie, unchanged in format and checks, with its signing
objects built once per process instead of once per request (docs/deployment.md, "Fast pages").

Flask builds a new serializer for every request, which derives the signing key from the secret
again (one HMAC) and tries its JSON serializer out; here the serializer is kept while the secret
keys stay the same, and each derived key is kept.

A browser sends the same cookie, byte for byte, at every request until the portal sends a new
one (at most once a minute for a session's activity time). So each worker remembers the cookies
it verified lately (:class:`VerifiedCookies`): the same bytes under the same keys verify the same
way, and a remembered cookie skips the signature check, the base64, zlib and JSON decoding. What
the signature alone decides is still checked on every request: the cookie's age against the
session lifetime. Only cookies holding nothing but plain values (text, numbers) are remembered,
so that each request gets its own session to change; a forged or expired cookie is never
remembered. Whether the session is still valid (account active, nonce unchanged) is the session
check's business, read from the database at every request (host_flask/sessions.py).
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes

PLAIN = (str, int, float, bool, type(None))
"""The values a remembered cookie may hold (shared between requests, they must be immutable)."""


@functools.lru_cache(maxsize=16)
def _derived_key(secret: bytes, salt: bytes, derivation: str, digest: Callable[..., Any]) -> bytes:
    signer = TimestampSigner(secret, salt=salt, key_derivation=derivation, digest_method=digest)
    return signer.derive_key()


class KeyCachingSigner(TimestampSigner):
    """itsdangerous' timestamp signer, deriving each key once per process."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived_key(secret, self.salt, self.key_derivation, self.digest_method)


class VerifiedCookies:
    """The session cookies a worker verified lately, by their exact text: the serializer (hence
    the keys) that verified each, when it was signed and what it holds. Bounded: the least
    recently used go first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._cookies: OrderedDict[str, tuple[object, int, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, cookie: str, verifier: object) -> tuple[int, dict[str, Any]] | None:
        """``(signed at, data)`` of ``cookie`` if ``verifier`` verified it lately (a cookie
        remembered under other keys is not: keys can change while a request is verifying)."""
        with self._lock:
            found = self._cookies.get(cookie)
            if found is None or found[0] is not verifier:
                return None
            self._cookies.move_to_end(cookie)
            return found[1], found[2]

    def put(self, cookie: str, verifier: object, signed_at: int, data: dict[str, Any]) -> None:
        """Remember ``cookie``, verified by ``verifier``, signed at ``signed_at`` (POSIX
        seconds), holding ``data`` (ignored unless every value is plain)."""
        if not all(isinstance(value, PLAIN) for value in data.values()):
            return
        with self._lock:
            self._cookies[cookie] = (verifier, signed_at, dict(data))
            self._cookies.move_to_end(cookie)
            while len(self._cookies) > self.size:
                self._cookies.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cookies.clear()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, signed and checked the same way."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple[str | bytes, ...], URLSafeTimedSerializer] | None = None
        self.verified = VerifiedCookies()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # itsdangerous expects the current key last, after the fallbacks (as Flask gives them).
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        kept = self._serializer
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer=KeyCachingSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._serializer = (keys, serializer)
        self.verified.clear()  # verified under other keys: only memory now
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's session from the request's cookie: its signature checked, or the same text's
        earlier check remembered (:class:`VerifiedCookies`); its age checked either way."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        remembered = self.verified.get(cookie, serializer)
        if remembered is not None:
            signed_at, data = remembered
            if 0 <= int(time.time()) - signed_at <= max_age:  # itsdangerous' own age check
                return self.session_class(data)
        try:
            data, signed = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:  # forged, damaged or expired (SignatureExpired is one)
            return self.session_class()
        if isinstance(data, dict):
            self.verified.put(cookie, serializer, int(signed.timestamp()), data)
        return self.session_class(data)


def install(app: Flask) -> None:
    """Use :class:`CookieSessions` for ``app``'s sessions."""
    app.session_interface = CookieSessions()
