"""Family pages of the inbox plugin: Boîte de réception, Nouveau message, a conversation.

Views stay thin: parse the request, call :mod:`famille_plugins.inbox.services`, commit, render.
The helpers at the end are shared with the agents' pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from famille_core.entities import Thread
from famille_core.uploads import Upload
from famille_plugins.inbox.services import conversations, household, mailboxes, reading, sending
from famille_plugins.inbox.settings import settings_of
from host_flask.toolkit import (
    Refusal,
    cached_page,
    current_actor,
    families_only,
    form_action,
    get_portal,
    open_to_acting_agents,
    request_uow,
)

bp = Blueprint(
    "inbox",
    __name__,
    url_prefix="/messages",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

MAX_SHOWN = 1000
"""Most message ids a "Marquer comme lu" form may name."""
DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def page_number() -> int:
    """The ``page`` query parameter (1 when absent or invalid)."""
    return max(1, request.args.get("page", default=1, type=int) or 1)


def uploads() -> list[Upload]:
    """The attached files of the request, read into memory (the host caps the request size)."""
    found: list[FileStorage] = request.files.getlist("attachments")
    return [Upload(filename=item.filename or "", data=item.read()) for item in found]


@bp.get("/")
@open_to_acting_agents
@families_only
@cached_page
def index() -> ResponseReturnValue:
    """Boîte de réception: Qui, Date, Taille, Objet, newest first."""
    inbox = household.family_inbox(get_portal(), request_uow(), current_actor(), page_number())
    return render_template("inbox/index.html", inbox=inbox)


@bp.route("/nouveau", methods=["GET", "POST"])
@open_to_acting_agents
@families_only
def new() -> ResponseReturnValue:
    """Nouveau message: Titre, message, optional attachments, Envoyer."""
    values = {"subject": "", "body": ""}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}

        def refused(refusal: Refusal) -> ResponseReturnValue:
            return _new_page(values, refusal.errors, refusal.status)

        with form_action(refused):
            message = sending.send_message(
                get_portal(), request_uow(), current_actor(), values["subject"], values["body"], uploads()
            )
        flash(_("Votre message a été envoyé au service %(service)s.", service=_service_of(message.thread_id)), "success")
        return redirect(url_for("inbox.show", message_id=message.id))
    return _new_page(values, {}, 200)


def _new_page(values: dict[str, str], errors: dict[str | None, list[str]], status: int) -> ResponseReturnValue:
    return render_template(
        "inbox/new.html", values=values, errors=errors, limits=settings_of(get_portal())
    ), status


def _service_of(thread_id: int) -> str:
    return mailboxes.thread_for(get_portal(), request_uow(), current_actor(), thread_id).service


@bp.get("/<int:message_id>")
@open_to_acting_agents
@families_only
def show(message_id: int) -> ResponseReturnValue:
    """Open a message: its whole conversation (showing it changes nothing: see :func:`read`). An
    agent acting for the family reads it without marking it read for the family."""
    actor = current_actor()
    thread_id = mailboxes.thread_of_message(get_portal(), request_uow(), actor, message_id)
    read_action = None if actor.is_acting else url_for("inbox.read", message_id=message_id)
    return conversation_page(thread_id, reply_endpoint="inbox.reply", attachment_endpoint="inbox.attachment",
                             read_action=read_action)


@bp.post("/<int:message_id>/lu")
@families_only
def read(message_id: int) -> ResponseReturnValue:
    """Marquer comme lu (``lu=1``, sent by the page itself once shown) or non lu (``lu=0``)."""
    thread_id = mailboxes.thread_of_message(get_portal(), request_uow(), current_actor(), message_id)
    return mark_reading(
        thread_id,
        done=lambda _thread, read: url_for("inbox.show", message_id=message_id) if read else url_for("inbox.index"),
    )


@bp.post("/conversation/<int:thread_id>/repondre")
@open_to_acting_agents
@families_only
def reply(thread_id: int) -> ResponseReturnValue:
    """Answer within a conversation."""
    return reply_to(
        thread_id,
        reply_endpoint="inbox.reply",
        attachment_endpoint="inbox.attachment",
        done=lambda message_id: url_for("inbox.show", message_id=message_id),
    )


@bp.get("/pieces-jointes/<int:attachment_id>")
@open_to_acting_agents
@families_only
def attachment(attachment_id: int) -> ResponseReturnValue:
    """An attachment of one of the household's conversations."""
    return attachment_response(attachment_id)


# --------------------------------------------------------------------------- shared with agents


def conversation_page(
    thread_id: int,
    *,
    reply_endpoint: str,
    attachment_endpoint: str,
    errors: dict[str | None, list[str]] | None = None,
    draft: str = "",
    read_action: str | None = None,
    status: int | None = None,
    **extra: Any,
) -> ResponseReturnValue:
    """Render a conversation; ``read_action`` is where its "Marquer comme lu / non lu" form
    posts; ``status`` defaults to 422 with ``errors``, else 200."""
    view = conversations.conversation(get_portal(), request_uow(), current_actor(), thread_id)
    return render_template(
        "inbox/conversation.html",
        view=view,
        errors=errors or {},
        draft=draft,
        reply_endpoint=reply_endpoint,
        attachment_endpoint=attachment_endpoint,
        read_action=read_action,
        limits=settings_of(get_portal()),
        **extra,
    ), status or (422 if errors else 200)


def reply_to(
    thread_id: int,
    *,
    reply_endpoint: str,
    attachment_endpoint: str,
    done: Callable[[int], str],
    **extra: Any,
) -> ResponseReturnValue:
    """Post a reply; on bad input show the conversation again with the errors and the draft."""
    body = request.form.get("body", "")

    def refused(refusal: Refusal) -> ResponseReturnValue:
        return conversation_page(
            thread_id,
            reply_endpoint=reply_endpoint,
            attachment_endpoint=attachment_endpoint,
            errors=refusal.errors,
            draft=body,
            status=refusal.status,
            **extra,
        )

    with form_action(refused):
        message = sending.reply(get_portal(), request_uow(), current_actor(), thread_id, body, uploads())
    flash(_("Votre réponse a été envoyée."), "success")
    assert message.id is not None
    return redirect(done(message.id) + f"#message-{message.id}")


def mark_reading(thread_id: int, *, done: Callable[[Thread, bool], str]) -> ResponseReturnValue:
    """Mark the messages a page showed (``message`` fields) read (``lu=1``), or the conversation
    unread (``lu=0``). The page's own script asks with
    ``X-Requested-With: fetch`` and gets 204; the button without JavaScript is redirected to
    ``done(thread, read)`` with a message."""
    value = request.form.get("lu", "1")
    if value not in ("0", "1"):
        abort(400)
    shown = {int(i) for i in request.form.getlist("message")[:MAX_SHOWN] if i.isascii() and i.isdigit() and len(i) < 10}
    uow = request_uow()
    thread = reading.mark(get_portal(), uow, current_actor(), thread_id, read=value == "1", shown=shown)
    uow.commit()
    if request.headers.get("X-Requested-With") == "fetch":
        return "", 204
    flash(_("La conversation est marquée comme lue.") if value == "1" else _("Le dernier message est marqué comme non lu."), "success")
    return redirect(done(thread, value == "1"))


def attachment_response(attachment_id: int) -> ResponseReturnValue:
    """An attachment as a download: never cached, never sniffed, never shown inline."""
    item, data = conversations.attachment_for(get_portal(), request_uow(), current_actor(), attachment_id)
    response = Response(data, mimetype=item.content_type, headers=DOWNLOAD_HEADERS)
    response.headers.set("Content-Disposition", "attachment", filename=item.filename)
    return response
