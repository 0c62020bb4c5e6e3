"""Login, second-factor step and re-authentication (docs/security.md points 1, 3, 4, 7, 8, 35,
36). Routes of the ``auth`` blueprint (:mod:`host_flask.sessions`).

Every password or code typed here is counted by the attempt limiter (:mod:`host_flask.attempts`)
**before** it is checked:

* a password (login, ``/connexion/confirmer``, the current password of ``/mon-mot-de-passe``)
  counts against the client address (``login_limit``) and against the account
  (``login_account_limit``) — or, in a browser that logged in to that account before, against its
  device cookie instead of the account (:mod:`host_flask.known_devices`). A right password gives
  its attempt back;
* a second-factor code counts against the account (``second_factor_limit``); the last wrong code
  the limit allows ends the pending login and e-mails the owner.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.entities import User
from famille_core.services import accounts
from host_flask import known_devices
from host_flask import second_factor as second_factor_service
from host_flask.access import current_user, public
from host_flask.attempts import Attempt, Check, client_address, limiter
from host_flask.context import get_portal, request_uow
from host_flask.sessions import bp, now, safe_next, start_session

log = logging.getLogger(__name__)


def password_checks(email: str) -> list[Check]:
    """The limits a password typed for the account of ``email`` counts against."""
    settings = get_portal().settings.portal
    device = known_devices.device_for(email)
    account = (
        Check("login-device", settings.login_account_limit, device)
        if device
        else Check("login-account", settings.login_account_limit, accounts.normalise_email(email))
    )
    return [Check("login-address", settings.login_limit, client_address()), account]


def count_password_attempt(email: str) -> Attempt:
    """Count a password attempt for ``email`` before checking it; 429 past a limit."""
    attempt = limiter().count(*password_checks(email))
    if not attempt.allowed:
        abort(429)
    return attempt


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Connexion: the same answer for unknown logins and wrong passwords."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")
        attempt = count_password_attempt(email)
        uow = request_uow()
        user = accounts.authenticate(get_portal(), uow, email, request.form.get("password", ""))
        if user is not None:
            uow.commit()
            attempt.refund()
            target = safe_next(request.args.get("next"))
            if user.totp_secret:
                session.clear()
                session["pending_uid"] = user.id
                session["pending_nonce"] = user.session_nonce
                session["pending_at"] = now().isoformat()
                return redirect(url_for("auth.second_factor", next=target))
            start_session(user)
            known_devices.remember(user)
            return redirect(target or url_for("home.index"))
        error = _("Identifiant ou mot de passe incorrect.")
    return render_template("auth/login.html", error=error, email=email)


@bp.route("/connexion/confirmer", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    """Type one's password again before a sensitive change (docs/security.md point 7)."""
    user = current_user()
    assert user is not None
    error = None
    target = safe_next(request.args.get("next"))
    if request.method == "POST":
        attempt = count_password_attempt(user.email)
        uow = request_uow()
        if accounts.authenticate(get_portal(), uow, user.email, request.form.get("password", "")):
            uow.commit()
            attempt.refund()
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
        portal = get_portal()
        attempt = limiter().count(
            Check("second-factor", portal.settings.portal.second_factor_limit, str(user.id))
        )
        if attempt.allowed and second_factor_service.verify(
            portal, user, request.form.get("code", "")
        ):
            request_uow().commit()
            attempt.clear()
            start_session(user)
            known_devices.remember(user)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        if not attempt.allowed or attempt.last:
            return _end_pending_login(user, notify=attempt.last)
        error = _("Code incorrect ou expiré.")
    return render_template("auth/second_factor.html", error=error)


def _end_pending_login(user: User, *, notify: bool) -> ResponseReturnValue:
    """Too many wrong codes: back to the password step; the owner hears of it once (the attempt
    that reached the limit), since whoever typed them knew the password."""
    session.clear()
    log.warning("second factor attempts exhausted", extra={"user_id": user.id})
    if notify:
        uow = request_uow()
        accounts.security_notice(
            get_portal(),
            uow,
            user,
            "plusieurs codes de double authentification erronés ont été saisis après votre mot "
            "de passe, et la connexion a été refusée",
        )
        uow.commit()
    flash(
        _(
            "Trop de codes erronés : la connexion est annulée. Reconnectez-vous avec votre mot de "
            "passe dans quelques minutes."
        ),
        "error",
    )
    return redirect(url_for("auth.login"))


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
