"""The domain entities of Portail Famille (attrs classes, persistence-agnostic).

Persisted aggregates are ``@define(slots=False, eq=False, kw_only=True)`` so SQLAlchemy can map
them imperatively; values are ``@frozen``.
"""

from famille_core.entities.accounts import (
    Actor,
    AuditRecord,
    ChangeRequest,
    PasswordResetToken,
    Role,
    User,
)
from famille_core.entities.activities import (
    Absence,
    AbsenceReason,
    Activity,
    BookingPolicy,
    CalendarFeed,
    Enrollment,
    Reservation,
    ReservationState,
)
from famille_core.entities.billing import (
    EXPIRED_WITHOUT_RESULT,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Overpayment,
    PaymentState,
    PaymentTransaction,
    RefundState,
    Regie,
)
from famille_core.entities.children import (
    AuthorizedPerson,
    Child,
    ChildDetails,
    Diet,
    FamilyChild,
    HealthRecord,
    Vaccination,
)
from famille_core.entities.family import (
    BankDetails,
    CafInfo,
    CafRegime,
    Family,
    FiscalData,
    Guardian,
    GuardianRole,
    ProfileExtraValue,
)
from famille_core.entities.integration import (
    ApiClient,
    DomainEvent,
    Scope,
    WebhookDelivery,
    WebhookSubscription,
)
from famille_core.entities.mail import EmailState, OutgoingEmail
from famille_core.entities.messages import Attachment, Direction, Message, Thread

__all__ = [
    "EXPIRED_WITHOUT_RESULT",
    "Absence",
    "AbsenceReason",
    "Activity",
    "Actor",
    "ApiClient",
    "Attachment",
    "AuditRecord",
    "AuthorizedPerson",
    "BankDetails",
    "BookingPolicy",
    "CafInfo",
    "CafRegime",
    "CalendarFeed",
    "ChangeRequest",
    "Child",
    "ChildDetails",
    "Diet",
    "Direction",
    "DomainEvent",
    "EmailState",
    "Enrollment",
    "Family",
    "FamilyChild",
    "FiscalData",
    "Guardian",
    "GuardianRole",
    "HealthRecord",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Message",
    "OutgoingEmail",
    "Overpayment",
    "PasswordResetToken",
    "PaymentState",
    "PaymentTransaction",
    "ProfileExtraValue",
    "RefundState",
    "Regie",
    "Reservation",
    "ReservationState",
    "Role",
    "Scope",
    "Thread",
    "User",
    "Vaccination",
    "WebhookDelivery",
    "WebhookSubscription",
]
