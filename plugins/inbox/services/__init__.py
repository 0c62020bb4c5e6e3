"""Use cases of the inbox plugin, one module per concern.

Every use case takes ``(portal, uow, actor, ...)``, checks access itself and raises
:class:`~famille_core.errors.NotFound` for anything the actor may not see — another household's
message answers exactly like a missing one. Pages keep a constant number of queries: related rows
are loaded with one ``In(...)`` query.

* :mod:`.mailboxes` — the services' mailboxes: who reads which, where a new conversation goes,
  who takes part in a conversation;
* :mod:`.sending` — a family's new message, replies from either side, system notices;
* :mod:`.household` — the family's "Boîte de réception";
* :mod:`.conversations` — a conversation as one side sees it, its attachments;
* :mod:`.reading` — marking messages read or unread (explicitly, never by showing them);
* :mod:`.agents` — a service's mailbox, what is left to handle, the "traitée" mark;
* :mod:`.paging` — pages of a list;
* :mod:`.attachments`, :mod:`.pdfs` — attachments checked by content, stored outside the web root;
* :mod:`.notifications` — the e-mails about new messages;
* :mod:`.maintenance` — ``famille inbox-clean``;
* :mod:`.data` — what the inbox gives out: its sections of Mes données, its feed events.
"""
