"""Fixtures of the inbox tests: the guide's example message, logins of the other households."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core import uploads as files
from famille_core.entities import Attachment, Message, Thread
from tests.conftest import csrf_token, login

GUIDE_SUBJECT = "Demande de renseignements"
GUIDE_BODY = (
    "Bonjour,\n\n"
    "Je souhaiterais inscrire mon fils exceptionnellement à la Cantine Mercredi prochain. "
    "Faut-il que je me rende en mairie ou bien puis-je le faire via l'inscription en ligne?\n\n"
    "Merci d'avance pour votre réponse\n\n"
    "Cordialement,\n\n"
    "Madame DUPONT"
)
"""The example of the user guide ("Comment envoyer un message à la collectivité ?")."""


@pytest.fixture
def demo(demo: Portal) -> Portal:
    """The demo without the inbox's own demo messages: these tests count, page and route the
    messages they write, from an empty Boîte de réception (tests/core/test_demo.py checks the
    demo's messages; tests/e2e/test_every_page.py shows them)."""
    with demo.unit_of_work() as uow:
        for attachment in uow.find(Attachment):
            files.delete(demo, attachment.storage_key)
        for kind in (Attachment, Message, Thread):
            for row in uow.find(kind):
                uow.delete(row)
        uow.commit()
    return demo


def logged_in(app: Flask, email: str, password: str) -> FlaskClient:
    """A new client logged in as ``email``."""
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    return client


@pytest.fixture
def martin_client(demo: Portal, app: Flask) -> FlaskClient:
    """Sophie MARTIN (household 1 of Léa, whose parents are separated)."""
    return logged_in(app, "martin@example.org", "martin-demo-password")


@pytest.fixture
def bernard_client(demo: Portal, app: Flask) -> FlaskClient:
    """Paul BERNARD (household 2 of Léa)."""
    return logged_in(app, "bernard@example.org", "bernard-demo-password")


def send(
    client: FlaskClient,
    subject: str = GUIDE_SUBJECT,
    body: str = GUIDE_BODY,
    files: list[tuple[bytes, str]] | None = None,
) -> object:
    """Post the "Nouveau message" form as a browser would."""
    data: dict[str, object] = {
        "subject": subject,
        "body": body,
        "csrf_token": csrf_token(client, "/messages/nouveau"),
    }
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/messages/nouveau", data=data, content_type="multipart/form-data")


def reply(client: FlaskClient, path: str, action: str, body: str) -> object:
    """Post the "Répondre" form found on ``path``."""
    return client.post(
        action,
        data={"body": body, "csrf_token": csrf_token(client, path)},
        content_type="multipart/form-data",
    )


def message_id_from(location: str) -> int:
    """The message id of a ``/messages/<id>`` redirect."""
    match = re.search(r"/messages/(\d+)", location)
    assert match, location
    return int(match.group(1))


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A small real PNG."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A real JPEG carrying an EXIF GPS block (where the photo was taken)."""
    from PIL import Image

    image = Image.new("RGB", (8, 8), (10, 120, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (45.0, 46.0, 0.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A one-page real PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_on_screen(client: FlaskClient, path: str) -> object:
    """What the page's script does once a person sees the page: post its "Marquer comme lu" form."""
    page = client.get(path).get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" class="read-mark" id="mark-read"[^>]*>(.*?)</form>', page, re.S)
    assert form, f"no 'Marquer comme lu' form on {path}"
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)):
        data.setdefault(name, []).append(value)
    return client.post(form.group(1), data=data, headers={"X-Requested-With": "fetch"})
