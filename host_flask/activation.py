"""Activating an invited account and changing the login address (docs/security.md points 4, 5,
7, 36, 37). Routes of the ``auth`` blueprint (:mod:`host_flask.sessions`).

"Activer mon compte" (``/activer``) takes the code of an e-mailed link — carried in the
fragment and moved into the form by ``static/password-reset.js``, as reset codes are — or the
code printed on a letter, typed by hand; every try counts against the attempt limiter. The
person chooses a password and lands on Accueil, logged in.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.services import email_change, invitations
from host_flask.access import current_actor, current_user, public, recent_login_required
from host_flask.attempts import Attempt, Check, client_address, limiter
from host_flask.context import get_portal, request_uow
from host_flask.forms import Refusal, form_action
from host_flask.sessions import bp, start_session

CODE_FIELD = "token"


def _count_code_attempt() -> Attempt:
    """Count a typed or linked code against the client address before checking it; 429 past
    the limit (docs/security.md point 36)."""
    attempt = limiter().count(
        Check("activation-code", get_portal().settings.portal.login_limit, client_address())
    )
    if not attempt.allowed:
        abort(429)
    return attempt


@bp.route("/activer", methods=["GET", "POST"])
@public
def activate() -> ResponseReturnValue:
    """Activer mon compte: the code, (for a letter) the address, and a new password."""
    errors: dict[str | None, list[str]] = {}
    token = request.form.get(CODE_FIELD, "").strip()[:200]
    email = request.form.get("email", "").strip()[:254]
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            errors = {"confirm": [_("Les deux mots de passe ne sont pas identiques.")]}
        else:
            attempt = _count_code_attempt()

            def refused(refusal: Refusal) -> ResponseReturnValue:
                if "token" not in refusal.errors:
                    attempt.refund()  # a right code with a refused password: not a guess
                return render_template(
                    "auth/activate.html", errors=refusal.errors, token=token, email=email
                ), 422

            with form_action(refused):
                user = invitations.activate(get_portal(), request_uow(), token, password, email)
            attempt.refund()
            start_session(user)
            if invitations.has_address(user):
                flash(_("Votre compte est activé. Bienvenue sur le Portail Famille !"), "success")
            else:
                flash(
                    _(
                        "Votre compte est activé. Un e-mail vient d'être envoyé à l'adresse "
                        "indiquée : ouvrez son lien pour pouvoir vous connecter avec cette adresse."
                    ),
                    "success",
                )
            return redirect(url_for("home.index"))
    return render_template("auth/activate.html", errors=errors, token=token, email=email), (
        200 if not errors else 422
    )


@bp.route("/confirmer-adresse", methods=["GET", "POST"])
@public
def confirm_email() -> ResponseReturnValue:
    """Confirm a new login address with the code of the link sent there."""
    errors: dict[str | None, list[str]] = {}
    token = request.form.get(CODE_FIELD, "").strip()[:200]
    if request.method == "POST":
        attempt = _count_code_attempt()

        def refused(refusal: Refusal) -> ResponseReturnValue:
            return render_template("auth/confirm_email.html", errors=refusal.errors, token=token), 422

        with form_action(refused):
            email_change.confirm(get_portal(), request_uow(), token)
        attempt.refund()
        flash(_("Votre nouvelle adresse est confirmée : elle sert désormais à vous connecter."), "success")
        return redirect(url_for("home.index") if current_user() else url_for("auth.login"))
    return render_template("auth/confirm_email.html", errors=errors, token=token)


@bp.route("/mon-adresse-email", methods=["GET", "POST"])
@recent_login_required
def change_email() -> ResponseReturnValue:
    """Change one's login address: confirmed from the new mailbox, the old one is told."""
    user = current_user()
    assert user is not None
    errors: dict[str | None, list[str]] = {}
    email = request.form.get("email", "").strip()[:254]
    if request.method == "POST":

        def refused(refusal: Refusal) -> ResponseReturnValue:
            return render_template("auth/change_email.html", errors=refusal.errors, email=email), 422

        with form_action(refused):
            email_change.request_change(get_portal(), request_uow(), current_actor(), user, email)
        flash(
            _(
                "Un e-mail de confirmation vient d'être envoyé à la nouvelle adresse : elle "
                "remplacera l'actuelle quand vous aurez ouvert son lien."
            ),
            "success",
        )
        return redirect(url_for("home.index"))
    current = user.email if invitations.has_address(user) else ""
    return render_template("auth/change_email.html", errors=errors, email=email, current=current)

