"""The core API other plugins use to tell a household something (system messages)."""

from __future__ import annotations

from famille_core.hooks.results import FamilyNotice
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork


def notify_family(
    portal: Portal,
    uow: UnitOfWork,
    family_id: int,
    subject: str,
    body: str,
    *,
    service: str | None = None,
) -> int | None:
    """Post a system message to a household's inbox, in the caller's transaction.

    :return: the message id, or ``None`` when no inbox plugin is enabled (nothing is posted).
    """
    notice = FamilyNotice(family_id=family_id, subject=subject, body=body, service=service)
    result: int | None = portal.hook.post_family_notice(portal=portal, uow=uow, notice=notice)
    return result
