"""Small values that hooks return (kept apart so the spec module stays import-cheap)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from famille_core.errors import FamilleError

if TYPE_CHECKING:
    from famille_core.portal import Portal
    from famille_core.uow import UnitOfWork


@frozen(kw_only=True)
class MenuItem:
    """One entry of the main menu."""

    label: str
    endpoint: str
    order: int = 100
    agent: bool = False
    """True for entries of the municipal agents' menu."""


@frozen(kw_only=True)
class HomePanel:
    """A block of the home page ("Accueil"): a template rendered with ``context``."""

    title: str
    template: str
    context: Mapping[str, Any] = field(factory=dict)
    order: int = 100


@frozen(kw_only=True)
class ClosedDay:
    """A day an activity does not run, and why (shown to parents)."""

    day: date
    label: str


@frozen(kw_only=True)
class RenderedDocument:
    """A rendered document (invoice HTML or PDF)."""

    content: bytes
    media_type: str
    filename: str


@frozen(kw_only=True)
class PaymentMethod:
    """A way to pay an invoice, offered to the payer.

    ``refusal`` (French) says why this way cannot pay this invoice (e.g. PayFiP takes less than
    10,000 €): the method is then not offered, and the invoice page says why.
    """

    code: str
    label: str
    refusal: str | None = None


@frozen(kw_only=True)
class PaymentRedirect:
    """Where to send the payer: a GET to ``url``, or a POST of ``fields`` when given."""

    url: str
    method: str = "GET"
    fields: Mapping[str, str] = field(factory=dict)
    provider_ref: str | None = None


@frozen(kw_only=True)
class PaymentOutcome:
    """A provider's **verified** answer about one transaction.

    ``state`` is one of the :class:`~famille_core.entities.PaymentState` values, or ``None`` when
    the result is not known yet (leave the transaction pending).
    """

    provider_ref: str | None
    transaction_id: int | None
    state: str | None
    amount_cents: int | None = None
    data: Mapping[str, str] = field(factory=dict)


# What a provider's unverified answer says (``PaymentOutcome.data["status"]`` with
# ``state=None``; docs/payment.md, "Other providers"). The transaction stays as it is.

WAITING = "waiting"
"""The provider does not know the result yet (PayFiP P5): expired "without a result" after the
billing plugin's ``pending_expiry_minutes``, and still asked about later (late answers)."""
ERROR = "error"
"""A technical failure (timeout, malformed answer): the outcome is unknown, never expired."""
ANOMALY = "anomaly"
"""The verified answer contradicts the transaction: nothing credited, listed for agents."""
REVIEW = "review"
"""The answer says "paid" but cannot be verified with the provider (legacy TIPI): an agent
checks it against the régie's statement (docs/security.md point 34). The other keys of
``data`` are the claim shown to the agent."""
PAYMENT_STATUSES = (WAITING, ERROR, ANOMALY, REVIEW)


class PaymentUnavailable(FamilleError):
    """A provider could not be reached (or none handles the payment): nothing was paid; the
    payer may try again later. Raised by ``payment_link`` implementations for a technical
    failure; a refusal of the payment's fields is a ``ValidationFailed``."""

    code = "payment_unavailable"


@frozen(kw_only=True)
class FamilyNotice:
    """A system message for a household (reservation accepted, payment receipt…)."""

    family_id: int
    subject: str
    body: str
    service: str | None = None


@frozen(kw_only=True)
class ProfileField:
    """An extra field a collectivity adds to a profile section."""

    name: str
    label: str
    required: bool = False
    help_text: str = ""


@frozen(kw_only=True)
class Notification:
    """Something to tell a person outside the portal (e-mail, SMS)."""

    to: str
    subject: str
    body: str
    kind: str = "message"


# --------------------------------------------------------------------------- data surfaces


@frozen(kw_only=True)
class ExportKind:
    """Something ``famille export KIND --from … --to …`` writes for the ERP (CSV or JSON).

    :param name: the ``KIND`` of the command line (``"reservations"``).
    :param description: one French line for ``famille export --help``-like listings.
    :param rows: ``rows(uow, start, end)`` gives the period's rows, each a flat mapping of
        column → text or number; every row has the same columns, in the same order.
    """

    name: str
    description: str
    rows: Callable[[UnitOfWork, date, date], Iterable[Mapping[str, Any]]]


@frozen(kw_only=True)
class FeedEvent:
    """An event of the domain feed an entity change makes: its ``kind`` (``"absence.declared"``)
    and ``payload`` (identifiers and states only, never personal data)."""

    kind: str
    payload: Mapping[str, Any] = field(factory=dict)


@frozen(kw_only=True)
class EventPolicy:
    """Which events of the domain feed the changes of one entity type make.

    Each callable receives the entity as written by the transaction and returns the event, or
    ``None`` for a change the feed does not tell. ``changed`` also receives ``changed(name)``,
    true when attribute ``name`` changed in the transaction.

    :param entity_type: the attrs entity class watched (exactly this class).
    :param entity: its name in the feed (``"reservation"``).
    """

    entity_type: type
    entity: str
    created: Callable[[Any], FeedEvent | None] | None = None
    changed: Callable[[Any, Callable[[str], bool]], FeedEvent | None] | None = None
    deleted: Callable[[Any], FeedEvent | None] | None = None
    fields: tuple[str, ...] = ()
    """The attributes an event lists when they change (``changes``: name, old and new value;
    docs/api.md "What changed")."""
    sensitive: Callable[[Any], Collection[str]] = field(default=lambda _entity: ())
    """Which of ``fields`` the event lists as changed without their values (bank details,
    health data: the ERP reads them with their own scope)."""


# --------------------------------------------------------------------------- operations


@frozen(kw_only=True)
class HealthCheck:
    """One check of the health page ``GET /sante`` (docs/deployment.md, "Monitoring").

    :param name: what is checked, as the page names it (``"queue"``); unique among the checks.
    :param run: ``run()`` returns when the check passes and raises any exception when it fails
        (the exception is logged by its type only: no message, so no personal data).
    """

    name: str
    run: Callable[[], None]


# --------------------------------------------------------------------------- background jobs


def _job_name(_inst: object, _attr: object, value: str) -> None:
    if not value or not all(part.isidentifier() for part in value.split(".")):
        raise ValueError(f"job name {value!r}: dotted identifiers only, e.g. 'mail.send'")


def _cron(_inst: object, _attr: object, value: str | None) -> None:
    if value is not None and len(value.split()) != 5:
        raise ValueError(f"schedule {value!r}: five crontab fields, e.g. '*/5 * * * *'")


@frozen(kw_only=True)
class BackgroundJob:
    """A job a feature gives the task queue (``background_jobs`` hook, docs/jobs.md).

    :param name: unique among the enabled plugins, dotted identifiers (``"payments.reconcile"``).
    :param run: ``run(portal, **arguments)``: does the work with its own units of work and
        returns a small picklable value (kept as the job's result) or ``None``. It may run more
        than once (a worker killed mid-job, a retry): make it idempotent.
    :param schedule: a crontab line (minute hour day month weekday, in Paris time, whatever the
        worker machine's time zone) for a periodic job, ``None`` for a job only run when enqueued.
    :param retries: attempts after the first when ``run`` raises (``None``: ``[jobs] retries``);
        the delay doubles at each retry from ``[jobs] retry_seconds``.
    :param description: one French line for ``famille jobs list``.
    """

    name: str = field(validator=_job_name)
    run: Callable[..., Any]
    schedule: str | None = field(default=None, validator=_cron)
    retries: int | None = None
    description: str = ""

    def __call__(self, portal: Portal, **arguments: Any) -> Any:
        """Run the job in this process."""
        return self.run(portal, **arguments)
