"""Settings of the calendar plugin: the ``[plugins.calendar]`` table of the configuration.

Example::

    [plugins.calendar]
    school_holidays = ["2027-05-07/2027-05-07"]   # extra closed days ("pont"), ISO dates or ranges
    absence_reasons_mode = "extend"              # or "replace"
    absence_reasons = [{ code = "CERTIFICAT", label = "CERTIFICAT MEDICAL", billable = false }]

    [plugins.calendar.deadline]                  # default for every activity: J-2 at 10:00
    kind = "days_before"
    days = 2
    time = "10:00"
    working_days_only = false

    [plugins.calendar.cancellation]              # optional: a separate cancellation deadline
    kind = "days_before"
    days = 1
    time = "18:00"

    [plugins.calendar.documents]                 # justificatifs (docs/calendar.md)
    required_reasons = ["MEDICAL"]               # reasons that need one…
    days = 7                                     # …within 7 days after the absent day
    billable_if_accepted = "not_billable"        # the absence's billable flag after a decision:
    billable_if_refused = "billable"             # "billable", "not_billable" or "unchanged"

    [plugins.calendar.activity_deadlines.MERCREDI]   # per activity code
    kind = "previous_week"
    weekday = 3                                  # Thursday of the previous week
    time = "12:00"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from attrs import field, frozen, validators

from famille_core.entities import AbsenceReason

if TYPE_CHECKING:
    from famille_core.portal import Portal

NAME = "calendar"
"""The plugin's name: its entry point, its ``[plugins.calendar]`` table."""


def _hh_mm(_inst: object, _attr: object, value: str) -> None:
    match = re.fullmatch(r"(\d{2}):(\d{2})", value)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError("time must be HH:MM (24 h), e.g. 10:00")


def _date_or_range(_inst: object, _attr: object, values: tuple[str, ...]) -> None:
    for value in values:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(/\d{4}-\d{2}-\d{2})?", value):
            raise ValueError(f"{value!r} is neither an ISO date nor a range 'YYYY-MM-DD/YYYY-MM-DD'")


@frozen(kw_only=True)
class DeadlineRule:
    """When booking (or cancelling) a day stops.

    * ``days_before``: ``days`` days before the day (``working_days_only``: counting only
      Monday–Friday that are not public holidays), at ``time``, Paris time;
    * ``previous_week``: the ``weekday`` (0 = Monday) of the week before the day's week, at
      ``time`` — one deadline for the whole week.
    """

    kind: str = field(default="days_before", validator=validators.in_(["days_before", "previous_week"]))
    days: int = field(default=2, validator=validators.and_(validators.ge(0), validators.le(60)))
    time: str = field(default="10:00", validator=_hh_mm)
    working_days_only: bool = False
    weekday: int = field(default=3, validator=validators.in_(range(7)))

    @property
    def hour_minute(self) -> tuple[int, int]:
        """``time`` as integers."""
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


@frozen(kw_only=True)
class ReasonSetting:
    """An absence reason written in the configuration."""

    code: str = field(validator=validators.matches_re(r"[A-Z0-9_]{1,40}"))
    label: str = field(validator=validators.min_len(1))
    billable: bool = False

    def to_reason(self) -> AbsenceReason:
        """The :class:`AbsenceReason` value."""
        return AbsenceReason(code=self.code, label=self.label, billable=self.billable)


BILLING_EFFECTS = {"billable": True, "not_billable": False, "unchanged": None}
"""What a justificatif's decision does to the absence's billable flag."""


@frozen(kw_only=True)
class DocumentSettings:
    """Justificatifs: which absence reasons need one and by when, and what a decision does to the
    absence's billable flag (``unchanged``: the flag stays as the reason set it)."""

    required_reasons: tuple[str, ...] = ("MEDICAL",)
    days: int = field(default=7, validator=validators.and_(validators.ge(0), validators.le(365)))
    """A required justificatif is due within this many days after the absent day."""
    billable_if_accepted: str = field(default="not_billable", validator=validators.in_(BILLING_EFFECTS))
    billable_if_refused: str = field(default="billable", validator=validators.in_(BILLING_EFFECTS))
    max_bytes: int = field(default=5 * 1024 * 1024, validator=validators.ge(1024))
    max_image_pixels: int = field(default=40_000_000, validator=validators.ge(1))

    def billable_after(self, accepted: bool) -> bool | None:
        """The absence's billable flag after a decision; ``None``: leave it."""
        return BILLING_EFFECTS[self.billable_if_accepted if accepted else self.billable_if_refused]


@frozen(kw_only=True)
class CalendarSettings:
    """The calendar plugin's rules, for the whole collectivity."""

    deadline: DeadlineRule = DeadlineRule()
    cancellation: DeadlineRule | None = None
    """``None``: cancelling stops at the reservation deadline."""
    activity_deadlines: dict[str, DeadlineRule] = field(factory=dict)
    """Reservation deadlines per activity code (overrides ``deadline``)."""
    activity_cancellations: dict[str, DeadlineRule] = field(factory=dict)
    """Cancellation deadlines per activity code (overrides ``cancellation``)."""
    school_holidays: tuple[str, ...] = field(default=(), validator=_date_or_range)
    """Extra school-holiday days or ranges, added to the zone's calendar of the ``holidays``
    package (for a calendar newer than the installed package)."""
    closures: tuple[str, ...] = field(default=(), validator=_date_or_range)
    """Municipal closures (days or ranges), added to ``[collectivity] closures``."""
    use_school_holidays: bool = True
    """False for an activity calendar that runs during school holidays (centre de loisirs)."""
    absence_reasons: tuple[ReasonSetting, ...] = ()
    absence_reasons_mode: str = field(default="extend", validator=validators.in_(["extend", "replace"]))
    """``replace``: ``absence_reasons`` is the whole list; ``extend``: added to the others."""
    feed_days_back: int = field(default=60, validator=validators.ge(0))
    """How far back the iCalendar feed goes."""
    documents: DocumentSettings = DocumentSettings()
    """Justificatifs attached to absences."""

    def deadline_for(self, activity_code: str) -> DeadlineRule:
        """The reservation deadline rule of an activity."""
        return self.activity_deadlines.get(activity_code, self.deadline)

    def cancellation_for(self, activity_code: str) -> DeadlineRule:
        """The cancellation deadline rule of an activity."""
        rule = self.activity_cancellations.get(activity_code, self.cancellation)
        return rule if rule is not None else self.deadline_for(activity_code)


def settings_of(portal: Portal) -> CalendarSettings:
    """The validated ``[plugins.calendar]`` settings of ``portal``."""
    settings: CalendarSettings = portal.config_for(NAME)
    return settings
