"""Families' pages of the billing plugin: Factures, an invoice, "Payer en ligne", and the
routes a provider (PayFiP, the desk…) sends its answers to.

Views stay thin: the services check access, the rules and the money.
"""

from __future__ import annotations

from urllib.parse import urljoin

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from famille_core.entities import InvoiceStatus, PaymentState, PaymentTransaction
from famille_core.errors import ValidationFailed
from famille_core.hooks.results import PaymentUnavailable
from famille_core.services.payments import states
from famille_core.services.payments.starting import PaymentInFlight, resume_url
from famille_plugins.billing.services import certificates, invoices, payments
from famille_plugins.billing.services import without_account as anonymous
from famille_plugins.billing.settings import settings_of
from host_flask.toolkit import (
    Check,
    cached_page,
    client_address,
    csrf_exempt,
    current_actor,
    families_only,
    get_portal,
    limiter,
    open_to_acting_agents,
    public,
    request_uow,
)

STATE_LABELS = {
    PaymentState.PENDING: _l("Paiement en cours de vérification"),
    PaymentState.PAID: _l("Paiement accepté"),
    PaymentState.REFUSED: _l("Paiement refusé"),
    PaymentState.CANCELLED: _l("Paiement abandonné"),
    PaymentState.EXPIRED: _l("Paiement expiré"),
}


def status_label(status: InvoiceStatus, pending: bool = False) -> str:
    """The invoice's "Statut", in words."""
    if status is InvoiceStatus.PAID:
        return _("payée")
    if status is InvoiceStatus.CANCELLED:
        return _("annulée")
    return _("paiement en cours") if pending else _("à régler")


def _absolute(path: str) -> str:
    config = settings_of(get_portal())
    base = config.public_url or get_portal().settings.portal.base_url
    return urljoin(base.rstrip("/") + "/", path.lstrip("/"))


def _answer_urls(transaction_id: int) -> tuple[str, str]:
    """No secret in them (docs/security.md point 37): an access log that records them holds
    nothing usable, and an answer is only a reason to ask the provider."""
    return (
        _absolute(url_for("billing.provider_return", transaction_id=transaction_id)),
        _absolute(url_for("billing.provider_notification", transaction_id=transaction_id)),
    )


def _answer_data() -> dict[str, str]:
    """The query string and the form body together (PayFiP used both over the years)."""
    data = {key: value for key, value in request.args.items()}
    data.update({key: value for key, value in request.form.items()})
    return data


bp = Blueprint("billing", __name__, url_prefix="/factures", template_folder="templates")
"""The families' pages and the providers' answer routes. A provider whose page "Payer en
ligne" redirects to adds its origin to the CSP ``form-action`` itself (``tipi_payment``
does, for PayFiP)."""


@bp.route("/")
@open_to_acting_agents
@families_only
@cached_page
def index() -> ResponseReturnValue:
    """Factures: N°, Du, À régler avant, montant, reste à payer, statut."""
    uow = request_uow()
    listed = invoices.family_invoices(uow, current_actor())
    pending = invoices.invoices_with_pending_payment(uow, listed)
    rows = [{"invoice": i, "status": status_label(i.status, i.id in pending)} for i in listed]
    actor = current_actor()
    found = certificates.family_certificates(get_portal(), uow, actor, actor.family_id)
    return render_template(
        "billing/index.html",
        rows=rows,
        certificates=found,
        age_limit=settings_of(get_portal()).childcare_age_limit,
    )


@bp.route("/attestations/<int:year>/<int:child_id>.pdf")
@open_to_acting_agents
@families_only
def certificate(year: int, child_id: int) -> ResponseReturnValue:
    """An attestation de frais de garde (tagged PDF, download); another household's child, a
    child over the age limit or a year with nothing counted is a 404."""
    from famille_plugins.billing.services.documents_web import certificate_pdf

    if not 1900 <= year <= 2199:
        abort(404)
    portal = get_portal()
    actor = current_actor()
    found = certificates.certificate_for(
        portal, request_uow(), actor, year, child_id, actor.family_id
    )
    document = certificate_pdf(portal, found)
    return Response(
        document.content,
        mimetype=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )


@bp.route("/<int:invoice_id>")
@open_to_acting_agents
@families_only
def detail(invoice_id: int) -> ResponseReturnValue:
    """One invoice, as in the user guide, with "Payer en ligne"."""
    portal = get_portal()
    actor = current_actor()
    invoice = invoices.invoice_for(request_uow(), actor, invoice_id)
    from famille_plugins.billing.services.documents_web import invoice_context

    transactions = invoices.payment_transactions(request_uow(), invoice)
    in_flight = next((t for t in transactions if t.state is PaymentState.PENDING), None)
    # While a payment may still be paid, no second one (docs/security.md point 33).
    methods = [] if in_flight else invoices.offered_methods(portal, invoice, actor)
    now = portal.clock.now()
    return render_template(
        "billing/detail.html",
        methods=methods,
        not_online=invoices.why_not_online(portal, invoice, actor) if not methods else None,
        status=status_label(invoice.status, in_flight is not None),
        in_flight=in_flight,
        under_review=in_flight is not None and states.needs_agent(in_flight),
        resume_url=resume_url(in_flight, now) if in_flight else None,
        transactions=transactions,
        state_labels=STATE_LABELS,
        **invoice_context(portal, invoice, request_uow()),
    )


@bp.route("/<int:invoice_id>/pdf")
@open_to_acting_agents
@families_only
def pdf(invoice_id: int) -> ResponseReturnValue:
    """The invoice as a tagged PDF (download)."""
    portal = get_portal()
    invoice = invoices.invoice_for(request_uow(), current_actor(), invoice_id)
    document = portal.hook.render_invoice(portal=portal, invoice=invoice, format="pdf")
    if document is None:
        abort(404)
    return Response(
        document.content,
        mimetype=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )


@bp.route("/<int:invoice_id>/payer", methods=["POST"])
@families_only
def pay(invoice_id: int) -> ResponseReturnValue:
    """ "Payer en ligne": the transaction is stored, then the payer leaves for the provider."""
    portal = get_portal()
    method = request.form.get("method", "")
    try:
        target = payments.start_payment(portal, current_actor(), invoice_id, method, _answer_urls)
    except ValidationFailed as exc:
        for issue in exc.issues:
            flash(issue.message, "error")
        return redirect(url_for("billing.detail", invoice_id=invoice_id), 303)
    except PaymentInFlight as exc:
        if exc.resume_url:  # a second tab, the back button: continue the same payment
            return redirect(exc.resume_url, 303)
        flash(exc.message, "error")
        return redirect(url_for("billing.detail", invoice_id=invoice_id), 303)
    except PaymentUnavailable as exc:
        flash(exc.message, "error")
        return redirect(url_for("billing.detail", invoice_id=invoice_id), 303)
    if target.method.upper() == "POST":
        return render_template("billing/redirect.html", target=target)
    return redirect(target.url, 303)


@bp.route("/<int:invoice_id>/verifier", methods=["POST"])
@families_only
def check(invoice_id: int) -> ResponseReturnValue:
    """ "Vérifier maintenant": ask the provider about the pending payment, as the
    reconciliation does; the invoice page then shows the state from the database."""
    portal = get_portal()
    result = payments.check_now(portal, current_actor(), invoice_id)
    if result is None:
        pass  # nothing pending any more: the page says where the invoice stands
    elif result.state is PaymentState.PENDING:
        flash(_("Le résultat du paiement n'est pas encore connu."), "info")
    else:
        flash(
            _(
                "Le service de paiement a été interrogé : %(state)s.",
                state=str(STATE_LABELS[result.state]).lower(),
            ),
            "info",
        )
    return redirect(url_for("billing.detail", invoice_id=invoice_id), 303)


@bp.route("/paiements/<int:transaction_id>")
@families_only
def result(transaction_id: int) -> ResponseReturnValue:
    """Where the payer lands: the state **from the database**, never from the URL."""
    uow = request_uow()
    transaction: PaymentTransaction = invoices.transaction_for(uow, current_actor(), transaction_id)
    invoice = invoices.invoice_for(uow, current_actor(), transaction.invoice_id)
    return render_template(
        "billing/result.html",
        transaction=transaction,
        invoice=invoice,
        state_label=STATE_LABELS[transaction.state],
        status=status_label(invoice.status),
        under_review=states.needs_agent(transaction),
        awaits_late_answer=transaction.awaits_late_answer,
    )


# The provider posts from its own site, without the portal's CSRF token: the two answer routes
# trust nothing they receive. The most a forged request can do is make the portal ask the
# provider about that one transaction (docs/security.md points 18, 34 and 37). The second rule
# of each takes the URLs given before this version (their secret path segment is ignored: it
# no longer protects anything).
@bp.route("/paiement/<int:transaction_id>/retour", methods=["GET", "POST"])
@bp.route("/paiement/<int:transaction_id>/<token>/retour", methods=["GET", "POST"])
@public
@csrf_exempt
def provider_return(transaction_id: int, token: str = "") -> ResponseReturnValue:
    """The payer's browser comes back (PayFiP ``urlredirect``, TIPI ``urlcl``)."""
    states.handle_answer(get_portal(), transaction_id, _answer_data())
    return redirect(url_for("billing.result", transaction_id=transaction_id), 303)


@bp.route("/paiement/<int:transaction_id>/notification", methods=["POST"])
@bp.route("/paiement/<int:transaction_id>/<token>/notification", methods=["POST"])
@public
@csrf_exempt
def provider_notification(transaction_id: int, token: str = "") -> ResponseReturnValue:
    """The provider's server-to-server notification (PayFiP ``urlnotif``)."""
    states.handle_answer(get_portal(), transaction_id, _answer_data())
    return Response("OK", mimetype="text/plain")


# --------------------------------------------------------------------------- without an account
# « Payer une facture sans compte » (docs/payment.md): public pages. What the payer found and
# paid is remembered in the signed session cookie of that browser only.

FOUND = "pay_without_account"
PAID = "paid_without_account"


def _without_account_enabled() -> None:
    if not settings_of(get_portal()).without_account:
        abort(404)


@bp.app_context_processor
def _without_account_link() -> dict[str, str | None]:
    """The login page's link to « Payer une facture sans compte » (when enabled)."""
    if not has_request_context():  # an invoice rendered outside a request (PDF, ERP)
        return {}
    enabled = settings_of(get_portal()).without_account
    return {"pay_without_account_url": url_for("billing.without_account") if enabled else None}


def _without_account_urls(transaction_id: int) -> tuple[str, str]:
    return (
        _absolute(url_for("billing.without_account_return", transaction_id=transaction_id)),
        _absolute(url_for("billing.provider_notification", transaction_id=transaction_id)),
    )


@bp.route("/sans-compte", methods=["GET", "POST"])
@public
def without_account() -> ResponseReturnValue:
    """The form: the invoice's reference, its amount or the family number, an e-mail address.
    Every try is counted, per address and per reference, before anything is looked up."""
    _without_account_enabled()
    form = {name: request.form.get(name, "").strip() for name in ("reference", "proof", "email")}
    if request.method == "GET":
        return render_template("billing/without_account/form.html", form=form, errors={})
    errors: dict[str, list[str]] = {}
    if not form["reference"]:
        errors["reference"] = [_("Référence : indiquez la référence inscrite sur la facture.")]
    elif len(form["reference"]) > anonymous.MAX_REFERENCE_CHARS:
        # Longer than any stored reference: refused before it becomes an attempt counter's key.
        errors["reference"] = [
            _("Référence : %(n)d caractères au plus.", n=anonymous.MAX_REFERENCE_CHARS)
        ]
    if not form["proof"]:
        errors["proof"] = [_("Montant ou numéro de famille : indiquez l'un des deux.")]
    email_ok = 6 <= len(form["email"]) <= 80 and anonymous.EMAIL_SHAPE.fullmatch(form["email"])
    if not email_ok:
        errors["email"] = [
            _("Adresse e-mail : indiquez votre adresse, par exemple nom@exemple.fr.")
        ]
    if errors:
        return render_template("billing/without_account/form.html", form=form, errors=errors), 422
    limit = settings_of(get_portal()).without_account_limit
    attempt = limiter().count(
        Check("pay-without-account-address", limit, client_address()),
        Check(
            "pay-without-account-reference",
            limit,
            anonymous.normalise_reference(form["reference"]),
        ),
    )
    if not attempt.allowed:
        abort(429)
    found = anonymous.find_invoice(get_portal(), request_uow(), form["reference"], form["proof"])
    if found is None:
        # One answer for an unknown reference, a wrong second factor and a paid invoice.
        errors[""] = [
            _(
                "Aucune facture à régler ne correspond à cette référence et à ce montant ou "
                "numéro de famille. Vérifiez-les sur votre facture : une facture déjà payée ne "
                "peut plus être réglée."
            )
        ]
        return render_template("billing/without_account/form.html", form=form, errors=errors), 422
    attempt.refund()
    session[FOUND] = {"invoice": found.id, "email": form["email"]}
    return redirect(url_for("billing.without_account_invoice"), 303)


def _found() -> tuple[int, str] | None:
    data = session.get(FOUND)
    if not isinstance(data, dict) or not isinstance(data.get("invoice"), int):
        return None
    return data["invoice"], str(data.get("email", ""))


@bp.route("/sans-compte/facture", methods=["GET", "POST"])
@public
def without_account_invoice() -> ResponseReturnValue:
    """The invoice found: amount, due date and number only; « Payer » starts the payment."""
    _without_account_enabled()
    found = _found()
    if found is None:
        return redirect(url_for("billing.without_account"), 303)
    invoice_id, email = found
    portal = get_portal()
    if request.method == "POST":
        started: list[int] = []

        def urls(transaction_id: int) -> tuple[str, str]:
            started.append(transaction_id)
            return _without_account_urls(transaction_id)

        try:
            target = anonymous.start_payment(
                portal, invoice_id, request.form.get("method", ""), email, urls
            )
        except PaymentInFlight as exc:
            # The back button in the browser that started it continues the same payment;
            # another payer is only told (never sent to someone else's payment page).
            if exc.resume_url and exc.transaction_id in session.get(PAID, []):
                return redirect(exc.resume_url, 303)
            flash(exc.message, "error")
        except (ValidationFailed, PaymentUnavailable) as exc:
            messages = (
                [i.message for i in exc.issues]
                if isinstance(exc, ValidationFailed)
                else [exc.message]
            )
            for message in messages:
                flash(message, "error")
        else:
            paid = [t for t in session.get(PAID, []) if isinstance(t, int)][-4:]
            session[PAID] = [*paid, *started]
            if target.method.upper() == "POST":
                return render_template("billing/redirect.html", target=target)
            return redirect(target.url, 303)
        return redirect(url_for("billing.without_account_invoice"), 303)
    uow = request_uow()
    invoice = anonymous.payable_again(portal, uow, invoice_id)
    return render_template(
        "billing/without_account/invoice.html",
        invoice=invoice,
        methods=anonymous.methods(portal, uow, invoice_id) if invoice else [],
    )


@bp.route("/sans-compte/paiement/<int:transaction_id>/retour", methods=["GET", "POST"])
@public
@csrf_exempt
def without_account_return(transaction_id: int) -> ResponseReturnValue:
    """The payer's browser comes back from the provider: an answer is only a reason to ask the
    provider (docs/security.md point 37), as on the logged-in return route."""
    states.handle_answer(get_portal(), transaction_id, _answer_data())
    return redirect(url_for("billing.without_account_receipt", transaction_id=transaction_id), 303)


@bp.route("/sans-compte/paiement/<int:transaction_id>")
@public
def without_account_receipt(transaction_id: int) -> ResponseReturnValue:
    """The receipt, the state **from the database**; only in the browser that paid."""
    _without_account_enabled()
    if transaction_id not in session.get(PAID, []):
        abort(404)
    found = anonymous.receipt(request_uow(), transaction_id)
    return render_template(
        "billing/without_account/receipt.html",
        receipt=found,
        transaction_id=transaction_id,
        state_label=STATE_LABELS[found.state],
    )
