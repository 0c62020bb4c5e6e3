"""Mes données: everything the portal keeps about a household, as JSON (GDPR art. 15 and 20).

The core gives the household's identity (the family, its login accounts, its guardians, its
enrolments); each enabled plugin adds the sections of its own records through the collected
hook ``family_data_sections``, so the export holds exactly what the enabled features keep.

Secrets never leave (password hashes, session nonces, second-factor secrets, token hashes,
stored files' keys): :func:`records` drops them from every section.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from famille_core.entities import Actor, Enrollment, Guardian, User
from famille_core.services.access import family_for
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

FORMAT = "portail-famille/mes-donnees/1"
"""The export's ``format``: changes when a section changes meaning."""

SECRET_FIELDS = frozenset(
    {
        "password_hash",
        "session_nonce",
        "totp_secret",
        "totp_last_step",
        "token_hash",
        "secret_hash",
        "provider_data",
        "storage_key",
        "photo_key",
    }
)
"""Attributes that never leave the portal, whatever the entity."""


def record(entity: Any) -> dict[str, Any]:
    """One entity as a plain mapping, without :data:`SECRET_FIELDS`."""
    data: dict[str, Any] = attrs.asdict(
        entity, filter=lambda attribute, _value: attribute.name not in SECRET_FIELDS
    )
    return data


def records(entities: Iterable[Any]) -> list[dict[str, Any]]:
    """Entities as plain mappings, without :data:`SECRET_FIELDS`."""
    return [record(entity) for entity in entities]


def family_data(portal: Portal, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The household of ``actor`` (their own; for an agent, none: :class:`NotFound`) as plain,
    JSON-ready structures: the core's records, then every enabled plugin's sections.

    :raises RuntimeError: two plugins give the same section.
    """
    family = family_for(uow, actor)
    assert family.id is not None
    fid = family.id
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": portal.clock.now().isoformat(),
        "family": record(family),
        "accounts": records(uow.find(User, family_id=fid, order_by=("id",))),
        "guardians": records(uow.find(Guardian, family_id=fid, order_by=("id",))),
        "enrollments": records(uow.find(Enrollment, family_id=fid, order_by=("start_date", "id"))),
    }
    for sections in portal.hook.family_data_sections(
        portal=portal, uow=uow, actor=actor, family_id=fid
    ):
        for name, section in sections.items():
            if name in data:
                raise RuntimeError(f"two parts of the portal export the section {name!r}")
            data[name] = section
    return data
