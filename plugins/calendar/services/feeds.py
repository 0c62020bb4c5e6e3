"""Private, revocable iCalendar subscriptions: one secret URL per child and household."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    CalendarFeed,
    Reservation,
    ReservationState,
)
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.services.access import child_for, require_family
from famille_core.uow import Gte, In, UnitOfWork

FEED_STATES = [ReservationState.ACCEPTED, ReservationState.REQUESTED]


def hash_token(token: str) -> str:
    """Only the token's hash is stored: a database leak gives no usable URL."""
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(uow: UnitOfWork, actor: Actor, child_id: int) -> CalendarFeed | None:
    """The child's current subscription for the actor's household, if any."""
    family_id = require_family(actor)
    return uow.first(CalendarFeed, child_id=child_id, family_id=family_id, revoked_at=None)


def revoke_feed(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> bool:
    """Revoke the child's subscription URL; True when there was one."""
    child_for(uow, actor, child_id)
    feed = active_feed(uow, actor, child_id)
    if feed is None:
        return False
    feed.revoked_at = portal.clock.now()
    uow.flush()
    return True


def create_feed(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> str:
    """A new subscription token for the child (the previous URL stops working).

    :return: the token, shown once; only its hash is kept.
    """
    family_id = require_family(actor)
    child = child_for(uow, actor, child_id)
    revoke_feed(portal, uow, actor, child_id)
    token = secrets.token_urlsafe(32)
    assert child.id is not None
    uow.add(
        CalendarFeed(
            child_id=child.id, family_id=family_id, token_hash=hash_token(token), created_at=portal.clock.now()
        )
    )
    uow.flush()
    return token


def _day_event(uid: str, summary: str, day: date, stamp: datetime) -> Event:
    """An all-day event."""
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("dtstamp", stamp)
    return event


def feed_ics(portal: Portal, uow: UnitOfWork, token: str, days_back: int = 60) -> bytes:
    """The iCalendar document of a subscription: the child's reservations and absences.

    :raises NotFound: unknown or revoked token.
    """
    feed = uow.first(CalendarFeed, token_hash=hash_token(token), revoked_at=None)
    if feed is None:
        raise NotFound("Abonnement introuvable.")
    since = today_in_paris(portal.clock) - timedelta(days=days_back)
    reservations = uow.find(
        Reservation, child_id=feed.child_id, family_id=feed.family_id, day=Gte(since), state=In(FEED_STATES)
    )
    absences = uow.find(Absence, child_id=feed.child_id, family_id=feed.family_id, day=Gte(since))
    ids = {r.activity_id for r in reservations} | {a.activity_id for a in absences}
    labels = {a.id: a.label for a in uow.find(Activity, id=In(ids))} if ids else {}
    calendar = Calendar()
    calendar.add("prodid", "-//Portail Famille//Agenda//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Portail Famille")
    stamp = portal.clock.now()
    host = portal.settings.portal.base_url.split("//")[-1].split("/")[0] or "portail-famille"
    for r in reservations:
        words = "réservé" if r.state == ReservationState.ACCEPTED else "demande en cours"
        summary = f"{labels.get(r.activity_id, '')} : {words}"
        calendar.add_component(_day_event(f"reservation-{r.id}@{host}", summary, r.day, stamp))
    for a in absences:
        summary = f"{labels.get(a.activity_id, '')} : absent ({a.reason_label})"
        calendar.add_component(_day_event(f"absence-{a.id}@{host}", summary, a.day, stamp))
    return calendar.to_ical()
