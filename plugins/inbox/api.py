"""The inbox's operation of the JSON API (``/api/v1``): the ERP posts a system message to a
household (scope ``messages:write``)."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from famille_core import notify_family
from famille_core.entities import Family, Scope
from host_flask import toolkit as tk


@frozen(kw_only=True)
class MessageIn:
    """A system message for a household."""

    family: str
    """The household's ERP identifier."""
    subject: str
    body: str
    service: str | None = None


@frozen(kw_only=True)
class Created:
    """The identifier of what was created."""

    id: int


def _invalid(field: str, code: str, detail: str, message: str) -> tk.ApiError:
    return tk.ApiError(
        422,
        "validation",
        "Données invalides",
        detail,
        [tk.FieldError(field=field, code=code, message=message)],
    )


@tk.api_operation(
    "POST",
    "/messages",
    summary="Envoie un message système à une famille",
    scope=Scope.MESSAGES_WRITE,
    request_body=MessageIn,
    response=Created,
    status=201,
)
def post_message() -> Any:
    message = tk.body_as(MessageIn)
    uow = tk.request_uow()
    family = uow.first(Family, external_id=message.family)
    if family is None or family.id is None:
        raise _invalid("family", "unknown_family", "Famille inconnue.", "Famille inconnue.")
    if not message.subject.strip() or len(message.subject) > 200:
        raise _invalid(
            "subject", "invalid", "Objet invalide.", "L'objet doit faire de 1 à 200 caractères."
        )
    message_id = notify_family(
        tk.get_portal(), uow, family.id, message.subject, message.body, service=message.service
    )
    assert message_id is not None  # this plugin posts it (post_family_notice)
    return Created(id=message_id)


OPERATIONS = (post_message,)
