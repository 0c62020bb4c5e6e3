"""The agents' account pages, "Comptes" (``/gestion/comptes``): search, state, "Inviter",
re-inviting, printing letters, unlocking, deactivating, ending sessions, creating agents.

The rules and the access check (administrators and ``[portal] account_services``; anyone else
gets 404) live in :mod:`famille_core.services.account_admin` (docs/security.md point 12); the
page only adds what the host owns: the attempt limiter, whose counts make an account
"verrouillé" and which "Déverrouiller" clears.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.entities import Family, Role, User
from famille_core.services import account_admin, invitations
from famille_core.services.account_admin import AccountState
from famille_core.uow import In
from host_flask.access import agents_only, current_actor
from host_flask.attempts import Check, limiter
from host_flask.context import get_portal, request_uow
from host_flask.forms import Refusal, Refused, form_action
from host_flask.letters import letters_pdf

bp = Blueprint("accounts", __name__, url_prefix="/gestion/comptes")


def _lock_checks(user: User) -> list[Check]:
    """The attempt counters that keep ``user`` out when full (docs/security.md points 3, 36)."""
    settings = get_portal().settings.portal
    return [
        Check("login-account", settings.login_account_limit, user.email),
        Check("second-factor", settings.second_factor_limit, str(user.id)),
    ]


def _state(user: User) -> AccountState:
    locked = user.is_active and not user.is_invited and any(
        limiter().exceeded(check) for check in _lock_checks(user)
    )
    return account_admin.state_of(user, locked=locked)


@bp.route("/")
@agents_only
def index() -> ResponseReturnValue:
    """Comptes: search by name, address or household."""
    portal = get_portal()
    uow = request_uow()
    text = request.args.get("q", "")[:100]
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 6 else 1
    users, total = account_admin.search(portal, uow, current_actor(), text, number)
    family_ids = [user.family_id for user in users if user.family_id is not None]
    families = {f.id: f for f in uow.find(Family, id=In(family_ids))} if family_ids else {}
    rows = [(user, _state(user), families.get(user.family_id)) for user in users]
    return render_template(
        "accounts/index.html",
        rows=rows,
        q=text,
        total=total,
        page=number,
        pages=max(1, -(-total // account_admin.PAGE_SIZE)),
        is_admin=current_actor().role is Role.ADMIN,
        has_address=invitations.has_address,
    )


@bp.route("/inviter", methods=["GET", "POST"])
@agents_only
def invite() -> ResponseReturnValue:
    """Inviter: every household without an active login (GET shows what would happen)."""
    portal = get_portal()
    actor = current_actor()
    account_admin.require_account_manager(portal, actor)
    done = request.method == "POST"
    summary = invitations.invite_families(portal, actor, dry_run=not done)
    return render_template("accounts/invite.html", summary=summary, done=done)


@bp.route("/courriers", methods=["POST"])
@agents_only
def letters() -> ResponseReturnValue:
    """Courriers à imprimer: new codes for every account waiting for a letter, as one PDF."""
    portal = get_portal()
    uow = request_uow()
    actor = current_actor()
    account_admin.require_account_manager(portal, actor)
    issued = invitations.reissue_letters(portal, uow, actor)
    if not issued:
        flash(_("Aucun courrier à imprimer."), "info")
        return redirect(url_for("accounts.invite"))
    account_admin.record_letters(portal, uow, actor, len(issued))
    pdf = letters_pdf(portal, uow, issued)
    uow.commit()
    return _pdf(pdf, "courriers-activation.pdf")


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/<int:user_id>")
@agents_only
def show(user_id: int) -> ResponseReturnValue:
    """One account: its state, its history (with each agent's name) and the actions."""
    portal = get_portal()
    uow = request_uow()
    actor = current_actor()
    user = account_admin.account_for(portal, uow, actor, user_id)
    family = uow.get(Family, user.family_id) if user.family_id is not None else None
    return render_template(
        "accounts/show.html",
        user=user,
        state=_state(user),
        family=family,
        history=account_admin.history(portal, uow, actor, user_id),
        actions=account_admin.ACTIONS,
        by_letter=not invitations.has_address(user),
        own=user.id == actor.user_id,
    )


def _back(user_id: int) -> ResponseReturnValue:
    return redirect(url_for("accounts.show", user_id=user_id))


def _refused_to(user_id: int) -> Refused:
    def refused(refusal: Refusal) -> ResponseReturnValue:
        for message in refusal.messages:
            flash(message, "error")
        return _back(user_id)

    return refused


@bp.route("/<int:user_id>/inviter", methods=["POST"])
@agents_only
def reinvite(user_id: int) -> ResponseReturnValue:
    """Renvoyer l'invitation (a letter's account: the PDF of its new code)."""
    portal = get_portal()
    uow = request_uow()
    with form_action(_refused_to(user_id)):
        invitation = account_admin.reinvite(portal, uow, current_actor(), user_id)
        pdf = letters_pdf(portal, uow, [invitation]) if invitation.by_letter else None
    if pdf is not None:
        return _pdf(pdf, f"courrier-activation-{user_id}.pdf")
    flash(_("Une nouvelle invitation a été envoyée ; la précédente ne fonctionne plus."), "success")
    return _back(user_id)


def _simple_action(name: str, message: str) -> None:
    """A POST route ``/<id>/<path>`` that calls ``account_admin.<name>`` and says ``message``."""
    action = getattr(account_admin, name)

    def view(user_id: int) -> ResponseReturnValue:
        with form_action(_refused_to(user_id)):
            user = action(get_portal(), request_uow(), current_actor(), user_id)
            if name == "record_unlock":
                limiter().clear(*_lock_checks(user))
        flash(_(message), "success")
        return _back(user_id)

    view.__name__ = name
    view.__doc__ = message
    bp.add_url_rule(f"/<int:user_id>/{PATHS[name]}", name, agents_only(view), methods=["POST"])


PATHS = {
    "record_unlock": "deverrouiller",
    "deactivate": "desactiver",
    "reactivate": "reactiver",
    "end_sessions": "fin-des-sessions",
}
_simple_action("record_unlock", "Le compte est déverrouillé.")
_simple_action("deactivate", "Le compte est désactivé : ses sessions sont terminées.")
_simple_action("reactivate", "Le compte est réactivé.")
_simple_action("end_sessions", "Toutes les sessions de ce compte sont terminées.")


@bp.route("/agents/nouveau", methods=["GET", "POST"])
@agents_only
def new_agent() -> ResponseReturnValue:
    """Créer un compte agent (administrators): the agent chooses a password from the e-mail."""
    portal = get_portal()
    actor = current_actor()
    account_admin.require_admin(actor)
    form = {name: request.form.get(name, "")[:254] for name in ("email", "display_name", "service", "role")}
    if request.method == "POST":

        def refused(refusal: Refusal) -> ResponseReturnValue:
            return render_template("accounts/new_agent.html", form=form, errors=refusal.errors), 422

        role = Role.ADMIN if form["role"] == "admin" else Role.AGENT
        with form_action(refused):
            invitation = account_admin.create_agent(
                portal,
                request_uow(),
                actor,
                email=form["email"],
                display_name=form["display_name"],
                role=role,
                service=form["service"],
            )
        flash(_("Le compte est créé : une invitation a été envoyée à l'agent."), "success")
        return _back(invitation.user.id or 0)
    return render_template("accounts/new_agent.html", form=form, errors={})


def init_app(app: Flask) -> None:
    """Register the "Comptes" pages."""
    app.register_blueprint(bp)
