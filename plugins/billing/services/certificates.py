"""Attestations de frais de garde (docs/payment.md, "Childcare certificates"): for the tax credit
on childcare costs, a household receives, per year and per child under the age limit on
1 January of that year (6 by the tax rule), the amounts it paid for childcare activities.

* which activities count is configured (``[plugins.billing] childcare_activities``, empty: every
  activity but ``childcare_excluded``, the canteen by default: meals are not childcare);
* an invoice line belongs to an activity when its label is the activity's label (or code),
  alone or followed by a separator ("Accueil du soir — Emma"); to a child by its ``child_id``;
* "paid in the year": the lines of the household's invoices issued that year and fully paid.

The services check access: a household reads its own children's certificates, agents every one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from attrs import frozen

from famille_core.entities import (
    Activity,
    Actor,
    Child,
    Family,
    FamilyChild,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.services.access import family_for
from famille_core.uow import Between, In, UnitOfWork
from famille_plugins.billing.settings import BillingSettings, settings_of

SEPARATORS = (" — ", " - ", " – ", " : ", " (")


@frozen(kw_only=True)
class CertificateLine:
    """One counted invoice line."""

    invoice_number: str
    issue_date: date
    label: str
    amount: Decimal


@frozen(kw_only=True)
class ChildcareCertificate:
    """One attestation: a household, a child, a year, what was paid for its childcare."""

    family_id: int
    family_name: str
    family_number: str
    child_id: int
    child_name: str
    birth_date: date
    year: int
    lines: tuple[CertificateLine, ...]

    @property
    def total(self) -> Decimal:
        """The amount certified: the sum of the counted lines."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def filename(self) -> str:
        """``attestation-frais-de-garde-2025-<child id>.pdf``."""
        return f"attestation-frais-de-garde-{self.year}-{self.child_id}.pdf"


def age_on_first_january(birth_date: date, year: int) -> int:
    """Completed years on 1 January of ``year`` (the tax rule's reference day)."""
    reference = date(year, 1, 1)
    return (
        reference.year
        - birth_date.year
        - ((reference.month, reference.day) < (birth_date.month, birth_date.day))
    )


def eligible(child: Child, year: int, age_limit: int) -> bool:
    """Under ``age_limit`` on 1 January of ``year`` (and born by then)."""
    if child.birth_date is None or child.birth_date > date(year, 1, 1):
        return False
    return age_on_first_january(child.birth_date, year) < age_limit


def counted_activities(config: BillingSettings, activities: Sequence[Activity]) -> list[Activity]:
    """The activities whose lines count, by the settings."""
    if config.childcare_activities:
        return [a for a in activities if a.code in config.childcare_activities]
    return [a for a in activities if a.code not in config.childcare_excluded]


def line_activity(label: str, activities: Sequence[Activity]) -> Activity | None:
    """The activity an invoice line is for: its label (or code), alone or before a separator;
    the longest one when several match."""
    text = label.strip().casefold()
    found: Activity | None = None
    longest = 0
    for activity in activities:
        for name in (activity.label.strip().casefold(), activity.code.strip().casefold()):
            matches = text == name or any(text.startswith(name + sep) for sep in SEPARATORS)
            if name and matches and len(name) > longest:
                found, longest = activity, len(name)
    return found


def _lines_by_child(
    uow: UnitOfWork,
    family_ids: Sequence[int],
    years: Sequence[int] | None,
    counted: Sequence[Activity],
    every: Sequence[Activity],
) -> dict[tuple[int, int, int], list[CertificateLine]]:
    """``(year, family id, child id) -> counted lines`` of the years (every year when
    ``None``), in two queries."""
    first, last = (date.min, date.max) if years is None else (date(min(years), 1, 1), date(max(years), 12, 31))
    invoices = {
        invoice.id: invoice
        for invoice in uow.find(
            Invoice,
            family_id=In(list(family_ids)),
            status=InvoiceStatus.PAID,
            issue_date=Between(first, last),
        )
        if years is None or invoice.issue_date.year in years
    }
    found: dict[tuple[int, int, int], list[CertificateLine]] = {}
    if not invoices:
        return found
    codes = {a.code for a in counted}
    for line in uow.find(InvoiceLine, invoice_id=In(list(invoices)), order_by=("invoice_id", "id")):
        activity = line_activity(line.label, every)
        if line.child_id is None or activity is None or activity.code not in codes:
            continue
        invoice = invoices[line.invoice_id]
        found.setdefault((invoice.issue_date.year, invoice.family_id, line.child_id), []).append(
            CertificateLine(
                invoice_number=invoice.number,
                issue_date=invoice.issue_date,
                label=line.label,
                amount=line.amount,
            )
        )
    return found


def certificates(
    portal: Portal, uow: UnitOfWork, year: int, family_ids: Sequence[int] | None = None
) -> list[ChildcareCertificate]:
    """Every certificate of ``year`` (of the given households, else of all): one per child under
    the age limit with at least one counted line. No access check: the services below and the
    agents' command call it."""
    return certificates_of_years(portal, uow, [year], family_ids)


def certificates_of_years(
    portal: Portal,
    uow: UnitOfWork,
    years: Sequence[int] | None,
    family_ids: Sequence[int] | None = None,
) -> list[ChildcareCertificate]:
    """:func:`certificates` of several years at once (every year with a paid invoice when
    ``None``), newest year first, in six queries whatever the number of years (the Factures
    page lists every year's)."""
    if years is not None and not years:
        return []
    config = settings_of(portal)
    every = uow.find(Activity, order_by=("id",))
    counted = counted_activities(config, every)
    families = {
        f.id: f
        for f in (
            uow.find(Family, id=In(list(family_ids)))
            if family_ids is not None
            else uow.find(Family)
        )
    }
    if not families or not counted:
        return []
    lines = _lines_by_child(uow, [i for i in families if i is not None], years, counted, every)
    child_ids = sorted({c for _y, _f, c in lines})
    linked = (
        {(link.family_id, link.child_id) for link in uow.find(FamilyChild, child_id=In(child_ids))}
        if lines
        else set()
    )
    children = {c.id: c for c in uow.find(Child, id=In(child_ids))} if lines else {}
    found = []
    for (year, family_id, child_id), counted_lines in sorted(
        lines.items(), key=lambda item: (-item[0][0], item[0][1], item[0][2])
    ):
        child = children.get(child_id)
        family = families[family_id]
        if child is None or (family_id, child_id) not in linked:
            continue
        if not eligible(child, year, config.childcare_age_limit):
            continue
        assert child.birth_date is not None
        found.append(
            ChildcareCertificate(
                family_id=family_id,
                family_name=family.name,
                family_number=family.family_number,
                child_id=child_id,
                child_name=f"{child.first_name} {child.last_name}",
                birth_date=child.birth_date,
                year=year,
                lines=tuple(counted_lines),
            )
        )
    return found


def family_certificates(
    portal: Portal, uow: UnitOfWork, actor: Actor, family_id: int | None = None
) -> list[ChildcareCertificate]:
    """Every certificate of the actor's household (an agent names the household), newest
    year first.

    :raises NotFound: not a household the actor may see.
    """
    family = family_for(uow, actor, family_id)
    assert family.id is not None
    return certificates_of_years(portal, uow, None, [family.id])


def certificate_for(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    child_id: int,
    family_id: int | None = None,
) -> ChildcareCertificate:
    """One certificate of the actor's household.

    :raises NotFound: another household's, a child over the limit, nothing counted that year.
    """
    family = family_for(uow, actor, family_id)
    assert family.id is not None
    for certificate in certificates(portal, uow, year, [family.id]):
        if certificate.child_id == child_id:
            return certificate
    raise NotFound("Attestation introuvable.")


def all_certificates(portal: Portal, year: int) -> Iterator[ChildcareCertificate]:
    """Every household's certificates of ``year`` (the agents' command), household by household
    so that memory stays flat."""
    with portal.unit_of_work() as uow:
        family_ids = [f.id for f in uow.find(Family, order_by=("id",)) if f.id is not None]
    for start in range(0, len(family_ids), 200):
        with portal.unit_of_work() as uow:
            yield from certificates(portal, uow, year, family_ids[start : start + 200])


def document_context(
    portal: Portal, certificate: ChildcareCertificate, issued_on: date
) -> dict[str, Any]:
    """What the certificate's template shows."""
    config = settings_of(portal)
    return {
        "certificate": certificate,
        "collectivity": portal.settings.collectivity,
        "siret": config.siret,
        "age_limit": config.childcare_age_limit,
        "issued_on": issued_on,
    }
