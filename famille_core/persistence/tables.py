"""The database tables (SQLAlchemy Core). Alembic migrations next door must agree with them
(a test compares both)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from famille_core.entities import (
    BookingPolicy,
    CafRegime,
    Direction,
    DocumentState,
    EmailState,
    GuardianRole,
    InvoiceStatus,
    PaymentState,
    RefundState,
    ReservationState,
    Role,
    Vaccination,
)
from famille_core.persistence.types import Hundredths, Money, StructuredJSON, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> Column[Any]:
    return Column(
        name, ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


def _text(name: str, length: int = 200) -> Column[Any]:
    return Column(name, String(length), nullable=False, default="")


def _enum(name: str, cls: type[enum.StrEnum]) -> Column[Any]:
    return Column(
        name,
        Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )


def _version() -> Column[Any]:
    return Column("version", Integer, nullable=False, default=1)


family = Table(
    "family",
    metadata,
    _id(),
    Column("family_number", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("external_id", String(100), unique=True),
    Column("created_at", UTCDateTime()),
    _version(),
    Column("data_version", BigInteger, nullable=False, server_default=text("0")),
)
"""``data_version``: bumped in the same transaction as any change to the household's data, so a
page rendered for it is known to be current (famille_core/persistence/page_versions.py,
docs/deployment.md "Fast pages"). Not mapped on :class:`~famille_core.entities.Family`."""

guardian = Table(
    "guardian",
    metadata,
    _id(),
    _fk("family_id", "family"),
    _enum("role", GuardianRole),
    _text("civility", 20),
    Column("last_name", String(100), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("birth_date", Date),
    _text("address", 300),
    _text("postal_code", 10),
    _text("city", 100),
    _text("phone_home", 30),
    _text("phone_mobile", 30),
    _text("phone_work", 30),
    _text("email", 254),
    _text("profession", 100),
    _text("employer", 100),
    _version(),
    UniqueConstraint("family_id", "role"),
)

fiscal_data = Table(
    "fiscal_data",
    metadata,
    _id(),
    _fk("family_id", "family"),
    Column("year", Integer, nullable=False),
    Column("reference_income", Money(), nullable=False),
    Column("tax_shares", Hundredths(), nullable=False),
    _version(),
    UniqueConstraint("family_id", "year"),
)

caf_info = Table(
    "caf_info",
    metadata,
    _id(),
    _fk("family_id", "family"),
    _enum("regime", CafRegime),
    _text("allocataire_number", 20),
    Column("quotient", Money()),
    Column("valid_from", Date),
    _version(),
    UniqueConstraint("family_id"),
)

bank_details = Table(
    "bank_details",
    metadata,
    _id(),
    _fk("family_id", "family"),
    Column("holder", String(200), nullable=False),
    Column("iban", String(34), nullable=False),
    _text("bic", 11),
    _text("mandate_reference", 35),
    Column("mandate_date", Date),
    _version(),
    UniqueConstraint("family_id"),
)

profile_extra_value = Table(
    "profile_extra_value",
    metadata,
    _id(),
    _fk("family_id", "family"),
    _fk("child_id", "child", nullable=True, index=False),
    Column("section", String(50), nullable=False),
    Column("name", String(50), nullable=False),
    Column("value", Text, nullable=False, default=""),
    UniqueConstraint("family_id", "child_id", "section", "name"),
)
"""Values of the fields a collectivity adds through the ``profile_fields`` hook."""

child = Table(
    "child",
    metadata,
    _id(),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("birth_date", Date),
    _text("sex", 1),
    _text("school", 200),
    _text("class_level", 50),
    Column("photo_key", String(100)),
    Column("external_id", String(100), unique=True),
    _version(),
)

family_child = Table(
    "family_child",
    metadata,
    _id(),
    _fk("family_id", "family"),
    _fk("child_id", "child"),
    UniqueConstraint("family_id", "child_id"),
)

authorized_person = Table(
    "authorized_person",
    metadata,
    _id(),
    _fk("child_id", "child"),
    _fk("family_id", "family"),
    Column("last_name", String(100), nullable=False),
    Column("first_name", String(100), nullable=False),
    _text("relationship", 100),
    _text("phone", 30),
    _text("phone_alt", 30),
    Column("may_pick_up", Boolean, nullable=False, default=True),
    Column("emergency_contact", Boolean, nullable=False, default=False),
    _version(),
)

child_details = Table(
    "child_details",
    metadata,
    _id(),
    _fk("child_id", "child", index=False),
    Column("diet", String(20), nullable=False),
    Column("image_rights", Boolean, nullable=False, default=False),
    Column("may_leave_alone", Boolean, nullable=False, default=False),
    _text("insurance_company", 200),
    _text("insurance_policy", 100),
    _version(),
    UniqueConstraint("child_id"),
)

health_record = Table(
    "health_record",
    metadata,
    _id(),
    _fk("child_id", "child", index=False),
    _text("doctor_name", 200),
    _text("doctor_phone", 30),
    Column("vaccinations", StructuredJSON(list[Vaccination]), nullable=False),
    Column("food_allergies", Text, nullable=False, default=""),
    Column("drug_allergies", Text, nullable=False, default=""),
    Column("has_pai", Boolean, nullable=False, default=False),
    Column("pai_details", Text, nullable=False, default=""),
    Column("treatments", Text, nullable=False, default=""),
    Column("recommendations", Text, nullable=False, default=""),
    _version(),
    UniqueConstraint("child_id"),
)

user_account = Table(
    "user_account",
    metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    _enum("role", Role),
    Column("display_name", String(200), nullable=False),
    _fk("family_id", "family", nullable=True),
    Column("guardian_id", ForeignKey("guardian.id", ondelete="SET NULL")),
    Column("service", String(50)),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("session_nonce", String(64), nullable=False),
    Column("created_at", UTCDateTime()),
    Column("last_login_at", UTCDateTime()),
    Column("totp_secret", String(64)),
    Column("totp_last_step", BigInteger),
    Column("invited_at", UTCDateTime()),
    Column("activated_at", UTCDateTime()),
)

password_reset_token = Table(
    "password_reset_token",
    metadata,
    _id(),
    _fk("user_id", "user_account"),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Column("purpose", String(20), nullable=False, default="reset"),
    Column("new_email", String(254)),
)

audit_record = Table(
    "audit_record",
    metadata,
    _id(),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("actor_user_id", Integer, index=True),
    Column("action", String(50), nullable=False),
    Column("record_type", String(50), nullable=False),
    Column("record_id", Integer),
    Column("family_id", Integer, index=True),
    Column("api_client_id", Integer, ForeignKey("api_client.id"), index=True),
    _text("reason", 500),
)

change_request = Table(
    "change_request",
    metadata,
    _id(),
    _fk("family_id", "family"),
    Column("section", String(50), nullable=False),
    Column("target_id", Integer),
    Column("payload", JSON, nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", Integer),
    Column("decided_at", UTCDateTime()),
    Column("decided_by", Integer),
    _text("decision_comment", 500),
)

activity = Table(
    "activity",
    metadata,
    _id(),
    Column("code", String(30), nullable=False, unique=True),
    Column("label", String(100), nullable=False),
    Column("service", String(50), nullable=False),
    Column("weekdays", String(20), nullable=False),
    Column("capacity", Integer),
    _enum("policy", BookingPolicy),
    Column("unit_price", Money(), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

enrollment = Table(
    "enrollment",
    metadata,
    _id(),
    _fk("child_id", "child"),
    _fk("activity_id", "activity"),
    _fk("family_id", "family"),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    _text("site", 200),
    Column("external_id", String(100), unique=True),
)

reservation = Table(
    "reservation",
    metadata,
    _id(),
    _fk("child_id", "child", index=False),
    _fk("activity_id", "activity", index=False),
    _fk("family_id", "family"),
    Column("day", Date, nullable=False),
    _enum("state", ReservationState),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", Integer),
    Column("decided_at", UTCDateTime()),
    Column("decided_by", Integer),
    _text("refusal_reason", 500),
    _version(),
    UniqueConstraint("child_id", "activity_id", "day"),
    Index("ix_reservation_activity_day_state", "activity_id", "day", "state"),
    Index("ix_reservation_day_state", "day", "state"),  # one day across activities (headcount)
)

absence = Table(
    "absence",
    metadata,
    _id(),
    _fk("child_id", "child", index=False),
    _fk("activity_id", "activity", index=False),
    _fk("family_id", "family"),
    Column("day", Date, nullable=False),
    Column("reason_code", String(30), nullable=False),
    Column("reason_label", String(100), nullable=False),
    Column("billable", Boolean, nullable=False, default=False),
    _text("comment", 500),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", Integer),
    UniqueConstraint("child_id", "activity_id", "day"),
    Index("ix_absence_activity_day", "activity_id", "day"),
)

calendar_feed = Table(
    "calendar_feed",
    metadata,
    _id(),
    _fk("child_id", "child", nullable=True),  # NULL: the whole household's calendar
    _fk("family_id", "family"),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

attendance = Table(
    "attendance",
    metadata,
    _id(),
    _fk("child_id", "child", index=False),
    _fk("activity_id", "activity", index=False),
    _fk("family_id", "family"),
    Column("day", Date, nullable=False),
    Column("present", Boolean, nullable=False),
    Column("unexpected", Boolean, nullable=False, default=False),
    Column("marked_at", UTCDateTime(), nullable=False),
    Column("marked_by", Integer),
    _version(),
    UniqueConstraint("child_id", "activity_id", "day"),
    Index("ix_attendance_activity_day", "activity_id", "day"),
    Index("ix_attendance_day", "day"),
)

attendance_mark = Table(
    "attendance_mark",
    metadata,
    _id(),
    _fk("attendance_id", "attendance"),
    Column("present", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("by", Integer),
)

supporting_document = Table(
    "supporting_document",
    metadata,
    _id(),
    _fk("absence_id", "absence"),
    _fk("family_id", "family"),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("storage_key", String(100), nullable=False, unique=True),
    _enum("state", DocumentState),
    Column("uploaded_at", UTCDateTime(), nullable=False),
    Column("uploaded_by", Integer),
    Column("decided_at", UTCDateTime()),
    Column("decided_by", Integer),
    _text("refusal_reason", 300),
    _version(),
    Index("ix_supporting_document_state", "state"),
)

thread = Table(
    "thread",
    metadata,
    _id(),
    _fk("family_id", "family"),
    Column("service", String(50), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("handled", Boolean, nullable=False, default=False),
)

message = Table(
    "message",
    metadata,
    _id(),
    _fk("thread_id", "thread"),
    _fk("family_id", "family"),
    _enum("direction", Direction),
    Column("author_user_id", Integer),
    Column("author_label", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("size", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("read_at", UTCDateTime()),
    Column("is_system", Boolean, nullable=False, default=False),
)

group_message = Table(
    "group_message",
    metadata,
    _id(),
    Column("service", String(50), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("audience", String(300), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("created_by", Integer),
    _text("author_label"),
    Column("recipients", Integer, nullable=False, default=0),
    Column("delivered_at", UTCDateTime()),
)

group_message_recipient = Table(
    "group_message_recipient",
    metadata,
    _id(),
    _fk("group_message_id", "group_message"),
    _fk("family_id", "family"),
    Column("message_id", Integer),
    UniqueConstraint("group_message_id", "family_id"),
)

attachment = Table(
    "attachment",
    metadata,
    _id(),
    _fk("message_id", "message"),
    _fk("family_id", "family"),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("storage_key", String(100), nullable=False, unique=True),
)

invoice = Table(
    "invoice",
    metadata,
    _id(),
    _fk("family_id", "family"),
    Column("number", String(40), nullable=False, unique=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("regie_code", String(30), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("total", Money(), nullable=False),
    Column("paid_amount", Money(), nullable=False),
    _enum("status", InvoiceStatus),
    _text("label", 200),
    Column("external_id", String(100), unique=True),
    _version(),
)

invoice_line = Table(
    "invoice_line",
    metadata,
    _id(),
    _fk("invoice_id", "invoice"),
    Column("label", String(200), nullable=False),
    Column("quantity", Hundredths(), nullable=False),
    Column("unit_price", Money(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("child_id", ForeignKey("child.id", ondelete="SET NULL")),
)

payment_transaction = Table(
    "payment_transaction",
    metadata,
    _id(),
    _fk("invoice_id", "invoice"),
    _fk("family_id", "family"),
    Column("provider", String(30), nullable=False),
    Column("amount", Money(), nullable=False),
    _enum("state", PaymentState),
    Column("provider_ref", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("provider_data", JSON, nullable=False),
    UniqueConstraint("provider", "provider_ref"),
    # One payment in flight per invoice (docs/security.md point 33): the services check it under
    # a lock; this index makes a second pending row impossible even if a path forgot the lock.
    Index(
        "uq_payment_transaction_one_pending",
        "invoice_id",
        unique=True,
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
)

overpayment = Table(
    "overpayment",
    metadata,
    _id(),
    _fk("invoice_id", "invoice"),
    _fk("family_id", "family"),
    Column(
        "transaction_id",
        ForeignKey("payment_transaction.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("amount", Money(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _enum("state", RefundState),
    Column("refunded_at", UTCDateTime()),
    Column("refunded_by", ForeignKey("user_account.id", ondelete="SET NULL")),
)
"""Money received beyond an invoice's total, to refund (docs/security.md point 33)."""

api_client = Table(
    "api_client",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
)

domain_event = Table(
    "domain_event",
    metadata,
    _id(),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(50), nullable=False, index=True),
    Column("entity", String(50), nullable=False),
    Column("entity_id", Integer),
    Column("family_id", Integer, index=True),
    Column("payload", JSON, nullable=False),
)
"""The event feed (outbox): the id is the cursor."""

webhook_subscription = Table(
    "webhook_subscription",
    metadata,
    _id(),
    _fk("api_client_id", "api_client"),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("cursor", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("claimed_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("version", Integer, nullable=False, default=1),
)
"""ERPs' webhooks: the feed pushed, in order, from ``cursor`` (docs/api.md, "Webhooks")."""

webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    _id(),
    _fk("subscription_id", "webhook_subscription"),
    Column("event_id", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("delivered", Boolean, nullable=False),
    Column("status_code", Integer),
    _text("error", 200),
    Column("duration_ms", Integer, nullable=False, default=0),
)
"""The delivery log: one row per attempt."""

outgoing_email = Table(
    "outgoing_email",
    metadata,
    _id(),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("kind", String(50), nullable=False),
    _enum("state", EmailState),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    _text("last_error", 200),
    _version(),
    Index("ix_outgoing_email_state_next_attempt_at", "state", "next_attempt_at"),
)
"""The mail queue: every e-mail, written in the transaction that causes it, then sent."""

named_lock = Table(
    "named_lock",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("counter", Integer, nullable=False, default=0),
)
"""Rows locked by :meth:`UnitOfWork.lock` on databases without advisory locks (SQLite)."""

attempt_counter = Table(
    "attempt_counter",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Double, nullable=False),
)
"""Attempt counters shared by every worker (host_flask.attempts, docs/security.md point 35): the
name holds keyed hashes only; ``expires_at`` is a Unix time."""

portal_version = Table(
    "portal_version",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("version", BigInteger, nullable=False, default=0),
)
"""Versions of what belongs to no household (row ``pages``: activities, group messages, any
change not mapped to a household), bumped like ``family.data_version``
(famille_core/persistence/page_versions.py)."""
