"""The hook catalogue of Portail Famille.

Every hook a plugin may implement is declared here, grouped by section. Conventions:

* ``validate_*`` hooks are **collected**: each implementation returns a list of
  :class:`~famille_core.errors.Issue` (empty when it has nothing to say). They never raise for a
  business rule, so one plugin's veto does not hide another's.
* ``on_*`` hooks are **notifications**, called after the change is committed; their return value
  is ignored.
* Nouns (``absence_reasons``, ``closed_days``) are **collected** queries: the results of all
  implementations are combined.
* "Who handles this" hooks (``payment_link``, ``render_invoice``) are ``firstresult``: the first
  implementation that returns something other than ``None`` wins, so a plugin overrides a
  built-in default (registered ``trylast``) by answering first.

``docs/hooks.md`` documents each hook with its exact signature; a test keeps both in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from famille_core.hooks import hookspec

if TYPE_CHECKING:
    from famille_core.entities import (
        Absence,
        AbsenceReason,
        Activity,
        Actor,
        Child,
        Invoice,
        Message,
        PaymentTransaction,
        Reservation,
        Thread,
    )
    from famille_core.errors import Issue
    from famille_core.hooks.results import (
        BackgroundJob,
        ClosedDay,
        EventPolicy,
        ExportKind,
        FamilyNotice,
        HealthCheck,
        HomePanel,
        MenuItem,
        Notification,
        PaymentMethod,
        PaymentOutcome,
        PaymentRedirect,
        ProfileField,
        RenderedDocument,
    )
    from famille_core.portal import Portal, PortalFactory
    from famille_core.uow import UnitOfWork


# --------------------------------------------------------------------------- configuration


@hookspec
def plugin_settings() -> tuple[str, type] | None:
    """Declare the settings class of a plugin.

    :return: ``(name, cls)`` where ``cls`` is an attrs class structured from the TOML table
        ``[plugins.<name>]`` at start-up (unknown keys and bad values stop start-up), or ``None``.

    Collected: one entry per plugin that has settings.
    """


# --------------------------------------------------------------------------- agenda


@hookspec
def absence_reasons(
    portal: Portal, child: Child | None, activity: Activity | None
) -> Sequence[AbsenceReason]:
    """The absence reasons (motifs) offered for ``child`` in ``activity``.

    :param child: the child, or ``None`` for the general list.
    :param activity: the activity, or ``None`` for the general list.
    :return: reasons; the built-in default returns the nine reasons of the user guide.

    Collected and merged by code; a plugin that wants to **replace** the list rather than extend
    it implements this hook with ``hookwrapper``/``wrapper`` or the collectivity sets
    ``[plugins.calendar] absence_reasons``.
    """


@hookspec
def validate_absence(portal: Portal, absence: Absence, actor: Actor) -> Sequence[Issue]:
    """Veto an absence before it is stored (deadline, reason not allowed, not enrolled…).

    :return: the issues found, empty when the absence is acceptable.

    Collected: the absence is refused when any implementation returns an issue.
    """


@hookspec
def validate_reservation(portal: Portal, reservation: Reservation, actor: Actor) -> Sequence[Issue]:
    """Veto a day reservation before it is stored (closed day, deadline, capacity, enrolment…).

    :return: the issues found, empty when the reservation is acceptable.

    Collected: the reservation is refused when any implementation returns an issue.
    """


@hookspec(firstresult=True)
def reservation_deadline(portal: Portal, activity: Activity, day: date) -> datetime | None:
    """The last instant (aware) at which ``day`` of ``activity`` can still be booked.

    First result wins; the built-in rule reads the calendar plugin's settings.
    """


@hookspec(firstresult=True)
def cancellation_deadline(portal: Portal, activity: Activity, day: date) -> datetime | None:
    """The last instant (aware) at which a booking of ``day`` can still be cancelled.

    First result wins; ``None`` everywhere means "same as the reservation deadline".
    """


@hookspec
def closed_days(portal: Portal, activity: Activity, start: date, end: date) -> Iterable[ClosedDay]:
    """Days in ``[start, end]`` when ``activity`` does not run (public and school holidays,
    municipal closures).

    Collected: a day is closed when any implementation lists it.
    """


@hookspec
def on_reservation(portal: Portal, reservation: Reservation, change: str) -> None:
    """A reservation was ``requested``, ``accepted``, ``refused`` or ``cancelled`` (after commit)."""


@hookspec
def on_absence(portal: Portal, absence: Absence, change: str) -> None:
    """An absence was ``declared`` or ``withdrawn`` (after commit)."""


# --------------------------------------------------------------------------- invoices and payment


@hookspec(firstresult=True)
def render_invoice(portal: Portal, invoice: Invoice, format: str) -> RenderedDocument | None:
    """Render ``invoice`` as ``"html"`` or ``"pdf"``.

    First result wins; return ``None`` for a format the plugin does not handle.
    """


@hookspec
def payment_methods(portal: Portal, invoice: Invoice, actor: Actor) -> Sequence[PaymentMethod]:
    """The ways ``actor`` may pay ``invoice`` (empty when it cannot be paid online).

    A method whose ``refusal`` is set cannot pay this invoice (PayFiP: 10,000 € or more): the
    billing plugin does not offer it and says why. Collected.
    """


@hookspec(firstresult=True)
def payment_data(
    portal: Portal,
    uow: UnitOfWork,
    invoice: Invoice,
    actor: Actor,
    provider: str,
    payer_email: str | None,
) -> dict[str, Any] | None:
    """The provider's own data for a new payment of ``invoice`` by ``actor`` through
    ``provider``, checked **before** anything is stored.

    ``payer_email`` is the address a payer without an account typed ("Payer une facture sans
    compte", docs/payment.md); ``None`` for a logged-in payer, whose account's address applies.

    Called under the invoice's lock, once the one-in-flight rule let the payment start and
    before the pending transaction is stored; the answer becomes the transaction's
    ``provider_data`` (what ``payment_link`` and ``payment_response`` read back: PayFiP's
    ``refdet``, ``exer``, ``mode``…). Raise ``ValidationFailed`` (a French message) to refuse
    the payment: nothing is stored. First result wins: a provider returns ``None`` for another
    provider's code; with no answer the transaction starts with empty data.
    """


@hookspec(firstresult=True)
def payment_link(
    portal: Portal,
    invoice: Invoice,
    transaction: PaymentTransaction,
    return_url: str,
    notify_url: str,
) -> PaymentRedirect | None:
    """Build the redirect that sends the payer to the provider named ``transaction.provider``.

    Called after the pending transaction is stored. First result wins: a provider returns
    ``None`` for a transaction that is not its own.
    """


@hookspec(firstresult=True)
def payment_response(
    portal: Portal, transaction: PaymentTransaction, data: dict[str, str]
) -> PaymentOutcome | None:
    """Verify a provider's answer (return or notification) about ``transaction``.

    The host found ``transaction`` by the id of the URL the answer reached; that URL carries
    no secret, so anyone may have sent the request: ``data`` merges its query string and form
    body (empty when ``famille reconcile-payments`` or « Vérifier maintenant » asks). The
    ``transaction`` is pending, or expired because its result stayed unknown (a late "paid" is
    still credited). The implementation must **verify** the answer (ask the provider, or check
    a signature and every field against the transaction) and never trust ``data`` alone. It
    returns a final ``state`` only when verified; ``state=None`` leaves the transaction as it
    is (``data["status"]``: ``"waiting"`` for a result not known yet — expired after
    ``pending_expiry_minutes`` —, ``"error"`` for a technical failure, ``"anomaly"`` for an
    answer that contradicts the transaction, ``"review"`` for a "paid" that cannot be verified
    and waits for an agent). First result wins; ``None`` means "not my transaction".
    """


@hookspec
def on_payment(portal: Portal, invoice: Invoice, transaction: PaymentTransaction) -> None:
    """A payment reached a final state (after commit): receipt, ERP sync…"""


# --------------------------------------------------------------------------- profile


@hookspec
def profile_fields(portal: Portal, section: str) -> Sequence[ProfileField]:
    """Extra fields a collectivity adds to a profile ``section``: ``"responsable"``,
    ``"conjoint"``, ``"fiscal"``, ``"caf"``, ``"banque"``, ``"complementaires"`` or ``"sanitaires"``.
    The profile plugin shows them as ``extra_<name>``, checks them like its own fields and stores
    their text in ``profile_extra_value``.

    Collected.
    """


@hookspec
def validate_profile_change(
    portal: Portal, section: str, changes: dict[str, Any], actor: Actor
) -> Sequence[Issue]:
    """Veto a change to a profile ``section`` (``changes`` maps field names to new values).
    Called after the plugin's own checks passed, for changes applied at once and again when an
    agent approves a change request.

    Collected.
    """


# --------------------------------------------------------------------------- messages


@hookspec(firstresult=True)
def route_message(portal: Portal, thread: Thread, message: Message) -> str | None:
    """The municipal service (mailbox) a family's new conversation goes to.

    First result wins; the default routes to the collectivity's first service.
    """


@hookspec(firstresult=True)
def post_family_notice(portal: Portal, uow: UnitOfWork, notice: FamilyNotice) -> int | None:
    """Post a system message to a household inside the caller's unit of work.

    :return: the new message's id, or ``None`` when no inbox is enabled.

    First result wins. Other plugins call :func:`famille_core.notify_family`, never the inbox
    plugin directly.
    """


@hookspec
def on_message(portal: Portal, message: Message) -> None:
    """A message was posted (after commit). The inbox has already queued its e-mails to the
    other side in the message's transaction; this is for other plugins (an SMS, a push)."""


@hookspec
def deliver_notification(
    portal: Portal, uow: UnitOfWork | None, notification: Notification
) -> bool | None:
    """Send ``notification`` outside the portal (e-mail, SMS).

    ``uow`` is the caller's unit of work when the notification comes from a change not yet
    committed: it must go out only if that change commits, and never be lost once it has (the
    built-in e-mail channel queues it in ``uow``). ``None`` when the caller has no transaction
    open: the built-in channel queues it in its own short one. Either way the built-in channel
    only queues; the mail queue's sender sends (docs/mail.md). Implementations may leave out
    ``uow`` from their parameters.

    Collected: return ``True`` when this channel took the notification.
    """


# --------------------------------------------------------------------------- web host and CLI


@hookspec
def register_blueprints(portal: Portal) -> Sequence[Any]:
    """Flask blueprints of the plugin. Import Flask **inside** the implementation, so a host
    without Flask can still load the plugin. Collected."""


@hookspec
def menu_items(portal: Portal, actor: Actor) -> Sequence[MenuItem]:
    """Entries of the main menu for ``actor``. Collected, sorted by ``order``."""


@hookspec
def home_panels(portal: Portal, uow: UnitOfWork, actor: Actor) -> Sequence[HomePanel]:
    """Blocks of the home page ("Accueil") for ``actor``. Collected, sorted by ``order``."""


@hookspec
def register_commands(cli: Any, portal_factory: PortalFactory) -> None:
    """Add ``click`` commands to the ``famille`` command line group ``cli``.

    :param portal_factory: builds the configured portal; a command calls it when it runs, never
        when it is registered (``famille --help`` opens no database). Implementations written
        before this parameter existed may leave it out.

    Collected. A plugin's command module imports ``click`` and ``famille_core``, never the host.
    """


@hookspec
def populate_demo(portal: Portal, uow: UnitOfWork) -> None:
    """Add the plugin's demo data (``famille demo``), after the core's families and children."""


# --------------------------------------------------------------------------- privacy


@hookspec
def purge_child_data(portal: Portal, uow: UnitOfWork, child: Child) -> None:
    """Delete what the plugin keeps about ``child`` whose enrolments have all ended (docs/security.md
    point 28): stored photo files, health details of its own. Called by ``famille purge`` in
    the purge's transaction, before the core clears ``child.photo_key`` and the health record;
delete files with ``uow.after_commit(...)`` so that a failed purge leaves them in place.
    Collected."""


# --------------------------------------------------------------------------- data surfaces


@hookspec
def family_data_sections(
    portal: Portal, uow: UnitOfWork, actor: Actor, family_id: int
) -> Mapping[str, Any]:
    """The plugin's sections of a household's data export ("Mes données", GDPR art. 15 and
    20): what the plugin keeps about household ``family_id``, which ``actor`` asked for.

    :return: section name → JSON-ready data (lists of records made with
        :func:`famille_core.services.export.records`, which leaves secrets out). Return the
        sections of the plugin's own records only.

    Collected: :func:`famille_core.services.export.family_data` puts the core's records and
    every enabled plugin's sections together; two plugins may not name the same section.
    """


@hookspec
def api_operations(portal: Portal) -> Sequence[Any]:
    """The plugin's operations of the JSON API (``/api/v1``), built with
    ``host_flask.toolkit.api_operation``. Import them **inside** the implementation (they are
    web code).

    Collected: the host registers the enabled plugins' operations next to its own and describes
    them in ``/api/v1/openapi.json``; a disabled plugin's paths do not exist (404).
    """


@hookspec
def export_kinds(portal: Portal) -> Sequence[ExportKind]:
    """What ``famille export KIND`` can write for the ERP from the plugin's records.

    Collected: a kind's ``name`` is unique among the enabled plugins.
    """


@hookspec
def domain_event_policies(portal: Portal) -> Sequence[EventPolicy]:
    """Which changes of the plugin's entities make events in the domain feed (``/api/v1/events``).

    Collected, read once when the portal's storage is built: the storage writes the events in
    the transaction of the change (docs/api.md, "The event feed"); one policy per entity type.
    """


# --------------------------------------------------------------------------- operations


@hookspec
def health_checks(portal: Portal) -> Sequence[HealthCheck]:
    """What ``GET /sante`` checks besides the database and its migrations (e.g. the task
    queue a plugin runs jobs on).

    Collected: every check runs at each call of the page; the page answers 503 naming the
    failing checks. A check is quick (a load balancer calls the page every few seconds) and
    touches no personal data.
    """


# --------------------------------------------------------------------------- background jobs


@hookspec
def background_jobs(portal: Portal) -> Sequence[BackgroundJob]:
    """The plugin's jobs for the task queue (``famille worker``, docs/jobs.md): periodic ones
    (a crontab ``schedule``: reconciling payments every few minutes, a nightly purge) and ones
    run when enqueued (``famille_core.jobs.enqueue(portal, name, **arguments)``).

    Collected: a job's ``name`` is unique among the enabled plugins. The queue retries a job
    that raises, with a growing delay, and logs its failure without the exception's text.
    """
