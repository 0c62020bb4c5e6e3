"""Mes données: everything the portal keeps about a household, as JSON (GDPR art. 15 and 20).

Secrets never leave (password hashes, session nonces, second-factor secrets, token hashes); the
IBAN is masked, as everywhere else, so that a stolen session cannot harvest it.
"""

from __future__ import annotations

from typing import Any

import attrs

from famille_core.entities import (
    Absence,
    Actor,
    Attachment,
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    CalendarFeed,
    ChangeRequest,
    ChildDetails,
    Enrollment,
    FiscalData,
    Guardian,
    HealthRecord,
    Invoice,
    InvoiceLine,
    Message,
    Overpayment,
    PaymentTransaction,
    ProfileExtraValue,
    Reservation,
    Thread,
    User,
)
from famille_core.portal import Portal
from famille_core.services.access import children_of, family_for
from famille_core.uow import In, UnitOfWork
from famille_plugins.profile.services.fields import mask_iban

SECRET_FIELDS = {
    "password_hash",
    "session_nonce",
    "totp_secret",
    "totp_last_step",
    "token_hash",
    "secret_hash",
    "provider_data",
    "storage_key",
    "photo_key",
}


def _plain(entity: Any) -> dict[str, Any]:
    data: dict[str, Any] = attrs.asdict(
        entity, filter=lambda attribute, _value: attribute.name not in SECRET_FIELDS
    )
    if isinstance(entity, BankDetails):
        data["iban"] = mask_iban(entity.iban)
    if isinstance(entity, ChangeRequest) and "iban" in data["payload"].get("values", {}):
        data["payload"] = {**data["payload"], "values": {**data["payload"]["values"], "iban": mask_iban(data["payload"]["values"]["iban"])}}
    return data


def _all(items: list[Any]) -> list[dict[str, Any]]:
    return [_plain(item) for item in items]


def export_family_data(portal: Portal, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The household's data as plain JSON-ready structures (one query per kind of record)."""
    family = family_for(uow, actor)
    fid = family.id
    children = children_of(uow, fid)  # type: ignore[arg-type]
    ids = [child.id for child in children]
    by_child: dict[str, list[Any]] = {}
    if ids:
        by_child = {
            "details": uow.find(ChildDetails, child_id=In(ids)),
            "health": uow.find(HealthRecord, child_id=In(ids)),
            "persons": uow.find(AuthorizedPerson, child_id=In(ids), family_id=fid),
        }
    kids = []
    for child in children:
        entry = _plain(child)
        entry["has_photo"] = child.photo_key is not None
        entry["details"] = _all([d for d in by_child.get("details", []) if d.child_id == child.id])
        entry["health_record"] = _all([h for h in by_child.get("health", []) if h.child_id == child.id])
        entry["authorized_persons"] = _all([p for p in by_child.get("persons", []) if p.child_id == child.id])
        kids.append(entry)
    invoices = uow.find(Invoice, family_id=fid, order_by=("issue_date", "id"))
    threads = uow.find(Thread, family_id=fid, order_by=("created_at", "id"))
    return {
        "format": "portail-famille/mes-donnees/1",
        "exported_at": portal.clock.now().isoformat(),
        "family": _plain(family),
        "accounts": _all(uow.find(User, family_id=fid, order_by=("id",))),
        "guardians": _all(uow.find(Guardian, family_id=fid, order_by=("id",))),
        "fiscal_data": _all(uow.find(FiscalData, family_id=fid, order_by=("year",))),
        "caf": _all(uow.find(CafInfo, family_id=fid)),
        "bank_details": _all(uow.find(BankDetails, family_id=fid)),
        "children": kids,
        "extra_fields": _all(uow.find(ProfileExtraValue, family_id=fid, order_by=("id",))),
        "change_requests": _all(uow.find(ChangeRequest, family_id=fid, order_by=("created_at", "id"))),
        "enrollments": _all(uow.find(Enrollment, family_id=fid, order_by=("start_date", "id"))),
        "reservations": _all(uow.find(Reservation, family_id=fid, order_by=("day", "id"))),
        "absences": _all(uow.find(Absence, family_id=fid, order_by=("day", "id"))),
        "calendar_feeds": _all(uow.find(CalendarFeed, family_id=fid)),
        "invoices": _all(invoices),
        "invoice_lines": _all(uow.find(InvoiceLine, invoice_id=In([i.id for i in invoices]))) if invoices else [],
        "payments": _all(uow.find(PaymentTransaction, family_id=fid, order_by=("created_at", "id"))),
        "overpayments": _all(uow.find(Overpayment, family_id=fid, order_by=("created_at", "id"))),
        "threads": _all(threads),
        "messages": _all(uow.find(Message, family_id=fid, order_by=("created_at", "id"))),
        "attachments": _all(uow.find(Attachment, family_id=fid)),
    }
