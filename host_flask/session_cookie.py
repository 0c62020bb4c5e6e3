"""The session cookie: Flask's signed cookie, unchanged in format and checks, with its signing
objects built once per process instead of once per request (docs/deployment.md, "Fast pages").

Flask builds a new serializer for every request, which derives the signing key from the secret
again (one HMAC) and tries its JSON serializer out; here the serializer is kept while the secret
keys stay the same, and each derived key is kept. The signature is still verified on every
request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes


@functools.lru_cache(maxsize=16)
def _derived_key(secret: bytes, salt: bytes, derivation: str, digest: Callable[..., Any]) -> bytes:
    signer = TimestampSigner(secret, salt=salt, key_derivation=derivation, digest_method=digest)
    return signer.derive_key()


class KeyCachingSigner(TimestampSigner):
    """itsdangerous' timestamp signer, deriving each key once per process."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived_key(secret, self.salt, self.key_derivation, self.digest_method)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, signed and checked the same way."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple[str | bytes, ...], URLSafeTimedSerializer] | None = None

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
        return serializer


def install(app: Flask) -> None:
    """Use :class:`CookieSessions` for ``app``'s sessions."""
    app.session_interface = CookieSessions()
