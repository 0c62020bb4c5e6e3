"""Application factory."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from famille_core import ConfigurationError, Portal
from famille_core.persistence import build_sql_portal, database_url
from famille_core.settings import Settings
from host_flask import instance
from host_flask.params import BoundedIntegerConverter

log = logging.getLogger(__name__)


NO_KEY_IN_PRODUCTION = (
    "Clé secrète absente : en production, définissez la variable d'environnement "
    "FAMILLE_SECRET_KEY (ou [portal] secret_key). / Missing secret key: production needs the "
    "FAMILLE_SECRET_KEY environment variable (or [portal] secret_key)."
)


def _secret_key(settings: Settings, instance_path: Path) -> str:
    """The key that signs session cookies (docs/security.md point 6).

    In production it must be configured: a generated key would differ between hosts and be
    replaced by a redeploy, logging everyone out, so the portal refuses to start without one.
    In development a random key is kept in the instance folder (never committed).
    """
    key = os.environ.get("FAMILLE_SECRET_KEY") or settings.portal.secret_key
    if key:
        return key
    if settings.portal.production:
        raise ConfigurationError(NO_KEY_IN_PRODUCTION)
    return _instance_secret_key(instance_path / "secret_key")


def _instance_secret_key(path: Path) -> str:
    """Read the development key at ``path``, creating it atomically on first use.

    Several workers may cold-start at once: each writes a complete key to a private temporary
    file and links it to ``path``; ``os.link`` fails when ``path`` exists, so exactly one key is
    ever published and every process reads that one (never a half-written file).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".secret_key-", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(48))
            # mkstemp creates the file with mode 0600.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text(encoding="utf-8").strip()


class PortalFlask(Flask):
    """Flask, with each hook's and view's synchronous wrapper looked up once per process: Flask
    asks :func:`inspect.iscoroutinefunction` again for every hook of every request
    (docs/deployment.md, "Fast pages")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._synchronous.get(func)
        if found is None:
            found = self._synchronous[func] = super().ensure_sync(func)
        return found


def create_app(
    config: dict[str, Any] | None = None,
    *,
    portal: Portal | None = None,
    settings: Settings | None = None,
) -> Flask:
    """Build the web application.

    :param config: Flask configuration overrides (tests).
    :param portal: a ready portal (tests, integrators); otherwise one is built from the TOML file
        named by ``FAMILLE_CONFIG`` (default ``instance/famille.toml`` when it exists) and the
        database named by ``FAMILLE_DATABASE_URL``.
    :param settings: settings to build the portal from, instead of the configuration file.
    """
    instance_path = instance.instance_path()
    app = PortalFlask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.url_map.converters["int"] = BoundedIntegerConverter  # ids beyond the database's: 404
    if portal is None:
        if settings is None:
            settings = instance.current_settings(instance_path)
        portal = build_sql_portal(
            settings, database_url(settings, instance_path), instance_path=instance_path
        )
    settings = portal.settings
    app.config.update(
        SECRET_KEY=_secret_key(settings, portal.instance_path),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.portal.production,
        SESSION_COOKIE_NAME="famille_session",
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
        PREFERRED_URL_SCHEME="https" if settings.portal.production else "http",
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    if config:
        app.config.update(config)
    if settings.portal.trusted_proxies:
        # The client address (attempt limits) and scheme come from the trusted proxies' headers;
        # with none, those headers are ignored (docs/security.md point 35).
        hops = settings.portal.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from host_flask import (
        accounts_web,
        acting,
        attempts,
        auth,
        context,
        errors,
        health,
        home,
        i18n,
        logs,
        page_cache,
        pages,
        security,
    )

    context.init_app(app, portal)
    logs.init_app(app)  # first: every request gets its id (host_flask/logs.py)
    i18n.init_app(
        app, settings.portal.languages, portal.instance_path, list(portal.pm.get_plugins())
    )
    security.init_app(app)
    attempts.init_app(app)
    auth.init_app(app)
    page_cache.init_app(  # after the sessions' setup (host_flask/page_cache.py)
        app, settings.portal.page_cache_entries, settings.portal.page_cache_megabytes
    )
    errors.init_app(app)
    home.init_app(app)
    pages.init_app(app)
    health.init_app(app)
    accounts_web.init_app(app)
    acting.init_app(app)
    from host_flask import api
    from host_flask.security import csrf

    csrf.exempt(api.init_app(app, portal))  # token-authenticated: no cookie, so no CSRF
    _register_plugin_blueprints(app, portal)
    _install_theme(app, settings.portal.theme_dir)
    _start_mail_sender(app, portal)
    return app


def _start_mail_sender(app: Flask, portal: Portal) -> None:
    """``[mail] delivery = "background"``: each web process sends the mail queue from a thread,
    started at its first request (so a forked worker starts its own) and woken after each commit
    that queued e-mail. ``queue``: the web process only wakes ``famille worker`` through the task
    queue (docs/jobs.md)."""
    if portal.settings.mail.delivery == "queue":
        from famille_core.jobs import QueueWaker

        if portal.mail_sender is None:
            portal.mail_sender = QueueWaker(portal)
        return
    if portal.settings.mail.delivery != "background":
        return
    from famille_core.mail_queue import BackgroundSender

    if portal.mail_sender is None:
        portal.mail_sender = BackgroundSender(portal)
    app.before_request(portal.mail_sender.ensure_started)


def _register_plugin_blueprints(app: Flask, portal: Portal) -> None:
    for blueprints in portal.hook.register_blueprints(portal=portal):
        for blueprint in blueprints:
            if blueprint.name in app.blueprints:
                raise RuntimeError(f"two blueprints are named {blueprint.name!r}")
            app.register_blueprint(blueprint)


def _install_theme(app: Flask, theme_dir: str) -> None:
    """A collectivity's theme folder overrides any template, without a fork."""
    if not theme_dir:
        return
    loader = app.create_global_jinja_loader()
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(theme_dir), loader])
