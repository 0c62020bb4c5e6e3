"""Use cases of the inbox: the family's "Boîte de réception", the services' mailboxes, system
notices. Every function takes ``(portal, uow, actor, ...)``, checks access itself and raises
:class:`~famille_core.errors.NotFound` for anything the actor may not see — another household's
message answers exactly like a missing one.

Pages keep a constant number of queries: related rows are loaded with one ``In(...)`` query.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from attrs import frozen

from famille_core.convert import CONTROL_CHARACTERS
from famille_core.entities import Actor, Attachment, Direction, Family, Message, Role, Thread
from famille_core.errors import Conflict, Issue, NotFound, raise_if
from famille_core.hooks.results import FamilyNotice
from famille_core.portal import Portal
from famille_core.services.access import require_agent, require_family
from famille_core.uow import In, UnitOfWork
from famille_plugins.inbox import attachments as files
from famille_plugins.inbox.settings import InboxSettings, settings_of

FALLBACK_SERVICE = "MAIRIE"
SUBJECT_COLUMN_CHARS = 200
REPLY_PREFIX = "Re : "


# --------------------------------------------------------------------------- views


@frozen
class InboxRow:
    """One line of the "Boîte de réception"."""

    message: Message
    unread: bool
    attachment_count: int


@frozen
class Paging:
    """Which page is shown, of how many."""

    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, requested: int, total: int, size: int) -> Paging:
        """Clamp ``requested`` to the existing pages (page 1 when there is nothing)."""
        pages = max(1, math.ceil(total / size))
        return cls(page=min(max(1, requested), pages), pages=pages, total=total)

    def offset(self, size: int) -> int:
        """Rows to skip for this page."""
        return (self.page - 1) * size


@frozen
class InboxPage:
    """The family's inbox: one page of messages, newest first, and the unread count."""

    rows: Sequence[InboxRow]
    paging: Paging
    unread: int


@frozen
class Conversation:
    """A conversation as shown to one side, with each message's attachments."""

    thread: Thread
    family: Family
    messages: Sequence[Message]
    attachments: dict[int, list[Attachment]]
    unread: frozenset[int]
    """Ids of the other side's messages not read yet (shown as "nouveau")."""
    has_incoming: bool = False
    """The other side wrote at least one message (it can be marked unread again)."""


@frozen
class MailboxRow:
    """One conversation of a service's mailbox."""

    thread: Thread
    family: Family | None
    unread: int


@frozen
class MailboxPage:
    """One page of a service's mailbox."""

    service: str
    rows: Sequence[MailboxRow]
    paging: Paging
    handled: bool


# --------------------------------------------------------------------------- helpers


def clean_text(value: str) -> str:
    """Text as stored: line breaks normalised, invisible control characters removed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARACTERS.sub("", value).strip()


def _too_long(label: str, field: str, value: str, limit: int) -> Issue | None:
    if len(value) <= limit:
        return None
    message = f"{label} : {limit} caractères au plus ({len(value)} saisis)."
    return Issue("too_long", message, field)


def _text_issues(settings: InboxSettings, subject: str | None, body: str) -> list[Issue]:
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


def services_of(portal: Portal) -> tuple[str, ...]:
    """The municipal services, each with its own mailbox."""
    return tuple(portal.settings.collectivity.services) or (FALLBACK_SERVICE,)


def mailboxes_for(portal: Portal, actor: Actor) -> tuple[str, ...]:
    """The mailboxes ``actor`` reads: every one for an administrator, their service's for an
    agent, none for anyone else."""
    if actor.role == Role.ADMIN:
        return services_of(portal)
    if actor.role == Role.AGENT and actor.service in services_of(portal):
        return (actor.service,)
    return ()


def route(portal: Portal, thread: Thread, message: Message) -> str:
    """The service a new conversation goes to (``route_message`` hook; unknown answers fall back
    to the first service)."""
    chosen = portal.hook.route_message(portal=portal, thread=thread, message=message)
    services = services_of(portal)
    return chosen if chosen in services else services[0]


def route_by_keyword(portal: Portal, subject: str) -> str | None:
    """The service whose ``[plugins.inbox] routing`` keyword appears in ``subject``."""
    lowered = subject.casefold()
    for keyword, service in settings_of(portal).routing.items():
        if keyword.casefold() in lowered:
            return service
    return None


def thread_for(
    portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int, *, for_update: bool = False
) -> Thread:
    """The conversation, when ``actor`` takes part in it; otherwise :class:`NotFound`.

    ``for_update`` locks it until the end of the transaction: a family's reply and an agent's
    "traitée" mark are serialised, so a new message is never hidden by a conversation marked
    handled at the same moment.
    """
    thread = uow.get(Thread, thread_id, for_update=for_update)
    if thread is None:
        raise NotFound("Conversation introuvable.")
    if actor.is_agent:
        if thread.service not in mailboxes_for(portal, actor):
            raise NotFound("Conversation introuvable.")
    elif thread.family_id != require_family(actor):
        raise NotFound("Conversation introuvable.")
    return thread


def _author_label(actor: Actor, service: str) -> str:
    if actor.is_agent:
        return f"{actor.display_name} {service}".strip()
    return actor.display_name or "Famille"


def _store_files(
    portal: Portal, uow: UnitOfWork, message: Message, checked: Sequence[files.CheckedFile]
) -> None:
    assert message.id is not None
    for item in checked:
        # Written before the commit: if the transaction fails, ``famille inbox-clean``
        # removes the file no row points to.
        key = files.store(portal, item.data)
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
    from famille_plugins.inbox.notifications import notify_other_side

    notify_other_side(portal, uow, message)
    uow.after_commit(lambda: portal.hook.on_message(portal=portal, message=message))


def _check_input(
    portal: Portal, subject: str | None, body: str, uploads: Sequence[files.Upload]
) -> list[files.CheckedFile]:
    settings = settings_of(portal)
    issues = _text_issues(settings, subject, body)
    checked, file_issues = files.check_files(
        uploads,
        max_count=settings.max_attachments,
        max_bytes=settings.max_attachment_bytes,
        max_pixels=settings.max_image_pixels,
    )
    raise_if(issues + file_issues)
    return checked


# --------------------------------------------------------------------------- family side


def unread_count(uow: UnitOfWork, family_id: int) -> int:
    """Messages from the collectivity the household has not opened yet."""
    return uow.count(
        Message, family_id=family_id, direction=Direction.FROM_COLLECTIVITY, read_at=None
    )


def family_inbox(portal: Portal, uow: UnitOfWork, actor: Actor, page: int = 1) -> InboxPage:
    """The household's messages, newest first, one page (four queries whatever their number)."""
    family_id = require_family(actor)
    size = settings_of(portal).page_size
    paging = Paging.of(page, uow.count(Message, family_id=family_id), size)
    messages = uow.find(
        Message,
        family_id=family_id,
        order_by=("-created_at", "-id"),
        limit=size,
        offset=paging.offset(size),
    )
    counts = (
        uow.count_by(Attachment, ("message_id",), message_id=In([m.id for m in messages]))
        if messages
        else {}
    )
    rows = [
        InboxRow(
            message=m,
            unread=m.direction == Direction.FROM_COLLECTIVITY and m.read_at is None,
            attachment_count=counts.get((m.id,), 0),
        )
        for m in messages
    ]
    return InboxPage(rows=rows, paging=paging, unread=unread_count(uow, family_id))


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
    return message


def conversation(portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int) -> Conversation:
    """A conversation as ``actor`` sees it. Showing it changes nothing: reading is marked by
    :func:`famille_plugins.inbox.reading.mark` (docs/inbox.md, "Reading")."""
    thread = thread_for(portal, uow, actor, thread_id)
    family = uow.get(Family, thread.family_id)
    if family is None:
        raise NotFound("Conversation introuvable.")
    messages = uow.find(Message, thread_id=thread.id, order_by=("created_at", "id"))
    found = uow.find(Attachment, message_id=In([m.id for m in messages]), order_by=("id",))
    by_message: dict[int, list[Attachment]] = {}
    for item in found:
        by_message.setdefault(item.message_id, []).append(item)
    incoming = [m for m in messages if m.direction == incoming_direction(actor)]
    return Conversation(
        thread=thread,
        family=family,
        messages=messages,
        attachments=by_message,
        unread=frozenset(m.id for m in incoming if m.read_at is None and m.id is not None),
        has_incoming=bool(incoming),
    )


def incoming_direction(actor: Actor) -> Direction:
    """The messages ``actor`` receives (and reads): the family's for agents, the town's for families."""
    return Direction.FROM_FAMILY if actor.is_agent else Direction.FROM_COLLECTIVITY


def thread_of_message(portal: Portal, uow: UnitOfWork, actor: Actor, message_id: int) -> int:
    """The conversation holding ``message_id``, when ``actor`` may see it."""
    message = uow.get(Message, message_id)
    if message is None:
        raise NotFound("Message introuvable.")
    return thread_for(portal, uow, actor, message.thread_id).id or 0


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
    return message


def attachment_for(
    portal: Portal, uow: UnitOfWork, actor: Actor, attachment_id: int
) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for the conversation's participants only."""
    item = uow.get(Attachment, attachment_id)
    message = uow.get(Message, item.message_id) if item is not None else None
    if item is None or message is None:
        raise NotFound("Pièce jointe introuvable.")
    thread_for(portal, uow, actor, message.thread_id)
    data = files.read(portal, item.storage_key)
    if data is None:
        raise NotFound("Pièce jointe introuvable.")
    return item, data


# --------------------------------------------------------------------------- municipality side


def mailbox(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    service: str,
    page: int = 1,
    *,
    handled: bool = False,
) -> MailboxPage:
    """A service's conversations, most recent activity first (four queries per page)."""
    require_agent(actor)
    if service not in mailboxes_for(portal, actor):
        raise NotFound("Boîte de service introuvable.")
    size = settings_of(portal).page_size
    paging = Paging.of(page, uow.count(Thread, service=service, handled=handled), size)
    threads = uow.find(
        Thread,
        service=service,
        handled=handled,
        order_by=("-updated_at", "-id"),
        limit=size,
        offset=paging.offset(size),
    )
    families: dict[int | None, Family] = {}
    unread: dict[tuple[object, ...], int] = {}
    if threads:
        family_ids = sorted({t.family_id for t in threads})
        families = {f.id: f for f in uow.find(Family, id=In(family_ids))}
        unread = uow.count_by(
            Message,
            ("thread_id",),
            thread_id=In([t.id for t in threads]),
            direction=Direction.FROM_FAMILY,
            read_at=None,
        )
    rows = [
        MailboxRow(thread=t, family=families.get(t.family_id), unread=unread.get((t.id,), 0))
        for t in threads
    ]
    return MailboxPage(service=service, rows=rows, paging=paging, handled=handled)


def pending_by_service(portal: Portal, uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """Conversations still to handle, per mailbox of ``actor`` (one query)."""
    boxes = mailboxes_for(portal, actor)
    if not boxes:
        return {}
    counts = uow.count_by(Thread, ("service",), service=In(boxes), handled=False)
    return {box: counts.get((box,), 0) for box in boxes}


def set_handled(
    portal: Portal, uow: UnitOfWork, actor: Actor, thread_id: int, handled: bool = True
) -> Thread:
    """An agent marks a conversation handled ("traitée"), or reopens it.

    :raises Conflict: the family wrote a message nobody has opened yet (it arrived after the
        agent loaded the page): the conversation stays to handle.
    """
    require_agent(actor)
    thread = thread_for(portal, uow, actor, thread_id, for_update=True)
    if handled:
        waiting = uow.count(
            Message, thread_id=thread.id, direction=Direction.FROM_FAMILY, read_at=None
        )
        if waiting:
            raise Conflict(
                "La famille a écrit entre-temps : lisez son nouveau message avant de marquer "
                "la conversation comme traitée."
            )
    thread.handled = handled
    return thread


# --------------------------------------------------------------------------- system notices


def post_notice(portal: Portal, uow: UnitOfWork, notice: FamilyNotice) -> int:
    """A system message to a household (reservation accepted, payment receipt…), in the caller's
    transaction; the household is told by e-mail once it is committed."""
    if uow.get(Family, notice.family_id) is None:
        raise NotFound("Famille introuvable.")
    services = services_of(portal)
    service = notice.service if notice.service in services else services[0]
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
