"""Agents' pages of the profile plugin: find a family or a child, view records, decide change
requests. Every read of tax, bank or health data is audited by the services."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.services import acting
from famille_plugins.profile.services import account, changes, decisions, fields, records, sections
from famille_plugins.profile.services.fields import mask_iban
from famille_plugins.profile.web import photo_response
from host_flask.toolkit import agents_only, current_actor, form_action, get_portal, request_uow

bp = Blueprint("profile_agents", __name__, url_prefix="/gestion/familles", template_folder="templates")


@bp.get("/")
@agents_only
def search() -> ResponseReturnValue:
    """Find a family or a child."""
    text = request.args.get("q", "")[:100]
    result = decisions.search(request_uow(), current_actor(), text)
    return render_template("profile/agents/search.html", q=text, result=result)


@bp.get("/<int:family_id>")
@agents_only
def family(family_id: int) -> ResponseReturnValue:
    """A household's records (the read of tax and bank data is audited)."""
    uow = request_uow()
    view = account.account_view(get_portal(), uow, current_actor(), family_id)
    pending: dict[tuple[str, int | None], list[object]] = {}
    for change in changes.pending_requests(uow, family_id):
        pending.setdefault((change.section, change.target_id), []).append(change)
    from famille_core.services.access import children_of

    kids = children_of(uow, family_id)
    uow.commit()  # keeps the audit records
    extras = records.extras_shown(get_portal(), uow, family_id, None, sections.FAMILY_SECTIONS)
    return render_template("profile/index.html", view=view, pending=pending, titles=sections.SECTION_TITLES,
                           mask_iban=mask_iban, kids=kids, extras=extras,
                           may_act=acting.may_act(get_portal(), current_actor()))


@bp.get("/enfants/<int:child_id>")
@agents_only
def child(child_id: int) -> ResponseReturnValue:
    """A child's record (the read of its health record is audited)."""
    uow = request_uow()
    view = account.child_view(get_portal(), uow, current_actor(), child_id)
    households = decisions.households_of(uow, child_id)
    pending: dict[tuple[str, int | None], list[object]] = {}
    for family in households:
        for change in changes.pending_requests(uow, family.id):
            pending.setdefault((change.section, change.target_id), []).append(change)
    uow.commit()  # keeps the audit record
    return render_template("profile/child.html", view=view, pending=pending, households=households,
                           titles=sections.SECTION_TITLES,
                           diets=dict(fields.SECTION_FIELDS["complementaires"][0].choices))


@bp.get("/enfants/<int:child_id>/photo.jpg")
@agents_only
def photo(child_id: int) -> ResponseReturnValue:
    """A child's photo, for agents."""
    return photo_response(child_id)


@bp.get("/demandes")
@agents_only
def requests() -> ResponseReturnValue:
    """Change requests waiting for validation."""
    pending = decisions.list_requests(request_uow(), current_actor())
    return render_template("profile/agents/requests.html", pending=pending, titles=sections.SECTION_TITLES)


@bp.route("/demandes/<int:request_id>", methods=["GET", "POST"])
@agents_only
def decide(request_id: int) -> ResponseReturnValue:
    """Look at a change request and accept or refuse it."""
    portal = get_portal()
    uow = request_uow()
    actor = current_actor()

    def page(errors: dict[str | None, list[str]]) -> ResponseReturnValue:
        change = decisions.get_request(portal, uow, actor, request_id)
        values = decisions.shown_values(portal, change)
        uow.commit()  # keeps the audit record
        return render_template("profile/agents/request.html", change=change, values=values, errors=errors,
                               titles=sections.SECTION_TITLES), (422 if errors else 200)

    if request.method == "GET":
        return page({})
    choice = request.form.get("decision")
    if choice not in ("accepter", "refuser"):
        return page({"decision": [_("Choisissez d'accepter ou de refuser la demande.")]})
    with form_action(lambda refusal: page(refusal.errors)):
        decisions.decide(portal, uow, actor, request_id, approve=choice == "accepter",
                         comment=request.form.get("comment", ""))
    flash(_("La demande est acceptée et appliquée.") if choice == "accepter" else _("La demande est refusée ; la famille est prévenue."), "success")
    return redirect(url_for("profile_agents.requests"))
