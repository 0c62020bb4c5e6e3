"""What the profile gives out of its records: its sections of "Mes données" (the records of
"Mon compte" and "Mes enfants") and its events in the domain feed.

In the export the IBAN is masked, as everywhere else, so that a stolen session cannot harvest
it; the core's :func:`~famille_core.services.export.records` leaves the other secrets out.
"""

from __future__ import annotations

from typing import Any

import attrs

from famille_core.entities import (
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    ChangeRequest,
    ChildDetails,
    FiscalData,
    HealthRecord,
    ProfileExtraValue,
)
from famille_core.feed import record_policy
from famille_core.hooks.results import EventPolicy, FeedEvent
from famille_core.services.access import children_of
from famille_core.services.export import record, records
from famille_core.uow import In, UnitOfWork
from famille_plugins.profile.services.fields import mask_iban


def _masked(entity: BankDetails | ChangeRequest) -> dict[str, Any]:
    data = record(entity)
    if isinstance(entity, BankDetails):
        data["iban"] = mask_iban(entity.iban)
    elif "iban" in data["payload"].get("values", {}):
        values = data["payload"]["values"]
        data["payload"] = {**data["payload"], "values": {**values, "iban": mask_iban(values["iban"])}}
    return data


def family_sections(uow: UnitOfWork, family_id: int) -> dict[str, Any]:
    """The household's profile records (one query per kind of record)."""
    fid = family_id
    children = children_of(uow, fid)
    ids = [child.id for child in children]
    details, health, persons = [], [], []
    if ids:
        details = uow.find(ChildDetails, child_id=In(ids))
        health = uow.find(HealthRecord, child_id=In(ids))
        persons = uow.find(AuthorizedPerson, child_id=In(ids), family_id=fid)
    kids = []
    for child in children:
        entry = record(child)
        entry["has_photo"] = child.photo_key is not None
        entry["details"] = records(d for d in details if d.child_id == child.id)
        entry["health_record"] = records(h for h in health if h.child_id == child.id)
        entry["authorized_persons"] = records(p for p in persons if p.child_id == child.id)
        kids.append(entry)
    changes = uow.find(ChangeRequest, family_id=fid, order_by=("created_at", "id"))
    return {
        "fiscal_data": records(uow.find(FiscalData, family_id=fid, order_by=("year",))),
        "caf": records(uow.find(CafInfo, family_id=fid)),
        "bank_details": [_masked(b) for b in uow.find(BankDetails, family_id=fid)],
        "children": kids,
        "extra_fields": records(uow.find(ProfileExtraValue, family_id=fid, order_by=("id",))),
        "change_requests": [_masked(c) for c in changes],
    }


SENSITIVE_SECTIONS = ("banque", "sanitaires")
"""Sections whose values the feed never carries: the ERP reads them with ``bank:read`` or
``health:read`` (docs/api.md, "What changed")."""

EVENT_POLICIES = (
    record_policy(FiscalData, "fiscal_data"),
    record_policy(CafInfo, "caf_info"),
    record_policy(BankDetails, "bank_details", sensitive=("*",)),
    record_policy(ChildDetails, "child_details"),
    record_policy(HealthRecord, "health_record", sensitive=("*",)),
    record_policy(AuthorizedPerson, "authorized_person"),
    attrs.evolve(
        record_policy(ProfileExtraValue, "profile_extra_value"),
        sensitive=lambda row: ("value",) if row.section in SENSITIVE_SECTIONS else (),
    ),
    EventPolicy(
        entity_type=ChangeRequest,
        entity="change_request",
        changed=lambda request, changed: FeedEvent(
            kind="change_request.decided",
            payload={"section": request.section, "state": request.state},
        )
        if changed("state")
        else None,
    ),
)
"""The household's records of the profile: the events the ERP follows (docs/api.md)."""
