"""Security of the inbox: text shown as text, size limits, attachments checked by content and
stored outside the web root, each household sees only its own conversations, orphan files
cleaned by ``famille inbox-clean``."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from famille_core import Portal
from famille_core.entities import Actor, Attachment, Family, Message, Role, Thread
from famille_core.errors import NotFound
from famille_core.uploads import Upload, attachment_dir
from famille_plugins.inbox.services import conversations, sending
from tests.conftest import csrf_token
from tests.plugins.inbox.conftest import (
    jpeg_with_gps,
    message_id_from,
    pdf_bytes,
    png_bytes,
    reply,
    send,
)

HOSTILE = "<script>alert(1)</script>{{7*7}}"


def family_actor(portal: Portal, name: str) -> Actor:
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name=name)
        assert family is not None
        return Actor(user_id=None, role=Role.PARENT, family_id=family.id, display_name=name)


def attachments_of(portal: Portal) -> list[Attachment]:
    with portal.unit_of_work() as uow:
        return uow.find(Attachment, order_by=("id",))


def test_script_and_template_syntax_come_back_inert_everywhere(
    parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal
) -> None:
    location = send(parent_client, subject=HOSTILE, body=HOSTILE).headers["Location"]
    with demo.unit_of_work() as uow:
        (message,) = uow.find(Message)
        assert message.subject == HOSTILE and message.body == HOSTILE  # stored as typed
    page = f"/gestion/messages/conversation/{message.thread_id}"
    reply(agent_client, page, f"{page}/repondre", HOSTILE)
    pages = [
        parent_client.get("/messages/"),
        parent_client.get(location),
        agent_client.get("/gestion/messages/service/ENFANCE"),
        agent_client.get(page),
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in html


def test_control_characters_are_removed(parent_client: FlaskClient, demo: Portal) -> None:
    send(parent_client, subject="Objet\x07 propre", body="Ligne 1\r\nLigne\x1b 2")
    with demo.unit_of_work() as uow:
        (message,) = uow.find(Message)
    assert message.subject == "Objet propre" and message.body == "Ligne 1\nLigne 2"


def test_too_long_title_and_body_are_refused(parent_client: FlaskClient, demo: Portal) -> None:
    response = send(parent_client, subject="T" * 151, body="B" * 10_001)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Titre : 150 caractères au plus (151 saisis)." in page
    assert "Message : 10000 caractères au plus (10001 saisis)." in page
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0


def test_good_attachments_are_stored_outside_the_web_root_under_random_names(
    parent_client: FlaskClient, demo: Portal, app: Flask
) -> None:
    response = send(
        parent_client,
        files=[(pdf_bytes(), "attestation CAF.pdf"), (jpeg_with_gps(), "photo.jpeg"), (png_bytes(), "plan.png")],
    )
    assert response.status_code == 302
    items = attachments_of(demo)
    assert [(i.filename, i.content_type) for i in items] == [
        ("attestation CAF.pdf", "application/pdf"),
        ("photo.jpg", "image/jpeg"),
        ("plan.png", "image/png"),
    ]
    folder = attachment_dir(demo)
    static_root = Path(app.static_folder or "").resolve()
    for item in items:
        path = folder / Path(item.storage_key).name
        assert path.is_file() and path.stat().st_size == item.size
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert "attestation" not in path.name and "photo" not in path.name
        assert static_root not in path.resolve().parents
    # The image was re-encoded: the GPS position is gone.
    stored_jpeg = (folder / Path(items[1].storage_key).name).read_bytes()
    assert Image.open(io.BytesIO(stored_jpeg)).getexif().get(0x8825) is None
    # Taille counts the text and the files.
    with demo.unit_of_work() as uow:
        (message,) = uow.find(Message)
    assert message.size == len(message.body.encode()) + sum(i.size for i in items)
    page = parent_client.get(response.headers["Location"]).get_data(as_text=True)
    download = parent_client.get(f"/messages/pieces-jointes/{items[0].id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "attestation" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert f'href="/messages/pieces-jointes/{items[0].id}"' in page


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"<html><script>alert(1)</script></html>", "facture.pdf", "seuls les fichiers PDF, JPEG et PNG"),
        (b"MZ\x90\x00" + b"\x00" * 200, "photo.png", "seuls les fichiers PDF, JPEG et PNG"),
        (b"%PDF-1.7\n<script>not a pdf</script>", "faux.pdf", "seuls les fichiers PDF, JPEG et PNG"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "image.jpg", "seuls les fichiers PDF, JPEG et PNG"),
        (b"GIF89a" + b"\x00" * 64, "anim.png", "seuls les fichiers PDF, JPEG et PNG"),
        (b"", "vide.pdf", "le fichier est vide"),
    ],
    ids=["html-as-pdf", "exe-as-png", "pdf-header-only", "broken-jpeg", "gif", "empty"],
)
def test_disguised_attachments_are_refused(
    parent_client: FlaskClient, demo: Portal, content: bytes, name: str, expected: str
) -> None:
    response = send(parent_client, files=[(content, name)])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert expected in page and '<a href="#f-attachments">' in page
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0 and uow.count(Attachment) == 0
    folder = attachment_dir(demo)
    assert not folder.exists() or not any(folder.iterdir())


def test_oversized_attachment_is_refused_with_a_field_message(parent_client: FlaskClient, demo: Portal) -> None:
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)
    response = send(parent_client, files=[(big, "gros.pdf")])
    assert response.status_code == 422
    assert "Pièce jointe « gros.pdf » : le fichier dépasse 5 Mo." in response.get_data(as_text=True)


def test_request_over_the_host_limit_answers_413(parent_client: FlaskClient, demo: Portal) -> None:
    huge = b"0" * (13 * 1024 * 1024)
    response = send(parent_client, files=[(huge, "enorme.pdf")])
    assert response.status_code == 413
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0


def test_too_many_attachments_and_pixel_bombs_are_refused(parent_client: FlaskClient, demo: Portal) -> None:
    response = send(parent_client, files=[(png_bytes(), f"{n}.png") for n in range(4)])
    assert "Vous pouvez joindre au plus 3 fichiers." in response.get_data(as_text=True)
    bomb = _png_header_claiming(20_000, 20_000)
    response = send(parent_client, files=[(bomb, "bombe.png")])
    assert response.status_code == 422
    assert "l&#39;image est trop grande (trop de pixels)" in response.get_data(as_text=True)


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_polyglot_image_loses_what_it_hid(parent_client: FlaskClient, demo: Portal) -> None:
    polyglot = png_bytes() + b"<html><script>alert(1)</script></html>"
    assert send(parent_client, files=[(polyglot, "image.png")]).status_code == 302
    (item,) = attachments_of(demo)
    stored = (attachment_dir(demo) / Path(item.storage_key).name).read_bytes()
    assert b"<script>" not in stored


def test_another_household_gets_404_for_messages_replies_and_attachments(
    parent_client: FlaskClient, martin_client: FlaskClient, bernard_client: FlaskClient, demo: Portal
) -> None:
    # Léa's separated parents each write; the DUPONT family sends a file.
    martin_location = send(martin_client, subject="Léa chez sa mère").headers["Location"]
    send(parent_client, files=[(pdf_bytes(), "justificatif.pdf")])
    martin_message = message_id_from(martin_location)
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None
        (dupont_thread,) = uow.find(Thread, family_id=dupont.id)
        (dupont_message,) = uow.find(Message, family_id=dupont.id)
    (attachment,) = attachments_of(demo)
    for other in (martin_client, bernard_client):
        assert other.get(f"/messages/{dupont_message.id}").status_code == 404
        assert other.get(f"/messages/pieces-jointes/{attachment.id}").status_code == 404
        assert other.get("/messages/pieces-jointes/999999").status_code == 404
        response = other.post(
            f"/messages/conversation/{dupont_thread.id}/repondre",
            data={"body": "intrus", "csrf_token": csrf_token(other, "/messages/nouveau")},
        )
        assert response.status_code == 404
        assert "justificatif" not in other.get("/messages/").get_data(as_text=True)
    # Separated parents share a child, not a mailbox.
    assert bernard_client.get(f"/messages/{martin_message}").status_code == 404
    assert "Léa chez sa mère" not in bernard_client.get("/messages/").get_data(as_text=True)
    assert martin_client.get(f"/messages/{martin_message}").status_code == 200
    with demo.unit_of_work() as uow:
        assert uow.count(Message, body="intrus") == 0


def test_families_cannot_use_agent_pages_and_anonymous_is_sent_to_login(
    parent_client: FlaskClient, client: FlaskClient, demo: Portal
) -> None:
    assert parent_client.get("/gestion/messages/service/ENFANCE").status_code == 404
    assert parent_client.get("/gestion/messages/conversation/1").status_code == 404
    response = client.get("/messages/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert client.get("/messages/pieces-jointes/1").status_code == 302


def test_service_layer_refuses_other_households_too(demo: Portal) -> None:
    dupont, martin = family_actor(demo, "DUPONT"), family_actor(demo, "MARTIN")
    with demo.unit_of_work() as uow:
        message = sending.send_message(demo, uow, dupont, "Question", "Texte", [Upload("a.png", png_bytes())])
        uow.commit()
        (item,) = uow.find(Attachment)
        assert item.id is not None
        with pytest.raises(NotFound):
            conversations.attachment_for(demo, uow, martin, item.id)
        with pytest.raises(NotFound):
            sending.reply(demo, uow, martin, message.thread_id, "intrus")
        with pytest.raises(NotFound):
            conversations.conversation(demo, uow, martin, message.thread_id)


def test_inbox_clean_removes_only_old_orphan_files(
    demo: Portal, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dupont = family_actor(demo, "DUPONT")
    with demo.unit_of_work() as uow:
        sending.send_message(demo, uow, dupont, "Question", "Texte", [Upload("a.png", png_bytes())])
        uow.commit()
    (kept,) = attachments_of(demo)
    folder = attachment_dir(demo)
    old_orphan, fresh_orphan = folder / "orphelin-ancien", folder / "orphelin-recent"
    old_orphan.write_bytes(b"left by a failed transaction")
    fresh_orphan.write_bytes(b"being sent right now")
    two_hours_ago = time.time() - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    os.utime(folder / Path(kept.storage_key).name, (two_hours_ago, two_hours_ago))

    monkeypatch.setenv("FAMILLE_INSTANCE", str(demo.instance_path))
    monkeypatch.setenv("FAMILLE_DATABASE_URL", database_url)
    monkeypatch.delenv("FAMILLE_CONFIG", raising=False)
    from host_flask.cli import build_cli

    runner = CliRunner()
    dry = runner.invoke(build_cli(), ["inbox-clean", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Simulation (rien n'a été supprimé) : 1 fichier(s) orphelin(s)" in dry.output
    assert old_orphan.exists()
    result = runner.invoke(build_cli(), ["inbox-clean"])
    assert result.exit_code == 0, result.output
    assert "Nettoyage terminé : 1 fichier(s) orphelin(s), 0 pièce(s) jointe(s) sans fichier." in result.output
    assert not old_orphan.exists()
    assert fresh_orphan.exists()
    assert (folder / Path(kept.storage_key).name).exists()
