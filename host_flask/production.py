"""``famille serve --production``: the portal under gunicorn (docs/deployment.md).

* **Workers**: ``[server] workers`` sync processes (``--workers`` overrides it), each answering
  one request at a time; nothing a request must find again lives in a worker's memory (the
  attempt counters, sessions' revocation and the mail queue are in the database or Redis;
  docs/deployment.md, "Shared state").
* **Graceful restart**: ``SIGHUP`` re-reads the configuration file and replaces the workers,
  each finishing its requests within ``[server] graceful_timeout_seconds``; ``SIGTERM`` stops
  the same way.
* **Access log**: one line per request on the standard output (``[server] access_log``), in
  Apache's combined format or as JSON (``[logging] format``), with the request id, without
  secrets in the path or the query (:mod:`host_flask.log_scrub`), and without any header but a
  few harmless ones — never a cookie or an ``Authorization``.
* **Proxies**: gunicorn believes no forwarded header itself (``forwarded_allow_ips`` empty);
  ``[portal] trusted_proxies`` alone decides, through Werkzeug's ``ProxyFix`` in the app, so the
  client address of the limits and of the access log is the same.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from famille_core.errors import ConfigurationError
from famille_core.logs import JsonFormatter, RequestIdFilter
from famille_core.settings import Settings
from host_flask.log_scrub import ScrubFilter, scrub_query, scrub_url
from host_flask.logs import ENVIRON_ID, ENVIRON_PATH

ACCESS_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'
"""Apache's combined format, plus the time taken and the request id."""

KEPT_HEADERS = frozenset(
    {
        "{user-agent}i",
        "{referer}i",
        "{host}i",
        "{content-type}i",
        "{content-length}i",
        "{x-forwarded-for}i",
        "{x-forwarded-proto}i",
        "{x-request-id}i",
        "{content-type}o",
        "{content-length}o",
        "{location}o",
        "{x-request-id}o",
    }
)
"""The only header atoms a custom ``access_log_format`` may print: no cookie, no credential."""


class AccessLogger(glogging.Logger):
    """gunicorn's logger, with secrets and cookies kept out of the access log and the portal's
    log format (text or JSON) for both of its logs."""

    log_format = "text"
    """``json``: both logs as one JSON object per line (a subclass per format, see
    :func:`gunicorn_options`)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if self.log_format == "json":
                    handler.setFormatter(JsonFormatter())
                handler.addFilter(RequestIdFilter())
        if not any(isinstance(f, ScrubFilter) for f in self.error_log.filters):
            self.error_log.addFilter(ScrubFilter())

    def atoms(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get(ENVIRON_PATH)
        full_path = environ.get("SCRIPT_NAME", "") + (environ.get("PATH_INFO") or "")
        safe_path = scrub_url(full_path, path)
        query = scrub_query(environ.get("QUERY_STRING", ""))
        target = safe_path + (f"?{query}" if query else "")
        kept = {
            key: value
            for key, value in atoms.items()
            if len(key) == 1 or key in KEPT_HEADERS  # the single-letter atoms, a few headers
        }
        kept.update(
            {
                "r": f"{environ.get('REQUEST_METHOD')} {target} {environ.get('SERVER_PROTOCOL')}",
                "U": safe_path,
                "q": query,
                "f": scrub_url(str(atoms.get("f", "-"))) if atoms.get("f", "-") != "-" else "-",
                "u": "-",  # a Basic-auth user name is no business of the log
            }
        )
        for header in ("{referer}i", "{location}o"):
            if header in kept:
                kept[header] = scrub_url(str(kept[header]))
        return kept

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        safe_atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        self.access_log.info(
            self.cfg.access_log_format, safe_atoms, extra={"request_id": environ.get(ENVIRON_ID)}
        )


class JsonAccessLogger(AccessLogger):
    """:class:`AccessLogger` writing JSON lines (``[logging] format = "json"``)."""

    log_format = "json"


class ProductionServer(BaseApplication):
    """gunicorn serving :func:`host_flask.create_app`, configured from the settings."""

    def __init__(self, options: Mapping[str, Any], settings_loader: Any) -> None:
        self.overrides = dict(options)
        self.settings_loader = settings_loader
        super().__init__()

    def load_config(self) -> None:
        """Read (again, on ``SIGHUP``) the settings and apply them to gunicorn."""
        settings: Settings = self.settings_loader()
        for name, value in gunicorn_options(settings, self.overrides).items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """Build the application in each worker (after the fork: its own connections)."""
        from host_flask import create_app, logs

        settings: Settings = self.settings_loader()
        logs.configure(settings)
        return create_app()


def gunicorn_options(settings: Settings, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """gunicorn's settings from ``[server]`` and ``[logging]``, with the command's overrides."""
    server = settings.server
    options: dict[str, Any] = {
        "bind": [server.bind],
        "workers": server.workers,
        "worker_class": "sync",
        "timeout": server.timeout_seconds,
        "graceful_timeout": server.graceful_timeout_seconds,
        "accesslog": "-" if server.access_log else None,
        "access_log_format": ACCESS_FORMAT,
        "errorlog": "-",
        "loglevel": settings.logging.level.lower(),
        "logger_class": JsonAccessLogger if settings.logging.format == "json" else AccessLogger,
        "forwarded_allow_ips": "",
        "proc_name": "famille",
        "preload_app": False,
    }
    options.update({key: value for key, value in overrides.items() if value is not None})
    return options


def check_shared_state(settings: Settings) -> None:
    """Refuse a configuration whose state would differ from worker to worker or host to host."""
    limiter = os.environ.get("FAMILLE_LIMITER_STORAGE") or settings.portal.limiter_storage
    if limiter.startswith("memory"):
        raise ConfigurationError(
            "Configuration invalide — portal.limiter_storage : « memory:// » garde les compteurs "
            "dans chaque processus ; en production, laissez-le vide (la base de données) ou "
            "indiquez un serveur Redis."
        )
    if not (os.environ.get("FAMILLE_SECRET_KEY") or settings.portal.secret_key):
        raise ConfigurationError(
            "Clé secrète absente : « famille serve --production » demande la variable "
            "FAMILLE_SECRET_KEY (ou [portal] secret_key), la même sur chaque serveur."
        )


def serve(settings_loader: Any, overrides: Mapping[str, Any]) -> None:
    """Run gunicorn until it is stopped (``SIGTERM``/``SIGINT``)."""
    settings: Settings = settings_loader()
    check_shared_state(settings)
    ProductionServer(overrides, settings_loader).run()
