"""Secrets out of request lines before they are logged (docs/security.md point 32;
docs/deployment.md, "Logs").

Some addresses carry a secret: the private iCalendar feed (``/agenda/ical/<token>.ics``: the
token is the key to a child's agenda), a provider's answer with its ``idop``, any ``?token=`` or
``?code=``. An access log keeps them for months and is read by more people than the database, so
every request line the portal's servers log goes through :func:`scrub_url`:

* a path argument the matched route names as secret (``token``, ``…_token``, ``secret``) is
  replaced by ``***`` (:mod:`host_flask.logs` records the masked path for the request);
* any other path segment that looks like a random token (16 or more letters, digits, ``-`` or
  ``_`` with a digit, a capital or an underscore — not a French slug) is replaced too, for
  addresses no route matched;
* query values of secret-sounding names (:data:`SECRET_QUERY_NAMES`) or token-like values become
  ``***``; the fragment is dropped.

Cookies and ``Authorization`` never reach the access log at all (:mod:`host_flask.production`).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
SECRET_QUERY_NAMES = frozenset(
    {
        "token",
        "jeton",
        "code",
        "idop",
        "key",
        "cle",
        "secret",
        "password",
        "mot_de_passe",
        "signature",
        "sig",
        "state",
        "nonce",
        "auth",
        "session",
        "otp",
        "access_token",
    }
)
"""Query parameters whose value is always masked, whatever it looks like."""

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}")
_URLS = re.compile(r"(?:https?://[^\s\"'<>]+|(?<![\w/])/[^\s\"'<>]*)")


def is_secret_argument(name: str) -> bool:
    """True for a route argument that carries a secret (``token``, ``feed_token``, ``secret``)."""
    lowered = name.lower()
    return lowered in ("token", "secret", "key") or lowered.endswith(("_token", "_secret"))


def looks_like_token(value: str) -> bool:
    """True for a random-looking value: long, URL-safe, not a lowercase slug or a number."""
    if not _TOKEN.fullmatch(value) or value.isdigit():
        return False
    return any(char.isdigit() or char.isupper() or char == "_" for char in value)


def scrub_path(path: str) -> str:
    """``path`` with every token-looking segment (before its extension) masked."""
    segments = []
    for segment in path.split("/"):
        stem, dot, extension = segment.partition(".")
        if looks_like_token(unquote(stem)):
            segment = MASK + dot + extension
        segments.append(segment)
    return "/".join(segments)


def scrub_query(query: str) -> str:
    """``query`` with secret-named and token-looking values masked (the rest kept as sent)."""
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        plain = unquote(name.replace("+", " ")).strip().lower()
        if equals and (plain in SECRET_QUERY_NAMES or looks_like_token(unquote(value))):
            value = MASK
        pairs.append(name + equals + value)
    return "&".join(pairs)


def scrub_url(url: str, path: str | None = None) -> str:
    """``url`` (absolute or a path with its query) without secrets; ``path``, when given, is
    the request's path already masked by its route."""
    parts = urlsplit(url)
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            path if path is not None else scrub_path(parts.path),
            scrub_query(parts.query),
            "",
        )
    )


def scrub_text(text: str) -> str:
    """Every address in ``text`` (a request line, an error message) scrubbed."""
    return _URLS.sub(lambda match: scrub_url(match.group(0)), text)


class ScrubFilter(logging.Filter):
    """Rewrites a record's message with :func:`scrub_text` (for servers' own loggers, which
    write request lines: Werkzeug's development server, gunicorn's error log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install_filters() -> None:
    """Scrub the request lines the development server and gunicorn log (idempotent)."""
    for name in ("werkzeug", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())
