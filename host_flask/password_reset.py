"""Forgotten, reset and changed passwords (docs/security.md points 2, 4, 5, 7, 36, 37).
Routes of the ``auth`` blueprint (:mod:`host_flask.sessions`).

The reset code never travels in a URL path or query, which access logs record (point 37): the
e-mailed link carries it after ``#`` (a fragment, never sent to the server) and the page's script
``static/password-reset.js`` moves it into the form, which posts it; without JavaScript, the person
pastes the code, also printed in the e-mail, into the same form.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.hooks.results import Notification
from famille_core.services import accounts
from host_flask.access import current_user, public
from host_flask.attempts import Check, client_address, limiter
from host_flask.context import get_portal, request_uow
from host_flask.forms import Refusal, form_action
from host_flask.login import count_password_attempt
from host_flask.sessions import bp, now


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@public
def forgotten_password() -> ResponseReturnValue:
    """Mot de passe oublié: the same answer whether the address has an account or not."""
    if request.method == "POST":
        portal = get_portal()
        uow = request_uow()
        email = request.form.get("email", "").strip()
        if not EMAIL_SHAPE.fullmatch(email):
            # The form has novalidate: the browser's own English bubble never shows, this does.
            message = _("Adresse e-mail : indiquez l'adresse de votre compte, par exemple nom@exemple.fr.")
            return render_template("auth/forgotten.html", errors={"email": [message]}, email=email), 422
        settings = portal.settings.portal
        attempt = limiter().count(
            Check("reset-address", settings.login_limit, client_address()),
            Check("reset-account", settings.login_account_limit, accounts.normalise_email(email)),
        )
        if not attempt.allowed:
            abort(429)  # the same answer whether the address has an account or not
        token = accounts.request_password_reset(portal, uow, email)
        if token is not None:
            # The e-mail is only queued, with the token, in one transaction: the answer never
            # waits for the mail server nor depends on it (docs/security.md points 4 and 40).
            # The link is built on the configured address, never on the request's Host header;
            # the code rides in the fragment, which no server receives (docs/security.md point 37).
            link = f"{settings.base_url.rstrip('/')}{url_for('auth.reset_password')}#code={token}"
            portal.hook.deliver_notification(
                portal=portal,
                uow=uow,
                notification=Notification(
                    to=accounts.normalise_email(email),
                    subject=_("Réinitialisation de votre mot de passe"),
                    body=_(
                        "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, "
                        "une seule fois) :\n%(link)s\n\nSi la page vous demande un code, copiez celui-ci :\n"
                        "%(code)s\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.",
                        link=link,
                        code=token,
                    ),
                    kind="password_reset",
                ),
            )
            uow.commit()
        flash(
            _(
                "Si un compte utilise cette adresse, un e-mail vient de lui être envoyé avec un lien "
                "pour choisir un nouveau mot de passe."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgotten.html", errors={}, email="")


EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")
"""What an e-mail address looks like, before the same answer for every address."""


@bp.route("/reinitialiser-mot-de-passe", methods=["GET", "POST"])
@public
def reset_password() -> ResponseReturnValue:
    """Choose a new password with the code of an e-mailed link (posted, never in the URL)."""
    errors: dict[str | None, list[str]] = {}
    token = request.form.get("token", "").strip()
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            errors = {"confirm": [_("Les deux mots de passe ne sont pas identiques.")]}
        else:
            portal = get_portal()
            attempt = limiter().count(
                Check("reset-code", portal.settings.portal.login_limit, client_address())
            )
            if not attempt.allowed:
                abort(429)

            def refused(refusal: Refusal) -> ResponseReturnValue:
                if "token" not in refusal.errors:
                    attempt.refund()  # a right code with a refused password: not a guess
                return render_template("auth/reset.html", errors=refusal.errors, token=token), 422

            with form_action(refused):
                user = accounts.reset_password(portal, request_uow(), token, password)
            attempt.refund()
            # The owner proved who they are: strangers' failures no longer hold them back.
            limiter().clear(
                Check("login-account", portal.settings.portal.login_account_limit, user.email)
            )
            session.clear()
            flash(_("Votre mot de passe a été changé : vous pouvez vous connecter."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", errors=errors, token=token), (
        200 if not errors else 422
    )


@bp.route("/mon-mot-de-passe", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Change one's password (ends the other sessions; this one continues); a refused form lists
    every problem at once."""
    user = current_user()
    assert user is not None
    if request.method == "POST":
        attempt = count_password_attempt(user.email)  # the current password is checked

        def refused(refusal: Refusal) -> ResponseReturnValue:
            if not refusal.has("wrong_password"):
                attempt.refund()
            return render_template("auth/change_password.html", errors=refusal.errors), 422

        with form_action(refused):
            accounts.change_password(
                get_portal(),
                request_uow(),
                user,
                request.form.get("current", ""),
                request.form.get("password", ""),
                request.form.get("confirm", ""),
            )
        attempt.refund()
        session["nonce"] = user.session_nonce
        session["auth_at"] = now().isoformat()
        flash(_("Votre mot de passe a été changé."), "success")
        return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", errors={})
