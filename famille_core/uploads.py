"""Uploaded files (the inbox's attachments, the calendar's justificatifs): checked by content,
stored outside the web root.

The declared type and the file name's extension are never trusted: a PDF must start with the
PDF header, be readable by pypdf and carry no active content (scripts, launch actions, embedded
files, XFA: see :mod:`famille_core.pdf_checks`); an image must be a JPEG or PNG that Pillow decodes, under a
pixel cap checked from the header before any decoding. Images are re-encoded, which drops their
metadata (EXIF, GPS position) and whatever a polyglot file hid around the picture.

Files live in ``<instance>/<upload_dir>/<folder>/`` (``attachments`` for the inbox) under random
names; the original name is kept only in the database, for the download's
``Content-Disposition``.
"""

from __future__ import annotations

import io
import os
import secrets
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path

from attrs import frozen

from famille_core.convert import CONTROL_CHARACTERS
from famille_core.errors import Issue
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork

FIELD = "attachments"
FOLDER = "attachments"
PDF = "application/pdf"
IMAGE_TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
MAX_NAME_CHARS = 100


@frozen
class Upload:
    """A file as the person sent it (name and bytes), before any check."""

    filename: str
    data: bytes


@frozen
class CheckedFile:
    """A file that passed the checks, ready to store."""

    filename: str
    content_type: str
    data: bytes


def attachment_dir(portal: Portal, folder: str = FOLDER) -> Path:
    """The folder of the stored files of one kind (inside the instance's upload folder)."""
    return portal.path(portal.settings.portal.upload_dir, Path(folder).name)


def attachment_path(portal: Portal, key: str) -> Path:
    """The file of a stored upload; ``key`` (``folder/name``) is generated here, never user input."""
    folder, _, name = key.rpartition("/")
    return attachment_dir(portal, folder or FOLDER) / Path(name).name


def shown_name(name: str) -> str:
    """The name as the person sent it, without path or control characters (for messages)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = CONTROL_CHARACTERS.sub("", name).replace("\n", "").replace("\r", "").replace("\t", " ")
    return name.strip()[:MAX_NAME_CHARS] or "piece-jointe"


def safe_filename(name: str, extension: str) -> str:
    """A displayable file name: no path, no control character, the extension of the real type."""
    stem = shown_name(name).rsplit(".", 1)[0].strip(" .") or "piece-jointe"
    return stem[: MAX_NAME_CHARS - len(extension)] + extension


def _issue(message: str, code: str = "invalid_attachment") -> Issue:
    return Issue(code=code, message=message, field=FIELD)


def _reencode_image(data: bytes, max_pixels: int) -> tuple[str, bytes]:
    """``(PIL format, clean bytes)``; raises ``ValueError`` or ``OverflowError`` (too many pixels)."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=sorted(IMAGE_TYPES))
        width, height = image.size
        if width <= 0 or height <= 0 or width * height > max_pixels:
            raise OverflowError("too many pixels")
        image.load()
        kind = image.format or "PNG"
        clean = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if kind == "JPEG":
            clean.convert("RGB").save(out, format="JPEG", quality=90)
        else:
            clean.save(out, format="PNG", optimize=True)
    return kind, out.getvalue()


def check_file(upload: Upload, *, max_bytes: int, max_pixels: int) -> CheckedFile | Issue:
    """The checked file, or the French issue explaining why it is refused."""
    # Pillow and pypdf (about 15 MB in a web worker) are loaded by the first upload, not by
    # every page of a process that imports this module (docs/deployment.md, "Memory").
    from PIL import Image, UnidentifiedImageError

    from famille_core import pdf_checks as pdfs

    shown = shown_name(upload.filename)
    if not upload.data:
        return _issue(f"Pièce jointe « {shown} » : le fichier est vide.", "empty_attachment")
    if len(upload.data) > max_bytes:
        limit = max(1, max_bytes // (1024 * 1024))
        return _issue(
            f"Pièce jointe « {shown} » : le fichier dépasse {limit} Mo.", "attachment_too_large"
        )
    if upload.data.startswith(b"%PDF-"):
        try:
            pdfs.check_pdf(upload.data)
            return CheckedFile(safe_filename(upload.filename, ".pdf"), PDF, upload.data)
        except pdfs.ActivePdf:
            return _issue(
                f"Pièce jointe « {shown} » : ce PDF contient du contenu actif (script, action "
                "automatique, fichier intégré ou formulaire dynamique), refusé par sécurité. "
                "Ouvrez-le, choisissez « Imprimer » puis « Enregistrer au format PDF » et joignez "
                "ce nouveau fichier.",
                "active_pdf",
            )
        except pdfs.EncryptedPdf:
            return _issue(
                f"Pièce jointe « {shown} » : ce PDF est protégé par un mot de passe et ne peut "
                "pas être vérifié. Joignez une version sans protection.",
                "encrypted_pdf",
            )
        except pdfs.UnreadablePdf:
            pass
    else:
        try:
            kind, clean = _reencode_image(upload.data, max_pixels)
            content_type, extension = IMAGE_TYPES[kind]
            return CheckedFile(safe_filename(upload.filename, extension), content_type, clean)
        except OverflowError:
            return _issue(
                f"Pièce jointe « {shown} » : l'image est trop grande (trop de pixels).",
                "too_many_pixels",
            )
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return _issue(
                f"Pièce jointe « {shown} » : l'image est trop grande (trop de pixels).",
                "too_many_pixels",
            )
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            pass
    return _issue(
        f"Pièce jointe « {shown} » : seuls les fichiers PDF, JPEG et PNG sont acceptés.",
        "attachment_type",
    )


def check_files(
    uploads: Iterable[Upload], *, max_count: int, max_bytes: int, max_pixels: int
) -> tuple[list[CheckedFile], list[Issue]]:
    """Check every upload (empty file inputs are ignored); returns the good files and the issues."""
    present = [upload for upload in uploads if upload.filename or upload.data]
    issues: list[Issue] = []
    if len(present) > max_count:
        issues.append(
            _issue(f"Vous pouvez joindre au plus {max_count} fichiers.", "too_many_attachments")
        )
        return [], issues
    checked: list[CheckedFile] = []
    for upload in present:
        result = check_file(upload, max_bytes=max_bytes, max_pixels=max_pixels)
        if isinstance(result, Issue):
            issues.append(result)
        else:
            checked.append(result)
    return checked, issues


def store(portal: Portal, uow: UnitOfWork, data: bytes, folder: str = FOLDER) -> str:
    """Write ``data`` under a random name readable by the portal only, in ``folder``; returns its
    key. The file is written before the row that refers to it is committed, and deleted again if
    ``uow`` never commits (docs/architecture.md, "Stored files")."""
    attachment_dir(portal, folder).mkdir(parents=True, exist_ok=True)
    key = f"{Path(folder).name}/{secrets.token_urlsafe(24)}"
    # Created with owner-only permissions, and never over an existing file.
    descriptor = os.open(attachment_path(portal, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    uow.after_rollback(lambda: delete(portal, key))
    return key


def read(portal: Portal, key: str) -> bytes | None:
    """The stored bytes, or ``None`` when the file is gone."""
    path = attachment_path(portal, key)
    return path.read_bytes() if path.is_file() else None


def delete(portal: Portal, key: str) -> None:
    """Remove a stored file (no error when it is already gone)."""
    attachment_path(portal, key).unlink(missing_ok=True)
