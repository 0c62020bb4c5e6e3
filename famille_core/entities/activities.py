"""Activities, enrolments, day reservations and absences (the agenda)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from attrs import define, frozen


class BookingPolicy(StrEnum):
    """How an activity treats a parent's reservation request."""

    AUTO = "auto"
    """Accepted at once when every rule holds."""
    REQUEST = "request"
    """Stays "demande en cours" until an agent accepts or refuses it."""


@define(slots=False, eq=False, kw_only=True)
class Activity:
    """A service offered to children (cantine, accueil du matin…)."""

    id: int | None = None
    code: str
    label: str
    service: str = "ENFANCE"
    weekdays: str = "0,1,3,4"
    """Days the activity runs, ISO weekday numbers from 0 (Monday), comma-separated."""
    capacity: int | None = None
    policy: BookingPolicy = BookingPolicy.AUTO
    unit_price: Decimal = Decimal("0.00")
    active: bool = True

    @property
    def weekday_set(self) -> frozenset[int]:
        """The running weekdays as integers (0 = Monday)."""
        return frozenset(int(d) for d in self.weekdays.split(",") if d.strip())


@define(slots=False, eq=False, kw_only=True)
class Enrollment:
    """Inscription (done at the town hall): a child in an activity for a period."""

    id: int | None = None
    child_id: int
    activity_id: int
    family_id: int
    start_date: date
    end_date: date
    site: str = ""
    external_id: str | None = None

    def covers(self, day: date) -> bool:
        """True when ``day`` is inside the enrolment period."""
        return self.start_date <= day <= self.end_date


class ReservationState(StrEnum):
    """Life of a day reservation."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


@define(slots=False, eq=False, kw_only=True)
class Reservation:
    """Demande de réservation journalière: one child, one activity, one day."""

    id: int | None = None
    child_id: int
    activity_id: int
    family_id: int
    day: date
    state: ReservationState = ReservationState.REQUESTED
    created_at: datetime
    created_by: int | None = None
    decided_at: datetime | None = None
    decided_by: int | None = None
    refusal_reason: str = ""
    version: int = 1

    @property
    def is_active(self) -> bool:
        """True when the reservation holds a place (requested or accepted)."""
        return self.state in (ReservationState.REQUESTED, ReservationState.ACCEPTED)


@frozen(kw_only=True)
class AbsenceReason:
    """A reason offered to parents when they declare an absence (motif)."""

    code: str
    label: str
    billable: bool = False
    """Whether the absent day is still billed."""


@define(slots=False, eq=False, kw_only=True)
class Absence:
    """Demande d'absence: a child absent from an activity on a day, with a reason."""

    id: int | None = None
    child_id: int
    activity_id: int
    family_id: int
    day: date
    reason_code: str
    reason_label: str
    billable: bool = False
    comment: str = ""
    created_at: datetime
    created_by: int | None = None


@define(slots=False, eq=False, kw_only=True)
class CalendarFeed:
    """A private, revocable iCalendar subscription for one child of one household, or for all
    the household's children (``child_id`` is ``None``)."""

    id: int | None = None
    child_id: int | None = None
    family_id: int
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@define(slots=False, eq=False, kw_only=True)
class Attendance:
    """Pointage: whether a child was there on a day of an activity, as an agent last marked it.

    One row per child, activity and day; every mark (the first and each correction) is kept in
    :class:`AttendanceMark`. Parents never change these rows (docs/calendar.md, "Pointage").
    """

    id: int | None = None
    child_id: int
    activity_id: int
    family_id: int
    day: date
    present: bool
    unexpected: bool = False
    """The child came without a booking ("enfant non prévu")."""
    marked_at: datetime
    marked_by: int | None = None
    version: int = 1


@define(slots=False, eq=False, kw_only=True)
class AttendanceMark:
    """One mark of an :class:`Attendance` row: the trace of who marked what, and when."""

    id: int | None = None
    attendance_id: int
    present: bool
    at: datetime
    by: int | None = None


class DocumentState(StrEnum):
    """Life of a justificatif."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@define(slots=False, eq=False, kw_only=True)
class SupportingDocument:
    """Justificatif: a file (PDF or image) a household attached to an absence, for an agent to
    accept or refuse. The file lives outside the web root under a random key."""

    id: int | None = None
    absence_id: int
    family_id: int
    filename: str
    content_type: str
    size: int
    storage_key: str
    state: DocumentState = DocumentState.PENDING
    uploaded_at: datetime
    uploaded_by: int | None = None
    decided_at: datetime | None = None
    decided_by: int | None = None
    refusal_reason: str = ""
    version: int = 1
