"""Retention (docs/security.md point 28, CNIL NS-058): once a child's enrolments have all ended, its
health record and photo are deleted after ``[portal] health_data_retention_days``.

What public accounting requires (invoices, payments, enrolments) is kept; so are the child's name
and household links, which the invoices refer to.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from famille_core.entities import Actor, Child, Enrollment, HealthRecord
from famille_core.services.audit import audit
from famille_core.uow import In, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal


@frozen
class PurgeReport:
    """What a purge removed (or would remove, in a dry run)."""

    children: tuple[int, ...]
    health_records: int
    photos: int


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
    return PurgeReport(children=tuple(ids), health_records=len(records), photos=photos)


def purge_job(portal: Portal) -> PurgeReport:
    """The task queue's nightly ``retention.purge`` job: :func:`purge` as of today in Paris, in
    one transaction (what ``famille purge`` does)."""
    from famille_core.clock import today_in_paris

    with portal.unit_of_work() as uow:
        report = purge(portal, uow, today_in_paris(portal.clock))
        uow.commit()
    return report
