"""The municipality's pages of the inbox plugin (``/gestion/messages/…``): one mailbox per
service, conversations, replies signed "agent SERVICE", and the "traitée" mark."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_plugins.inbox.services import agents
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
    get_portal,
    moved_pages,
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
