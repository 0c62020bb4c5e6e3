"""Private, revocable iCalendar subscriptions: one secret URL per child and household, and one
for all the household's children."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Absence,
    Activity,
    Actor,
    CalendarFeed,
    Child,
    Family,
    Reservation,
    ReservationState,
)
from famille_core.errors import NotFound
from famille_core.portal import Portal
from famille_core.services.access import child_for, children_of, require_family
from famille_core.uow import Gte, In, UnitOfWork
from famille_plugins.calendar.services import timeline

if TYPE_CHECKING:
    from icalendar import Event

FEED_STATES = [ReservationState.ACCEPTED, ReservationState.REQUESTED]


def hash_token(token: str) -> str:
    """Only the token's hash is stored: a database leak gives no usable URL."""
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(uow: UnitOfWork, actor: Actor, child_id: int | None) -> CalendarFeed | None:
    """The current subscription of the child (of the whole household when ``None``) for the
    actor's household, if any."""
    family_id = require_family(actor)
    return uow.first(CalendarFeed, child_id=child_id, family_id=family_id, revoked_at=None)


def revoke_feed(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int | None) -> bool:
    """Revoke the subscription URL of the child (of the household when ``None``); True when
    there was one."""
    if child_id is not None:
        child_for(uow, actor, child_id)
    feed = active_feed(uow, actor, child_id)
    if feed is None:
        return False
    feed.revoked_at = portal.clock.now()
    uow.flush()
    return True


def create_feed(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int | None) -> str:
    """A new subscription token for the child, or for all the household's children when
    ``child_id`` is ``None`` (the previous URL stops working).

    :return: the token, shown once; only its hash is kept.
    """
    family_id = require_family(actor)
    if child_id is not None:
        child_for(uow, actor, child_id)
    revoke_feed(portal, uow, actor, child_id)
    token = secrets.token_urlsafe(32)
    uow.add(
        CalendarFeed(
            child_id=child_id, family_id=family_id, token_hash=hash_token(token), created_at=portal.clock.now()
        )
    )
    uow.flush()
    return token


def _day_event(uid: str, summary: str, day: date, stamp: datetime) -> Event:
    """An all-day event."""
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("dtstamp", stamp)
    return event


def _feed_children(uow: UnitOfWork, feed: CalendarFeed) -> tuple[list[Child], str]:
    """The children a subscription shows and whose calendar it is, in words."""
    if feed.child_id is not None:
        child = uow.get(Child, feed.child_id)
        if child is None:
            raise NotFound("Abonnement introuvable.")
        return [child], f"{child.first_name} {child.last_name}"
    family = uow.get(Family, feed.family_id)
    name = family.name if family is not None else ""
    return children_of(uow, feed.family_id), f"foyer {name}"


def feed_ics(portal: Portal, uow: UnitOfWork, token: str, days_back: int = 60) -> bytes:
    """The iCalendar document of a subscription: one event per child, activity and day, in the
    day's one state (an absence supersedes the booking, :mod:`.timeline`), named after the child.

    :raises NotFound: unknown or revoked token.
    """
    feed = uow.first(CalendarFeed, token_hash=hash_token(token), revoked_at=None)
    if feed is None:
        raise NotFound("Abonnement introuvable.")
    children, whose = _feed_children(uow, feed)
    names = {c.id: c.first_name for c in children}
    since = today_in_paris(portal.clock) - timedelta(days=days_back)
    criteria: dict[str, Any] = {"child_id": In(list(names)), "family_id": feed.family_id, "day": Gte(since)}
    reservations = uow.find(Reservation, state=In(FEED_STATES), **criteria) if names else []
    absences = uow.find(Absence, **criteria) if names else []
    found = timeline.entries(reservations, absences)
    ids = {e.activity_id for e in found}
    labels = {a.id: a.label for a in uow.find(Activity, id=In(ids))} if ids else {}
    # icalendar is loaded by the first subscription read, not by every page of a web worker.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", "-//Portail Famille//Agenda//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Portail Famille — {whose}")
    stamp = portal.clock.now()
    host = portal.settings.portal.base_url.split("//")[-1].split("/")[0] or "portail-famille"
    for e in found:
        summary = f"{names.get(e.child_id, '')} — {labels.get(e.activity_id, '')} : {e.words}"
        uid = f"jour-{e.child_id}-{e.activity_id}-{e.day:%Y%m%d}@{host}"
        calendar.add_component(_day_event(uid, summary, e.day, stamp))
    return calendar.to_ical()
