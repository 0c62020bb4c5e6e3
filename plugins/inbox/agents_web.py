"""The municipality's pages of the inbox plugin (``/gestion/messages/…``): one mailbox per
service, conversations, replies signed "agent SERVICE", and the "traitée" mark."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_plugins.inbox.services import agents
from famille_plugins.inbox.services import group as group_messages
from famille_plugins.inbox.settings import settings_of
from famille_plugins.inbox.web import (
    attachment_response,
    conversation_page,
    mark_reading,
    page_number,
    reply_to,
)
from host_flask.toolkit import (
    Refusal,
    agents_only,
    current_actor,
    form_action,
    form_day,
    get_portal,
    moved_pages,
    optional_form_id,
    request_uow,
)

bp = Blueprint("inbox_agents", __name__, url_prefix="/gestion/messages", template_folder="templates")

moved_bp = moved_pages("inbox_agents_moved", "/mairie/messages", "/gestion/messages")
"""The agents' pages lived under ``/mairie/messages`` before issue 13: old links (and the
e-mails that carry them) still work."""

AGENT_PAGES = {"reply_endpoint": "inbox_agents.reply", "attachment_endpoint": "inbox_agents.attachment"}


@bp.get("/")
@agents_only
def index() -> ResponseReturnValue:
    """The mailboxes the agent reads, with the conversations still to handle."""
    pending = agents.pending_by_service(get_portal(), request_uow(), current_actor())
    if len(pending) == 1:
        return redirect(url_for("inbox_agents.mailbox", service=next(iter(pending))))
    return render_template("inbox/agents/index.html", pending=pending)


@bp.get("/service/<service>")
@agents_only
def mailbox(service: str) -> ResponseReturnValue:
    """A service's mailbox: conversations to handle (or handled, with ``?etat=traitees``)."""
    handled = request.args.get("etat") == "traitees"
    view = agents.mailbox(
        get_portal(), request_uow(), current_actor(), service, page_number(), handled=handled
    )
    return render_template("inbox/agents/mailbox.html", view=view)


@bp.get("/conversation/<int:thread_id>")
@agents_only
def conversation(thread_id: int) -> ResponseReturnValue:
    """A conversation (showing it changes nothing: see :func:`read`)."""
    return conversation_page(thread_id, agent=True, read_action=url_for("inbox_agents.read", thread_id=thread_id),
                             **AGENT_PAGES)


@bp.post("/conversation/<int:thread_id>/lu")
@agents_only
def read(thread_id: int) -> ResponseReturnValue:
    """Marquer comme lu (``lu=1``, sent by the page itself once shown) or non lu (``lu=0``)."""
    return mark_reading(
        thread_id,
        done=lambda thread, read: url_for("inbox_agents.conversation", thread_id=thread_id)
        if read else url_for("inbox_agents.mailbox", service=thread.service),
    )


@bp.post("/conversation/<int:thread_id>/repondre")
@agents_only
def reply(thread_id: int) -> ResponseReturnValue:
    """Answer the family, signed with the agent's name and service."""
    return reply_to(
        thread_id,
        done=lambda _message_id: url_for("inbox_agents.conversation", thread_id=thread_id),
        agent=True,
        **AGENT_PAGES,
    )


@bp.post("/conversation/<int:thread_id>/traitee")
@agents_only
def handled(thread_id: int) -> ResponseReturnValue:
    """Mark a conversation handled, or reopen it (``handled=0``)."""
    value = request.form.get("handled", "1")
    if value not in ("0", "1"):
        abort(400)

    def refused(refusal: Refusal) -> ResponseReturnValue:
        for message in refusal.messages:
            flash(message, "error")
        return redirect(url_for("inbox_agents.conversation", thread_id=thread_id))

    with form_action(refused):
        thread = agents.set_handled(get_portal(), request_uow(), current_actor(), thread_id, value == "1")
    if thread.handled:
        flash(_("La conversation est marquée comme traitée."), "success")
    else:
        flash(_("La conversation est de nouveau à traiter."), "success")
    return redirect(url_for("inbox_agents.mailbox", service=thread.service))


@bp.get("/pieces-jointes/<int:attachment_id>")
@agents_only
def attachment(attachment_id: int) -> ResponseReturnValue:
    """An attachment of a conversation of the agent's service."""
    return attachment_response(attachment_id)


# --------------------------------------------------------------------------- "Message groupé"

GROUP_FIELDS = ("kind", "activity_id", "start", "end", "site", "school", "class_level", "service", "subject", "body")


def _group_values() -> dict[str, str]:
    return {name: request.form.get(name, "").strip() if name != "body" else request.form.get(name, "")
            for name in GROUP_FIELDS}


def _audience(values: dict[str, str]) -> group_messages.Audience:
    """The chosen children from the form (dates through ``form_day``: a French message)."""
    if values["kind"] == group_messages.ACTIVITY:
        start = form_day("start", values["start"], _("Du")) if values["start"] else None
        end = form_day("end", values["end"], _("Au")) if values["end"] else None
        return group_messages.Audience(kind=group_messages.ACTIVITY, activity_id=optional_form_id(values["activity_id"]),
                              start=start, end=end, site=values["site"][:100])
    return group_messages.Audience(kind=values["kind"], school=values["school"][:100], class_level=values["class_level"][:50])


def _group_page(values: dict[str, str], errors: dict[str | None, list[str]], status: int = 200) -> ResponseReturnValue:
    portal, uow, actor = get_portal(), request_uow(), current_actor()
    services = group_messages.sending_services(portal, actor)
    if values["service"] not in services:
        values = {**values, "service": services[0]}
    return render_template(
        "inbox/agents/group.html",
        values=values,
        errors=errors,
        choices=group_messages.choices(portal, uow, actor),
        services=services,
        history=group_messages.history(portal, uow, actor),
        limits=settings_of(portal),
    ), status


@bp.route("/groupe", methods=["GET", "POST"])
@agents_only
def group() -> ResponseReturnValue:
    """« Message groupé »: choose the children (an activity on a day or range, a school, a
    class), write the message; a POST only shows the form again with its values ("Modifier")."""
    values = _group_values() if request.method == "POST" else dict.fromkeys(GROUP_FIELDS, "")
    if request.method == "GET":
        values["kind"] = group_messages.ACTIVITY
    return _group_page(values, {})


@bp.post("/groupe/apercu")
@agents_only
def group_preview() -> ResponseReturnValue:
    """The number of households before sending, and the message as they will read it."""
    values = _group_values()
    with form_action(lambda refusal: _group_page(values, refusal.errors, 422)):
        found = group_messages.preview(get_portal(), request_uow(), current_actor(), _audience(values))
        group_messages.check_text(get_portal(), current_actor(), values["service"], values["subject"], values["body"])
    return render_template("inbox/agents/group_preview.html", values=values, found=found)


@bp.post("/groupe/envoyer")
@agents_only
def group_send() -> ResponseReturnValue:
    """Send: recorded now, posted to each household by the background job."""
    values = _group_values()
    expected = request.form.get("expected", "")
    with form_action(lambda refusal: _group_page(values, refusal.errors, 422)):
        sent = group_messages.send(get_portal(), request_uow(), current_actor(), _audience(values), values["service"],
                          values["subject"], values["body"], int(expected) if expected.isdigit() else -1)
    flash(_("Message groupé enregistré : il part vers %(count)d foyer(s).", count=sent.recipients), "success")
    return redirect(url_for("inbox_agents.group"))

