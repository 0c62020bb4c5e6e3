"""Writing: a family's new conversation, replies from either side, and the system notices other
plugins post through :func:`famille_core.notify_family`. Each message's e-mails are queued in its
transaction, and plugins are told once it is committed."""

from __future__ import annotations

from collections.abc import Sequence

from famille_core import uploads as files
from famille_core.convert import CONTROL_CHARACTERS
from famille_core.entities import Actor, Attachment, Direction, Family, Message, Thread
from famille_core.errors import Issue, NotFound, raise_if
from famille_core.hooks.results import FamilyNotice
from famille_core.portal import Portal
from famille_core.services import acting
from famille_core.services.access import require_family
from famille_core.uow import UnitOfWork
from famille_plugins.inbox.services.mailboxes import route, services_of, thread_for
from famille_plugins.inbox.services.notifications import notify_other_side
from famille_plugins.inbox.settings import InboxSettings, settings_of

SUBJECT_COLUMN_CHARS = 200


REPLY_PREFIX = "Re : "


def clean_text(value: str) -> str:
    """Text as stored: line breaks normalised, invisible control characters removed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARACTERS.sub("", value).strip()


def _too_long(label: str, field: str, value: str, limit: int) -> Issue | None:
    if len(value) <= limit:
        return None
    message = f"{label} : {limit} caractères au plus ({len(value)} saisis)."
    return Issue("too_long", message, field)


def text_issues(settings: InboxSettings, subject: str | None, body: str) -> list[Issue]:
    """What is wrong with a message's title (``None``: a reply has none) and text, in French."""
    found: list[Issue | None] = []
    if subject is not None:
        if not subject:
            found.append(Issue("required", "Titre : indiquez l'objet de votre message.", "subject"))
        elif "\n" in subject:
            found.append(Issue("invalid", "Titre : une seule ligne.", "subject"))
        else:
            found.append(_too_long("Titre", "subject", subject, settings.max_subject_chars))
    if not body:
        found.append(Issue("required", "Message : écrivez votre message.", "body"))
    else:
        found.append(_too_long("Message", "body", body, settings.max_body_chars))
    return [issue for issue in found if issue is not None]


def _author_label(actor: Actor, service: str) -> str:
    if actor.acting_agent is not None:  # an agent writing for the family: the town wrote it
        return f"{actor.acting_agent.display_name} (mairie, pour la famille)"
    if actor.is_agent:
        return f"{actor.display_name} {service}".strip()
    return actor.display_name or "Famille"


def _store_files(
    portal: Portal, uow: UnitOfWork, message: Message, checked: Sequence[files.CheckedFile]
) -> None:
    assert message.id is not None
    for item in checked:
        # Written before the commit, deleted again if the transaction is not committed;
        # ``famille inbox-clean`` removes what a killed process left behind.
        key = files.store(portal, uow, item.data)
        uow.add(
            Attachment(
                message_id=message.id,
                family_id=message.family_id,
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.data),
                storage_key=key,
            )
        )


def _announce(portal: Portal, uow: UnitOfWork, message: Message) -> None:
    """Queue the e-mails to the other side in the message's transaction (sent only if the message
    is, never lost once it is: docs/security.md point 40), then tell plugins after the commit."""
    notify_other_side(portal, uow, message)
    uow.after_commit(lambda: portal.hook.on_message(portal=portal, message=message))


def _check_input(
    portal: Portal, subject: str | None, body: str, uploads: Sequence[files.Upload]
) -> list[files.CheckedFile]:
    settings = settings_of(portal)
    issues = text_issues(settings, subject, body)
    checked, file_issues = files.check_files(
        uploads,
        max_count=settings.max_attachments,
        max_bytes=settings.max_attachment_bytes,
        max_pixels=settings.max_image_pixels,
    )
    raise_if(issues + file_issues)
    return checked


def send_message(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    subject: str,
    body: str,
    uploads: Sequence[files.Upload] = (),
) -> Message:
    """A household writes to the collectivity: a new conversation, routed to a service."""
    family_id = require_family(actor)
    subject, body = clean_text(subject), clean_text(body)
    checked = _check_input(portal, subject, body, uploads)
    now = portal.clock.now()
    thread = Thread(
        family_id=family_id, service="", subject=subject, created_at=now, updated_at=now
    )
    message = Message(
        thread_id=0,
        family_id=family_id,
        direction=Direction.FROM_FAMILY,
        author_user_id=actor.user_id,
        author_label=_author_label(actor, ""),
        subject=subject,
        body=body,
        size=len(body.encode()) + sum(len(item.data) for item in checked),
        created_at=now,
    )
    thread.service = route(portal, thread, message)
    uow.add(thread)
    uow.flush()
    assert thread.id is not None
    message.thread_id = thread.id
    uow.add(message)
    uow.flush()
    _store_files(portal, uow, message, checked)
    _announce(portal, uow, message)
    acting.record(portal, uow, actor, "message.sent", "message", message.id)
    return message


def reply(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    thread_id: int,
    body: str,
    uploads: Sequence[files.Upload] = (),
) -> Message:
    """Answer within a conversation (the family or an agent of its service)."""
    thread = thread_for(portal, uow, actor, thread_id, for_update=True)
    body = clean_text(body)
    checked = _check_input(portal, None, body, uploads)
    now = portal.clock.now()
    subject = thread.subject
    if not subject.startswith(REPLY_PREFIX):
        subject = REPLY_PREFIX + subject
    message = Message(
        thread_id=thread_id,
        family_id=thread.family_id,
        direction=Direction.FROM_COLLECTIVITY if actor.is_agent else Direction.FROM_FAMILY,
        author_user_id=actor.user_id,
        author_label=_author_label(actor, thread.service),
        subject=subject[:SUBJECT_COLUMN_CHARS],
        body=body,
        size=len(body.encode()) + sum(len(item.data) for item in checked),
        created_at=now,
    )
    uow.add(message)
    thread.updated_at = now
    if not actor.is_agent:
        thread.handled = False  # the family wrote again: the service has something to do
    uow.flush()
    _store_files(portal, uow, message, checked)
    _announce(portal, uow, message)
    acting.record(portal, uow, actor, "message.replied", "message", message.id)
    return message


def post_notice(portal: Portal, uow: UnitOfWork, notice: FamilyNotice) -> int:
    """A system message to a household (reservation accepted, payment receipt…), in the caller's
    transaction; the household is told by e-mail once it is committed."""
    if uow.get(Family, notice.family_id) is None:
        raise NotFound("Famille introuvable.")
    services = services_of(portal)
    service = notice.service if notice.service is not None and notice.service in services else services[0]
    subject = clean_text(notice.subject).replace("\n", " ")[:SUBJECT_COLUMN_CHARS] or "Information"
    body = clean_text(notice.body)
    now = portal.clock.now()
    # Nothing for an agent to do about a notice: it opens handled, and a reply reopens it.
    thread = Thread(
        family_id=notice.family_id,
        service=service,
        subject=subject,
        created_at=now,
        updated_at=now,
        handled=True,
    )
    uow.add(thread)
    uow.flush()
    assert thread.id is not None
    message = Message(
        thread_id=thread.id,
        family_id=notice.family_id,
        direction=Direction.FROM_COLLECTIVITY,
        author_label=f"Service {service}" if notice.service else portal.settings.collectivity.name,
        subject=subject,
        body=body,
        size=len(body.encode()),
        created_at=now,
        is_system=True,
    )
    uow.add(message)
    uow.flush()
    _announce(portal, uow, message)
    assert message.id is not None
    return message.id
