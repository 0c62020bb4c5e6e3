"""Synchronisation with the ERP: upserts keyed on the ERP's identifiers (``external_id``).

Importing the same record twice changes nothing (``unchanged``). Each ``upsert_*`` validates the
record, applies it inside the caller's unit of work, and says what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs
from attrs import define, field, frozen

from famille_core.entities import (
    Activity,
    Child,
    Enrollment,
    Family,
    FamilyChild,
    Guardian,
    GuardianRole,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from famille_core.errors import Issue, ValidationFailed, raise_if
from famille_core.fields import GUARDIAN_FIELDS, parse_fields
from famille_core.money import to_money
from famille_core.services.payments import refuse_change_while_paying
from famille_core.services.record_limits import too_long
from famille_core.uow import In, UnitOfWork


class Outcome(StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@frozen(kw_only=True)
class GuardianRecord:
    """A guardian as the ERP sends it."""

    last_name: str
    first_name: str
    civility: str = ""
    email: str = ""
    phone_mobile: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""


@frozen(kw_only=True)
class FamilyRecord:
    """A household as the ERP sends it."""

    external_id: str
    family_number: str
    name: str
    responsable: GuardianRecord | None = None
    conjoint: GuardianRecord | None = None


@frozen(kw_only=True)
class ChildRecord:
    """A child, linked to one or two households by their ERP identifiers."""

    external_id: str
    first_name: str
    last_name: str
    families: list[str]
    birth_date: date | None = None
    sex: str = ""
    school: str = ""
    class_level: str = ""


@frozen(kw_only=True)
class EnrolmentRecord:
    """An enrolment (inscription): a child in an activity for a period, for a household."""

    external_id: str
    child: str
    family: str
    activity: str
    """The activity's code (CANTINE, MATIN…)."""
    start_date: date
    end_date: date
    site: str = ""


@frozen(kw_only=True)
class InvoiceLineRecord:
    """One invoice line; the amount is computed, exactly."""

    label: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")


@frozen(kw_only=True)
class InvoiceRecord:
    """An invoice issued by the ERP."""

    external_id: str
    family: str
    number: str
    reference: str
    issue_date: date
    due_date: date
    lines: list[InvoiceLineRecord] = field(factory=list)
    label: str = ""
    regie_code: str = "default"


def _required(value: str, name: str, label: str) -> list[Issue]:
    return [] if value.strip() else [Issue("required", f"{label} est obligatoire.", name)]


def _apply(entity: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(entity, name) != value:
            setattr(entity, name, value)
            changed = True
    return changed


def _family_by_external_id(uow: UnitOfWork, external_id: str, field_name: str = "family") -> Family:
    family = uow.first(Family, external_id=external_id)
    if family is None:
        raise ValidationFailed.single(
            "unknown_family", f"Famille inconnue : {external_id}.", field_name
        )
    return family


_GUARDIAN_SPECS = tuple(spec for spec in GUARDIAN_FIELDS if spec.name in attrs.fields_dict(GuardianRecord))


def guardian_issues(record: FamilyRecord) -> list[Issue]:
    """The guardians' values that the forms of Mon compte would refuse, with the forms' French
    messages (:data:`famille_core.fields.GUARDIAN_FIELDS`: one validation for every entrance)."""
    issues: list[Issue] = []
    for prefix, guardian in (("responsable.", record.responsable), ("conjoint.", record.conjoint)):
        if guardian is not None:
            issues += parse_fields(_GUARDIAN_SPECS, attrs.asdict(guardian), prefix=prefix)[1]
    return issues


@define
class FamilyIndex:
    """The households a batch of import rows may touch, and their guardians, read in three
    queries for the whole batch instead of three per row (:func:`family_index`); kept up to date
    by :func:`upsert_family` as it creates and renumbers households."""

    by_external_id: dict[str, Family]
    by_number: dict[str, Family]
    guardians: dict[int, dict[GuardianRole, Guardian]]
    defer: bool = False
    """True: new households are written together at :meth:`settle` (one batched ``INSERT``),
    their guardians after them, instead of one flush per household."""
    new_families: list[Family] = field(factory=list)
    waiting: list[tuple[Family, GuardianRole, dict[str, Any]]] = field(factory=list)

    def settle(self, uow: UnitOfWork) -> None:
        """Write the households created since the last call, then their guardians: one
        ``INSERT`` each (:meth:`~famille_core.uow.UnitOfWork.add_many`, which queues their
        events in the feed as a flush would)."""
        if not self.new_families:
            return
        uow.add_many(self.new_families)
        guardians = []
        for family, role, values in self.waiting:
            assert family.id is not None
            guardian = Guardian(family_id=family.id, role=role, **values)
            guardians.append(guardian)
            self.guardians.setdefault(family.id, {})[role] = guardian
        uow.add_many(guardians)
        self.new_families.clear()
        self.waiting.clear()


def family_index(
    uow: UnitOfWork, rows: Iterable[Mapping[str, Any]], *, defer: bool = False
) -> FamilyIndex:
    """The :class:`FamilyIndex` of raw import rows (their ``external_id`` and ``family_number``);
    ``defer``: see :attr:`FamilyIndex.defer` (the caller then calls :meth:`FamilyIndex.settle`)."""
    ids = {str(row["external_id"]) for row in rows if row.get("external_id") is not None}
    numbers = {str(row["family_number"]) for row in rows if row.get("family_number") is not None}
    found = uow.find(Family, external_id=In(ids)) if ids else []
    found += uow.find(Family, family_number=In(numbers)) if numbers else []
    index = FamilyIndex(
        by_external_id={f.external_id: f for f in found if f.external_id is not None},
        by_number={f.family_number: f for f in found},
        guardians={},
        defer=defer,
    )
    family_ids = {f.id for f in found if f.id is not None}
    for guardian in uow.find(Guardian, family_id=In(family_ids)) if family_ids else []:
        index.guardians.setdefault(guardian.family_id, {})[guardian.role] = guardian
    return index


def _guardian_records(record: FamilyRecord) -> list[tuple[GuardianRole, GuardianRecord]]:
    pairs = ((GuardianRole.PRIMARY, record.responsable), (GuardianRole.SECOND, record.conjoint))
    return [(role, guardian) for role, guardian in pairs if guardian is not None]


def _guardian_values(record: GuardianRecord) -> dict[str, Any]:
    return {
        "last_name": record.last_name,
        "first_name": record.first_name,
        "civility": record.civility,
        "email": record.email,
        "phone_mobile": record.phone_mobile,
        "address": record.address,
        "postal_code": record.postal_code,
        "city": record.city,
    }


def upsert_family(
    uow: UnitOfWork, record: FamilyRecord, index: FamilyIndex | None = None
) -> tuple[Family, Outcome]:
    """Create or update a household and its guardians (checked as the forms check them).

    :param index: the batch's households, read beforehand (:func:`family_index`); without it,
        this row's are read now.
    """
    issues = (
        too_long(record)
        + _required(record.external_id, "external_id", "L'identifiant ERP")
        + _required(record.family_number, "family_number", "Le numéro de famille")
        + _required(record.name, "name", "Le nom")
    )
    flagged = {issue.field for issue in issues}
    raise_if(issues + [issue for issue in guardian_issues(record) if issue.field not in flagged])
    if index is None:
        family = uow.first(Family, external_id=record.external_id)
        clash = uow.first(Family, family_number=record.family_number)
    else:
        family = index.by_external_id.get(record.external_id)
        clash = index.by_number.get(record.family_number)
        if family is not None and family.id is None:
            index.settle(uow)  # the same household twice in a batch: write the first one now
    if clash is not None and clash is not family:
        raise ValidationFailed.single(
            "number_taken", "Ce numéro de famille appartient à une autre famille.", "family_number"
        )
    outcome = Outcome.UNCHANGED
    if family is None:
        family = Family(
            external_id=record.external_id, family_number=record.family_number, name=record.name
        )
        outcome = Outcome.CREATED
        if index is not None and index.defer:
            index.new_families.append(family)
            index.by_external_id[record.external_id] = family
            index.by_number[record.family_number] = family
            for role, guardian_record in _guardian_records(record):
                index.waiting.append((family, role, _guardian_values(guardian_record)))
            return family, outcome
        uow.add(family)
        uow.flush()
    else:
        number = family.family_number
        if _apply(family, {"family_number": record.family_number, "name": record.name}):
            outcome = Outcome.UPDATED
            if index is not None and number != family.family_number:
                index.by_number.pop(number, None)
    assert family.id is not None
    if index is None:
        existing = {g.role: g for g in uow.find(Guardian, family_id=family.id)}
    else:
        index.by_external_id[record.external_id] = family
        index.by_number[record.family_number] = family
        existing = index.guardians.setdefault(family.id, {})
    for role, guardian_record in _guardian_records(record):
        values = _guardian_values(guardian_record)
        guardian = existing.get(role)
        if guardian is None:
            guardian = Guardian(family_id=family.id, role=role, **values)
            uow.add(guardian)
            existing[role] = guardian
            outcome = Outcome.UPDATED if outcome is Outcome.UNCHANGED else outcome
        elif _apply(guardian, values) and outcome is Outcome.UNCHANGED:
            outcome = Outcome.UPDATED
    return family, outcome


def upsert_child(uow: UnitOfWork, record: ChildRecord) -> tuple[Child, Outcome]:
    """Create or update a child and its links to one or two households."""
    issues = (
        too_long(record)
        + _required(record.external_id, "external_id", "L'identifiant ERP")
        + _required(record.first_name, "first_name", "Le prénom")
        + _required(record.last_name, "last_name", "Le nom")
    )
    if not record.families:
        issues.append(
            Issue("required", "L'enfant doit appartenir à au moins une famille.", "families")
        )
    raise_if(issues)
    families = uow.find(Family, external_id=In(record.families))
    missing = set(record.families) - {f.external_id for f in families}
    if missing:
        raise ValidationFailed.single(
            "unknown_family", f"Famille inconnue : {', '.join(sorted(missing))}.", "families"
        )
    values: dict[str, Any] = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "birth_date": record.birth_date,
        "sex": record.sex,
        "school": record.school,
        "class_level": record.class_level,
    }
    child = uow.first(Child, external_id=record.external_id)
    if child is None:
        child = Child(external_id=record.external_id, **values)
        uow.add(child)
        uow.flush()
        outcome = Outcome.CREATED
    else:
        outcome = Outcome.UPDATED if _apply(child, values) else Outcome.UNCHANGED
    assert child.id is not None
    linked = {link.family_id for link in uow.find(FamilyChild, child_id=child.id)}
    for family in families:
        if family.id not in linked:
            assert family.id is not None
            uow.add(FamilyChild(family_id=family.id, child_id=child.id))
            outcome = Outcome.UPDATED if outcome is Outcome.UNCHANGED else outcome
    return child, outcome


def upsert_enrolment(uow: UnitOfWork, record: EnrolmentRecord) -> tuple[Enrollment, Outcome]:
    """Create or update an enrolment."""
    raise_if(too_long(record))
    if record.end_date < record.start_date:
        raise ValidationFailed.single(
            "dates", "La date de fin précède la date de début.", "end_date"
        )
    child = uow.first(Child, external_id=record.child)
    if child is None:
        raise ValidationFailed.single("unknown_child", f"Enfant inconnu : {record.child}.", "child")
    family = _family_by_external_id(uow, record.family)
    activity = uow.first(Activity, code=record.activity)
    if activity is None:
        raise ValidationFailed.single(
            "unknown_activity", f"Activité inconnue : {record.activity}.", "activity"
        )
    if uow.first(FamilyChild, family_id=family.id, child_id=child.id) is None:
        raise ValidationFailed.single(
            "not_linked", "Cet enfant n'appartient pas à cette famille.", "family"
        )
    assert child.id is not None and family.id is not None and activity.id is not None
    values: dict[str, Any] = {
        "child_id": child.id,
        "family_id": family.id,
        "activity_id": activity.id,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "site": record.site,
    }
    enrolment = uow.first(Enrollment, external_id=record.external_id)
    if enrolment is None:
        enrolment = Enrollment(external_id=record.external_id, **values)
        uow.add(enrolment)
        return enrolment, Outcome.CREATED
    return enrolment, Outcome.UPDATED if _apply(enrolment, values) else Outcome.UNCHANGED


def _refuse_taken_invoice_keys(uow: UnitOfWork, record: InvoiceRecord) -> None:
    """An invoice number or payment reference already given to another invoice is refused
    with a message (the database's unique constraint would only say "conflict")."""
    owner = uow.first(Invoice, external_id=record.external_id)
    issues = []
    for name, label, value in (
        ("number", "Le numéro de facture", record.number),
        ("reference", "La référence", record.reference),
    ):
        clash = uow.first(Invoice, **{name: value})
        if clash is not None and clash is not owner:
            issues.append(
                Issue("taken", f"{label} {value} appartient déjà à une autre facture.", name)
            )
    raise_if(issues)


def upsert_invoice(uow: UnitOfWork, record: InvoiceRecord) -> tuple[Invoice, Outcome]:
    """Create or update an invoice with its lines; totals are computed exactly from the lines.

    An invoice that already received a payment keeps its lines (the ERP issues a credit note).

    :raises PaymentInProgress: a payment of the invoice is pending and the record would change
        it (docs/security.md point 33); nothing is changed.
    """
    issues = (
        too_long(record)
        + _required(record.number, "number", "Le numéro")
        + _required(record.reference, "reference", "La référence")
    )
    if record.due_date < record.issue_date:
        issues.append(Issue("dates", "L'échéance précède la date d'émission.", "due_date"))
    if not record.lines:
        issues.append(Issue("required", "Une facture a au moins une ligne.", "lines"))
    raise_if(issues)
    family = _family_by_external_id(uow, record.family)
    assert family.id is not None
    _refuse_taken_invoice_keys(uow, record)
    lines = [
        InvoiceLine(
            label=line.label,
            quantity=line.quantity,
            unit_price=to_money(line.unit_price),
            amount=to_money(line.quantity * line.unit_price),
        )
        for line in record.lines
    ]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    values: dict[str, Any] = {
        "family_id": family.id,
        "number": record.number,
        "reference": record.reference,
        "issue_date": record.issue_date,
        "due_date": record.due_date,
        "total": total,
        "label": record.label,
        "regie_code": record.regie_code,
    }
    invoice = uow.first(Invoice, external_id=record.external_id)
    if invoice is None:
        invoice = Invoice(external_id=record.external_id, **values)
        uow.add(invoice)
        uow.flush()
        outcome = Outcome.CREATED
        old_lines: list[InvoiceLine] = []
    else:
        old_lines = uow.find(InvoiceLine, invoice_id=invoice.id, order_by=("id",))
        same_lines = [(line.label, line.quantity, line.unit_price) for line in old_lines] == [
            (line.label, line.quantity, line.unit_price) for line in lines
        ]
        if invoice.paid_amount > 0 and (not same_lines or total != invoice.total):
            raise ValidationFailed.single(
                "already_paid", "Cette facture a déjà reçu un paiement : émettez un avoir.", "lines"
            )
        if not same_lines or any(getattr(invoice, k) != v for k, v in values.items()):
            refuse_change_while_paying(uow, invoice)
        changed = _apply(invoice, values)
        if same_lines:
            return invoice, Outcome.UPDATED if changed else Outcome.UNCHANGED
        outcome = Outcome.UPDATED
    for old in old_lines:
        uow.delete(old)
    for line in lines:
        line.invoice_id = invoice.id
        uow.add(line)
    if invoice.status is InvoiceStatus.OPEN and invoice.balance <= 0:
        invoice.status = InvoiceStatus.PAID
    return invoice, outcome


UPSERTS: dict[str, tuple[type, Callable[..., tuple[Any, Outcome]]]] = {
    "families": (FamilyRecord, upsert_family),
    "children": (ChildRecord, upsert_child),
    "enrolments": (EnrolmentRecord, upsert_enrolment),
    "invoices": (InvoiceRecord, upsert_invoice),
}
"""The kinds of records an ERP can import, with their record class and upsert function
(``upsert(uow, record)``; ``families`` also takes the batch's ``index=``, :func:`family_index`)."""
