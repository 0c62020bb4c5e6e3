"""Device cookies: a browser an account logged in from is not limited with strangers
(docs/security.md point 3, OWASP's "device cookies" against targeted lockout).

The per-account password limit (``[portal] login_account_limit``) exists to slow down someone
guessing one person's password from many addresses. Counted for everyone, it would let that
someone keep the owner out for good by failing ten times an hour. So a full login (password, then
the second factor if any) leaves a signed cookie in the browser; a browser that shows a valid
cookie for the account being tried counts its password attempts against **that cookie** instead of
the account's anonymous counter. The attacker, without the cookie, stays limited; the owner, with
it, gets in. The cookie is worthless elsewhere: it is signed with the portal's key, names one
account, dies with the password it was earned with, and is sent only to the login pages.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer

from famille_core.entities import User
from famille_core.services import accounts
from host_flask.context import request_uow

COOKIE = "famille_device"
LIFETIME = timedelta(days=180)
PATH = "/connexion"
"""The cookie reaches the login, second-factor and re-authentication pages only."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="famille-device-cookie")


def _password_mark(user: User) -> str:
    """Changes when the password changes: older device cookies stop counting."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def device_for(email: str) -> str | None:
    """This browser's device identifier for the account of ``email``, when it logged in to that
    account before (and its password has not changed since); ``None`` otherwise."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    user = request_uow().first(User, email=accounts.normalise_email(email))
    if user is None or data.get("user") != user.id or data.get("mark") != _password_mark(user):
        return None
    return str(data.get("device", ""))


def remember(user: User) -> None:
    """Give this browser a new device cookie for ``user`` (after a full login)."""
    value = _serializer().dumps(
        {"user": user.id, "mark": _password_mark(user), "device": secrets.token_urlsafe(16)}
    )

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(LIFETIME.total_seconds()),
            path=PATH,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
        return response
