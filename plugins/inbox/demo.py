"""Demo data of the inbox plugin: the DUPONT household's Boîte de réception holds a notice from
the town (read), a question the family sent with an attachment, and the service's answer to it
(not read yet), so the inbox of the user guide is there at the first login."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from famille_core import uploads as files
from famille_core.demo import HOUSEHOLDS
from famille_core.entities import Attachment, Direction, Family, Message, Thread
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork

TOWN_SUBJECT = "Inscriptions à l'accueil de loisirs des vacances d'hiver"
TOWN_BODY = (
    "Madame, Monsieur,\n\nLes inscriptions à l'accueil de loisirs des vacances d'hiver sont "
    "ouvertes jusqu'au 31 janvier. Réservez les journées de vos enfants dans l'Agenda.\n\n"
    "Le service Enfance de la mairie"
)
QUESTION_SUBJECT = "Certificat médical de Lucas"
QUESTION_BODY = (
    "Bonjour,\n\nVoici le certificat médical de Lucas pour son absence à la cantine. "
    "Pouvez-vous ne pas facturer ce repas ?\n\nMarie DUPONT"
)
ANSWER_BODY = (
    "Bonjour Madame DUPONT,\n\nNous avons bien reçu le certificat : le repas ne sera pas facturé."
    "\n\nMagnus, service Enfance"
)


def _certificate() -> bytes:
    """A small PNG standing for the scanned certificate."""
    image = Image.new("RGB", (120, 160), "white")
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def populate(portal: Portal, uow: UnitOfWork) -> None:
    """Three messages in the DUPONT inbox (when the core demo is there and the inbox is empty)."""
    dupont = uow.first(Family, family_number=HOUSEHOLDS["DUPONT"])
    if dupont is None or dupont.id is None or uow.count(Thread, family_id=dupont.id) > 0:
        return
    service = portal.settings.collectivity.services[0]
    now = portal.clock.now()
    notice_at, asked_at, answered_at = now - timedelta(days=9), now - timedelta(days=3), now - timedelta(days=1)
    notice = Thread(
        family_id=dupont.id, service=service, subject=TOWN_SUBJECT,
        created_at=notice_at, updated_at=notice_at, handled=True,
    )
    question = Thread(
        family_id=dupont.id, service=service, subject=QUESTION_SUBJECT,
        created_at=asked_at, updated_at=answered_at, handled=True,
    )
    uow.add(notice)
    uow.add(question)
    uow.flush()
    assert notice.id is not None and question.id is not None
    town = f"Mairie — service {service}"
    uow.add(
        Message(
            thread_id=notice.id, family_id=dupont.id, direction=Direction.FROM_COLLECTIVITY,
            author_label=town, subject=TOWN_SUBJECT, body=TOWN_BODY,
            size=len(TOWN_BODY.encode()), created_at=notice_at, read_at=notice_at + timedelta(hours=5),
        )
    )
    certificate = _certificate()
    asked = Message(
        thread_id=question.id, family_id=dupont.id, direction=Direction.FROM_FAMILY,
        author_label="Marie DUPONT", subject=QUESTION_SUBJECT, body=QUESTION_BODY,
        size=len(QUESTION_BODY.encode()) + len(certificate), created_at=asked_at,
        read_at=asked_at + timedelta(hours=2),
    )
    uow.add(asked)
    uow.flush()
    assert asked.id is not None
    uow.add(
        Attachment(
            message_id=asked.id, family_id=dupont.id, filename="certificat-medical.png",
            content_type="image/png", size=len(certificate), storage_key=files.store(portal, uow, certificate),
        )
    )
    uow.add(
        Message(
            thread_id=question.id, family_id=dupont.id, direction=Direction.FROM_COLLECTIVITY,
            author_label=f"Magnus {service}", subject=f"Re : {QUESTION_SUBJECT}", body=ANSWER_BODY,
            size=len(ANSWER_BODY.encode()), created_at=answered_at,
        )
    )
    uow.flush()
