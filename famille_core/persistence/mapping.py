"""Imperative mapping of the attrs entities onto the tables (done once per process)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import registry

from famille_core import entities as e
from famille_core.persistence import tables as t

mapper_registry = registry(metadata=t.metadata)

MAPPINGS: tuple[tuple[type, Table], ...] = (
    (e.Family, t.family),
    (e.Guardian, t.guardian),
    (e.FiscalData, t.fiscal_data),
    (e.CafInfo, t.caf_info),
    (e.BankDetails, t.bank_details),
    (e.ProfileExtraValue, t.profile_extra_value),
    (e.Child, t.child),
    (e.FamilyChild, t.family_child),
    (e.AuthorizedPerson, t.authorized_person),
    (e.ChildDetails, t.child_details),
    (e.HealthRecord, t.health_record),
    (e.User, t.user_account),
    (e.PasswordResetToken, t.password_reset_token),
    (e.AuditRecord, t.audit_record),
    (e.ChangeRequest, t.change_request),
    (e.Activity, t.activity),
    (e.Enrollment, t.enrollment),
    (e.Reservation, t.reservation),
    (e.Absence, t.absence),
    (e.CalendarFeed, t.calendar_feed),
    (e.Attendance, t.attendance),
    (e.AttendanceMark, t.attendance_mark),
    (e.SupportingDocument, t.supporting_document),
    (e.Thread, t.thread),
    (e.GroupMessage, t.group_message),
    (e.GroupMessageRecipient, t.group_message_recipient),
    (e.Message, t.message),
    (e.Attachment, t.attachment),
    (e.Invoice, t.invoice),
    (e.InvoiceLine, t.invoice_line),
    (e.PaymentTransaction, t.payment_transaction),
    (e.Overpayment, t.overpayment),
    (e.ApiClient, t.api_client),
    (e.DomainEvent, t.domain_event),
    (e.WebhookSubscription, t.webhook_subscription),
    (e.WebhookDelivery, t.webhook_delivery),
    (e.OutgoingEmail, t.outgoing_email),
)

_VERSIONED = {
    e.Family,
    e.Guardian,
    e.FiscalData,
    e.CafInfo,
    e.BankDetails,
    e.Child,
    e.AuthorizedPerson,
    e.ChildDetails,
    e.HealthRecord,
    e.Reservation,
    e.Attendance,
    e.SupportingDocument,
    e.Invoice,
    e.OutgoingEmail,
    e.WebhookSubscription,
}


def map_entities() -> None:
    """Map every entity (idempotent). Versioned entities use optimistic locking."""
    for cls, table in MAPPINGS:
        if getattr(cls, "__mapper__", None) is not None:
            continue
        options: dict[str, object] = {}
        if cls in _VERSIONED:
            options["version_id_col"] = table.c.version
        if cls is e.Family:
            # bumped by Core statements only (famille_core/persistence/page_versions.py)
            options["exclude_properties"] = ["data_version"]
        mapper_registry.map_imperatively(cls, table, **options)
