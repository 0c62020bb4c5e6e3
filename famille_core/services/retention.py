"""Retention (docs/security.md point 28, CNIL NS-058): once a child's enrolments have all ended, its
health record and photo are deleted after ``[portal] health_data_retention_days``; the event feed's
old and new values (addresses, phones…) are blanked after ``[portal] feed_values_retention_days``,
the events themselves (which fields changed, who changed them) kept for the ERPs.

What public accounting requires (invoices, payments, enrolments) is kept; so are the child's name
and household links, which the invoices refer to.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from famille_core.clock import PARIS
from famille_core.entities import Actor, AuditRecord, Child, DomainEvent, Enrollment, HealthRecord
from famille_core.services.audit import audit
from famille_core.uow import Gte, In, Lte, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal


@frozen
class PurgeReport:
    """What a purge removed (or would remove, in a dry run)."""

    children: tuple[int, ...]
    health_records: int
    photos: int
    event_values: int = 0
    """Events of the feed whose old and new values were blanked."""


def children_past_retention(portal: Portal, uow: UnitOfWork, today: date) -> list[Child]:
    """Children who were enrolled, whose last enrolment ended more than the retention period
    before ``today``, and who still have a health record or a photo.

    A child never enrolled keeps its data: families fill it in before the September enrolment.
    """
    limit = today - timedelta(days=portal.settings.portal.health_data_retention_days)
    last_end: dict[int, date] = {}
    for enrolment in uow.find(Enrollment):
        previous = last_end.get(enrolment.child_id)
        if previous is None or enrolment.end_date > previous:
            last_end[enrolment.child_id] = enrolment.end_date
    ended = [child_id for child_id, end in last_end.items() if end < limit]
    if not ended:
        return []
    with_health = {record.child_id for record in uow.find(HealthRecord, child_id=In(ended))}
    children = uow.find(Child, id=In(ended), order_by=("id",))
    return [c for c in children if c.id in with_health or c.photo_key is not None]


def purge(portal: Portal, uow: UnitOfWork, today: date, *, dry_run: bool = False) -> PurgeReport:
    """Delete the health records and photos past retention, in the caller's transaction.

    Each child purged leaves an audit record (``purge``). Plugins delete their own files through
    the ``purge_child_data`` hook.
    """
    children = children_past_retention(portal, uow, today)
    ids = [child.id for child in children if child.id is not None]
    records = uow.find(HealthRecord, child_id=In(ids)) if ids else []
    photos = sum(1 for child in children if child.photo_key is not None)
    if not dry_run:
        system = Actor.system()
        for child in children:
            portal.hook.purge_child_data(portal=portal, uow=uow, child=child)
            child.photo_key = None
            audit(portal, uow, system, "purge", "child", child.id)
        for record in records:
            uow.delete(record)
    events = blank_feed_values(portal, uow, today, dry_run=dry_run)
    return PurgeReport(
        children=tuple(ids), health_records=len(records), photos=photos, event_values=events
    )


FEED_PURGE = "purge.feed_values"
"""The audit action of a pass of :func:`blank_feed_values`; its ``record_id`` is the last event
it looked at, where the next pass starts (events' ids grow with time)."""

BATCH = 1000


def blank_feed_values(portal: Portal, uow: UnitOfWork, today: date, *, dry_run: bool = False) -> int:
    """Blank the old and new values of the feed's events older than ``[portal]
    feed_values_retention_days`` (each change keeps its field name and says ``"purged": true``);
    returns how many events held values. Each pass starts after the last event the previous one
    looked at, so a nightly pass reads only the day's events however long the feed."""
    days = portal.settings.portal.feed_values_retention_days
    limit = datetime.combine(today - timedelta(days=days), time.min, tzinfo=PARIS)
    previous = uow.find(AuditRecord, action=FEED_PURGE, order_by=("-id",), limit=1)
    after = (previous[0].record_id or 0) if previous else 0
    blanked = 0
    last = after
    while True:
        events = uow.find(
            DomainEvent,
            id=Gte(last + 1),
            at=Lte(limit - timedelta(microseconds=1)),
            order_by=("id",),
            limit=BATCH,
        )
        for event in events:
            changes = event.payload.get("changes") or []
            if any(c.get("old") is not None or c.get("new") is not None for c in changes):
                blanked += 1
                if not dry_run:
                    event.payload = {**event.payload, "changes": [_blanked(c) for c in changes]}
        if not events:
            break
        last = events[-1].id or last
    if not dry_run and last != after:
        audit(portal, uow, Actor.system(), FEED_PURGE, "event", last)
    return blanked


def _blanked(change: dict[str, object]) -> dict[str, object]:
    if change.get("old") is None and change.get("new") is None:
        return change
    return {**change, "old": None, "new": None, "purged": True}


def purge_job(portal: Portal) -> PurgeReport:
    """The task queue's nightly ``retention.purge`` job: :func:`purge` as of today in Paris, in
    one transaction (what ``famille purge`` does)."""
    from famille_core.clock import today_in_paris

    with portal.unit_of_work() as uow:
        report = purge(portal, uow, today_in_paris(portal.clock))
        uow.commit()
    return report
