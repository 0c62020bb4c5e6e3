"""Small values that hooks return (kept apart so the spec module stays import-cheap)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import field, frozen


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
    """A way to pay an invoice, offered to the payer."""

    code: str
    label: str


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
