"""Request ids and log-safe paths of the web host (docs/deployment.md, "Logs").

Each request gets an id: the ``X-Request-ID`` the trusted reverse proxy sent (nginx's
``$request_id``; believed only with ``[portal] trusted_proxies``), else a new random one. It is
given back in the response's ``X-Request-ID``, written in every log line about the request (JSON
logs: ``request_id``) and in the access log, so one request can be followed from the proxy to the
portal's logs.

When the matched route has a secret argument (the iCalendar feed's ``token``), the request's path
with that argument masked is left in the WSGI environ for the access log
(:mod:`host_flask.log_scrub`, :mod:`host_flask.production`).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from flask import Flask, Response, current_app, has_request_context, request

from famille_core.logs import configure_logging
from famille_core.settings import Settings
from host_flask.log_scrub import MASK, install_filters, is_secret_argument

ID_HEADER = "X-Request-ID"
ENVIRON_HEADER = "HTTP_" + ID_HEADER.upper().replace("-", "_")
"""The header as the WSGI server passes it in the environ."""
ENVIRON_ID = "famille.request_id"
ENVIRON_PATH = "famille.log_path"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str | None:
    """The id of the request being answered (``None`` outside a request)."""
    if not has_request_context():
        return None
    value = request.environ.get(ENVIRON_ID)
    return str(value) if value else None


def _start() -> None:
    environ = request.environ
    incoming = environ.get(ENVIRON_HEADER, "")
    trusted = current_app.config["FAMILLE_TRUSTED_REQUEST_ID"]
    environ[ENVIRON_ID] = incoming if trusted and _VALID_ID.fullmatch(incoming) else secrets.token_hex(16)
    arguments = request.view_args
    if arguments and any(is_secret_argument(name) for name in arguments):
        path = request.script_root + request.path
        for name, value in arguments.items():
            if is_secret_argument(name):
                path = path.replace(quote(str(value), safe=""), MASK).replace(str(value), MASK)
        environ[ENVIRON_PATH] = path


def _finish(response: Response) -> Response:
    request_id = request.environ.get(ENVIRON_ID)
    if request_id:
        response.headers[ID_HEADER] = request_id
    return response


def init_app(app: Flask) -> None:
    """Give each request its id (call before any other ``before_request`` is registered: one
    that answers early, a login redirect, skips the later ones)."""
    trusted = app.extensions["famille"].settings.portal.trusted_proxies > 0
    app.config.setdefault("FAMILLE_TRUSTED_REQUEST_ID", trusted)
    app.before_request(_start)
    app.after_request(_finish)


def configure(settings: Settings) -> None:
    """Configure the process's logging for the web host (``[logging]``), request ids included,
    and scrub the servers' own request lines."""
    configure_logging(settings.logging, current_request_id)
    install_filters()
