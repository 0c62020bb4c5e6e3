"""Agents' pages of the billing plugin (``/gestion/paiements/…``): *Trop-perçus* to refund
and *Paiements à vérifier*. Views stay thin: :mod:`.agents` checks the role, audits, and tells
the household."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.errors import Conflict
from famille_plugins.billing.services import agents
from host_flask.toolkit import agents_only, current_actor, get_portal, request_uow

bp = Blueprint(
    "billing_agents", __name__, url_prefix="/gestion/paiements", template_folder="templates"
)


@bp.get("/trop-percus")
@agents_only
def overpayments() -> ResponseReturnValue:
    """Money received beyond an invoice's total: what to refund, to whom."""
    to_refund, refunded = agents.overpayments(get_portal(), request_uow(), current_actor())
    return render_template(
        "billing/agents/overpayments.html", to_refund=to_refund, refunded=refunded
    )


@bp.post("/trop-percus/<int:overpayment_id>/rembourse")
@agents_only
def refunded(overpayment_id: int) -> ResponseReturnValue:
    """Mark one overpayment refunded (audited; the household is told)."""
    uow = request_uow()
    try:
        agents.mark_refunded(get_portal(), uow, current_actor(), overpayment_id)
        uow.commit()
    except Conflict as exc:
        uow.rollback()
        flash(_(exc.message), "error")
    else:
        flash(_("Le trop-perçu est marqué remboursé ; la famille est prévenue."), "success")
    return redirect(url_for("billing_agents.overpayments"), 303)


@bp.get("/a-verifier")
@agents_only
def to_check() -> ResponseReturnValue:
    """Payments an agent must check against the régie's statement."""
    waiting, late = agents.to_check(get_portal(), request_uow(), current_actor())
    return render_template("billing/agents/to_check.html", waiting=waiting, late=late)


@bp.post("/a-verifier/<int:transaction_id>")
@agents_only
def decide(transaction_id: int) -> ResponseReturnValue:
    """Confirm (found on the statement: paid) or reject (not found: refused); audited."""
    choice = request.form.get("decision")
    if choice not in ("confirmer", "rejeter"):
        flash(_("Choisissez de confirmer ou de rejeter le paiement."), "error")
        return redirect(url_for("billing_agents.to_check"), 303)
    uow = request_uow()
    try:
        agents.decide(
            get_portal(), uow, current_actor(), transaction_id, confirm=choice == "confirmer"
        )
        uow.commit()
    except Conflict as exc:
        uow.rollback()
        flash(_(exc.message), "error")
    else:
        flash(
            _("Le paiement est confirmé et la facture créditée.")
            if choice == "confirmer"
            else _("Le paiement est rejeté ; la famille est prévenue."),
            "success",
        )
    return redirect(url_for("billing_agents.to_check"), 303)
