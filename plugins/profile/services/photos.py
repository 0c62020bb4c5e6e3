"""Child photos: checked by content, re-encoded without metadata, stored outside the web root.

Pillow reads only the header to learn the size; the pixel cap is checked before any decoding, so
a small file claiming 20000 × 20000 pixels (a decompression bomb) is refused without allocating
its pixels. The re-encoded JPEG carries no EXIF (no GPS position), and a polyglot file loses
whatever it hid around the image.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from famille_core import uploads
from famille_core.entities import Actor, Child
from famille_core.errors import NotFound, ValidationFailed
from famille_core.portal import Portal
from famille_core.services.access import child_for
from famille_core.uow import UnitOfWork
from famille_plugins.profile.services import shared
from famille_plugins.profile.services.fields import unknown_fields
from famille_plugins.profile.services.records import check_version
from famille_plugins.profile.services.sections import require_parent
from famille_plugins.profile.settings import settings_of

ACCEPTED_FORMATS = {"JPEG", "PNG"}
FIELD = "photo"
TOO_MANY_PIXELS = "Photo : l'image est trop grande (trop de pixels). Réduisez-la avant de l'envoyer."


def photo_dir(portal: Portal) -> Path:
    """The folder of the stored photos (inside the instance's upload folder)."""
    return portal.path(portal.settings.portal.upload_dir, "photos")


def photo_path(portal: Portal, key: str) -> Path:
    """The file of a stored photo; ``key`` is ``photos/<random>`` (``.jpg`` for older ones), never user input."""
    name = Path(key).name
    return photo_dir(portal) / name


def _refuse(message: str, code: str = "invalid_photo") -> ValidationFailed:
    return ValidationFailed.single(code, message, FIELD)


def reencode(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int) -> bytes:
    """A clean JPEG made from ``data`` (JPEG or PNG), or :class:`ValidationFailed`."""
    if not data:
        raise _refuse("Photo : choisissez un fichier.", "required")
    if len(data) > max_bytes:
        raise _refuse(
            f"Photo : le fichier dépasse {max_bytes // (1024 * 1024)} Mo.", "too_large"
        )
    # Pillow is loaded by the first photo, not by every page of a web worker.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))
            width, height = image.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise _refuse(TOO_MANY_PIXELS, "too_many_pixels")
            if image.format == "JPEG":
                # Decode a large JPEG at a reduced scale: a fraction of the memory, same result.
                image.draft("RGB", (max_side, max_side))
            image.load()
            clean: Image.Image = ImageOps.exif_transpose(image).convert("RGB")
            clean.thumbnail((max_side, max_side))
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=85, optimize=True)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(TOO_MANY_PIXELS, "too_many_pixels") from None
    except UnidentifiedImageError:
        raise _refuse("Photo : le fichier n'est pas une image JPEG ou PNG valide.") from None
    except (OSError, ValueError, SyntaxError):
        raise _refuse("Photo : le fichier n'est pas une image JPEG ou PNG valide.") from None
    return out.getvalue()


def delete(portal: Portal, key: str | None) -> None:
    """Remove a stored photo (no error when it is already gone)."""
    if key:
        photo_path(portal, key).unlink(missing_ok=True)


def set_photo(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    child_id: int,
    data: bytes,
    version: str | int | None,
    extra_keys: list[str] | tuple[str, ...] = (),
) -> Child:
    """Store a new photo of the child (re-encoded, without metadata); the old file is deleted
    once the change is committed."""
    family_id = require_parent(actor)
    child = child_for(uow, actor, child_id)
    issues = unknown_fields(set(), dict.fromkeys(extra_keys, ""))
    if issues:
        raise ValidationFailed(issues)
    settings = settings_of(portal)
    jpeg = reencode(
        data,
        max_bytes=settings.photo_max_bytes,
        max_pixels=settings.photo_max_pixels,
        max_side=settings.photo_max_side,
    )
    check_version(child, version)
    old = child.photo_key
    child.photo_key = uploads.store(portal, uow, jpeg, "photos")  # deleted again if not committed
    shared.tell_other_households(portal, uow, family_id, child, "photo")
    uow.flush()
    uow.after_commit(lambda: delete(portal, old))
    return child


def photo_bytes(portal: Portal, uow: UnitOfWork, actor: Actor, child_id: int) -> bytes | None:
    """The child's stored photo, for its family and agents only."""
    child = child_for(uow, actor, child_id)
    if not child.photo_key:
        return None
    path = photo_path(portal, child.photo_key)
    return path.read_bytes() if path.exists() else None


def photo_for_erp(portal: Portal, uow: UnitOfWork, child_id: int) -> bytes:
    """A child's stored photo for an ERP client (scope ``photos:read``, checked by the host).

    :raises NotFound: no such child, or no photo.
    """
    data = photo_bytes(portal, uow, Actor.system(), child_id)
    if data is None:
        raise NotFound("Cet enfant n'a pas de photo.")
    return data
