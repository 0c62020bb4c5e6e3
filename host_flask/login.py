"""Login, second factor step and re-authentication (security.md points 1, 3, 4, 7, 8).

Routes of the ``auth`` blueprint (:mod:`host_flask.auth`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from famille_core.entities import User
from famille_core.services import accounts
from host_flask import second_factor as second_factor_service
from host_flask.access import current_user, public
from host_flask.app import get_portal
from host_flask.auth import bp, now, safe_next, start_session
from host_flask.uow import request_uow

log = logging.getLogger(__name__)


def _login_failed(response: Any) -> bool:
    """Only failed attempts count towards the login limits."""
    return bool(getattr(response, "status_code", 200) == 200 and request.method == "POST")


def _reauth_failed(response: Any) -> bool:
    return bool(getattr(response, "status_code", 200) == 422)


def _account_key() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))


def _ip_limit() -> str:
    return str(get_portal().settings.portal.login_limit)


def _account_limit() -> str:
    return str(get_portal().settings.portal.login_account_limit)


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Connexion: the same answer for unknown logins and wrong passwords."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        portal = get_portal()
        uow = request_uow()
        user = accounts.authenticate(portal, uow, email, password)
        if user is not None:
            uow.commit()
            target = safe_next(request.args.get("next"))
            if user.totp_secret:
                session.clear()
                session["pending_uid"] = user.id
                session["pending_nonce"] = user.session_nonce
                session["pending_at"] = now().isoformat()
                return redirect(url_for("auth.second_factor", next=target))
            start_session(user)
            return redirect(target or url_for("home.index"))
        error = _("Identifiant ou mot de passe incorrect.")
    return render_template("auth/login.html", error=error, email=email)


@bp.route("/connexion/confirmer", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    """Type one's password again before a sensitive change (security.md point 7)."""
    user = current_user()
    assert user is not None
    error = None
    target = safe_next(request.args.get("next"))
    if request.method == "POST":
        uow = request_uow()
        if accounts.authenticate(get_portal(), uow, user.email, request.form.get("password", "")):
            uow.commit()
            session["auth_at"] = now().isoformat()
            return redirect(target or url_for("home.index"))
        error = _("Mot de passe incorrect.")
    return render_template("auth/confirm.html", error=error), 200 if error is None else 422


SECOND_FACTOR_WINDOW = timedelta(minutes=5)


@bp.route("/connexion/code", methods=["GET", "POST"])
@public
def second_factor() -> ResponseReturnValue:
    """Second step of the login for users with a TOTP application."""
    uid, started = session.get("pending_uid"), session.get("pending_at")
    user = request_uow().get(User, int(uid)) if uid is not None else None
    if (
        user is None
        or not started
        or session.get("pending_nonce") != user.session_nonce
        or now() - datetime.fromisoformat(started) > SECOND_FACTOR_WINDOW
    ):
        session.clear()
        flash(_("Veuillez vous reconnecter."), "info")
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        if second_factor_service.verify(get_portal(), user, request.form.get("code", "")):
            request_uow().commit()
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        request_uow().commit()
        error = _("Code incorrect ou expiré.")
    return render_template("auth/second_factor.html", error=error)


@bp.route("/securite/double-authentification", methods=["GET", "POST"])
def second_factor_setup() -> ResponseReturnValue:
    """Enrol an authenticator application (TOTP)."""
    user = current_user()
    assert user is not None
    portal = get_portal()
    if user.totp_secret:
        return render_template("auth/second_factor_setup.html", enabled=True)
    secret = session.get("totp_setup") or second_factor_service.new_secret()
    session["totp_setup"] = secret
    error = None
    if request.method == "POST":
        if second_factor_service.enable(portal, user, secret, request.form.get("code", "")):
            request_uow().commit()
            session.pop("totp_setup", None)
            flash(_("La double authentification est activée."), "success")
            return redirect(url_for("home.index"))
        error = _("Code incorrect : vérifiez l'heure de votre téléphone et recommencez.")
    uri = second_factor_service.provisioning_uri(portal, user, secret)
    return render_template(
        "auth/second_factor_setup.html",
        enabled=False,
        secret=secret,
        qr=second_factor_service.qr_svg(uri),
        error=error,
    ), 200 if error is None else 422


def init_app(app: Flask) -> None:
    """Login throttling keyed on the IP **and** the account; only failures count.

    One limiter per application (its counters live in memory: run one process per portal, or give
    ``RATELIMIT_STORAGE_URI`` a shared store such as Redis).
    """
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
        strategy="moving-window",
    )
    view: Any = app.view_functions["auth.login"]
    view = limiter.limit(_ip_limit, methods=["POST"], deduct_when=_login_failed)(view)
    view = limiter.limit(
        _account_limit, key_func=_account_key, methods=["POST"], deduct_when=_login_failed
    )(view)
    app.view_functions["auth.login"] = view
    # Reset requests are throttled by address too: they send e-mail.
    reset_view: Any = app.view_functions["auth.forgotten_password"]
    app.view_functions["auth.forgotten_password"] = limiter.limit(_ip_limit, methods=["POST"])(
        reset_view
    )
    # Confirming one's password is guessing too: same limits as the login.
    confirm_view: Any = app.view_functions["auth.confirm_password"]
    app.view_functions["auth.confirm_password"] = limiter.limit(
        _ip_limit, methods=["POST"], deduct_when=_reauth_failed
    )(confirm_view)
    app.extensions["famille_limiter"] = limiter


