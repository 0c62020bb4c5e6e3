"""CSRF protection and security headers on every response (docs/security.md points 16, 29, 30)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, abort, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., object])

CACHE_KEY = "famille_csp"
"""``app.extensions[CACHE_KEY]``: the policy's text, built once per process (it changes only
when :func:`add_csp_source` is called, which forgets it)."""

EXTRA_SOURCES_KEY = "famille_csp_extra"
"""``app.extensions[EXTRA_SOURCES_KEY]`` maps a CSP directive to extra sources (a payment
provider adds its origin to ``form-action``)."""


def csrf_exempt(view: F) -> F:
    """Accept POSTs to ``view`` without a CSRF token: only for requests a browser never sends
    with the portal's cookies on a person's behalf (a payment provider's server-to-server
    notification, a token-authenticated API). The view must authenticate what it receives
    some other way (docs/security.md point 16)."""
    csrf.exempt(view)
    return view


def add_csp_source(app: Flask, directive: str, source: str) -> None:
    """Allow ``source`` in the CSP ``directive`` (e.g. a payment provider in ``form-action``)."""
    app.extensions.setdefault(EXTRA_SOURCES_KEY, {}).setdefault(directive, []).append(source)
    app.extensions.pop(CACHE_KEY, None)


def content_security_policy() -> str:
    """The policy: everything from the portal itself, no inline script, no framing."""
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    for directive, sources in current_app.extensions.get(EXTRA_SOURCES_KEY, {}).items():
        directives.setdefault(directive, []).extend(sources)
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _security_headers() -> list[tuple[str, str]]:
    """Every response's headers (a view or an error handler may set its own instead)."""
    policy = current_app.extensions.get(CACHE_KEY)
    if policy is None:
        policy = current_app.extensions[CACHE_KEY] = content_security_policy()
    headers = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        # Pages show personal data: never keep them in shared caches (a download may say
        # otherwise).
        ("Cache-Control", "no-store"),
    ]
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return headers


def _headers(response: Response) -> Response:
    # One pass over the response's few headers: asking ``Headers`` for each absent name in turn
    # costs an exception apiece (docs/deployment.md, "Fast pages").
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    headers.extend([item for item in _security_headers() if item[0].lower() not in present])
    return response


def _refuse_nul_bytes() -> None:
    """A NUL byte in a form or a query is never typed by a person and cannot be stored
    (PostgreSQL refuses it): answer 400 before any view sees it."""
    environ = request.environ
    values: list[str] = []
    if environ.get("QUERY_STRING"):
        values.extend(request.args.values())
    if environ.get("CONTENT_TYPE"):  # else Werkzeug parses no form: nothing to build
        values.extend(request.form.values())
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_headers)
