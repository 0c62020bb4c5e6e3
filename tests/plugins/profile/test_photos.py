"""Child photos (docs/security.md point 17): checked by content, re-encoded without EXIF, size and pixel
caps, served only to the family and agents, deleted by the retention purge."""

from __future__ import annotations

import io
import resource
import struct
import zlib
from datetime import date

import pytest
from flask.testing import FlaskClient
from PIL import Image

from famille_core import Portal
from famille_core.entities import Child, Enrollment
from famille_core.errors import ValidationFailed
from famille_core.services.retention import purge
from famille_plugins.profile.services import photos
from tests.plugins.profile.conftest import child_id, post_form

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return data


def png_claiming(width: int, height: int) -> bytes:
    """A valid, tiny PNG (1 bit per pixel, all zero) of ``width`` × ``height``, built row by
    row so that the test itself never holds the pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    parts = [compressor.compress(row) for _ in range(height)]
    idat = b"".join(parts) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _upload(client: FlaskClient, child: int, data: bytes, name: str = "photo.jpg") -> object:
    return post_form(
        client,
        f"/compte/enfants/{child}/photo",
        {"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _photo_key(portal: Portal, child: int) -> str | None:
    with portal.unit_of_work() as uow:
        found = uow.get(Child, child)
        assert found is not None
        return found.photo_key


def test_photo_with_gps_exif_is_stored_without_it(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    response = _upload(parent_client, lucas, jpeg_with_gps())
    assert response.status_code == 302  # type: ignore[attr-defined]
    key = _photo_key(demo, lucas)
    assert key is not None
    stored = photos.photo_path(demo, key)
    assert stored.parent == photos.photo_dir(demo) and "photo" not in stored.stem
    raw = stored.read_bytes()
    assert b"Exif" not in raw and b"PhoneMaker" not in raw
    image = Image.open(io.BytesIO(raw))
    assert image.format == "JPEG" and not image.getexif()
    served = parent_client.get(f"/compte/enfants/{lucas}/photo.jpg")
    assert served.status_code == 200 and served.data == raw
    assert served.headers["Cache-Control"] == "no-store"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")


def test_twenty_thousand_pixel_square_png_is_refused_without_exhausting_memory(demo: Portal) -> None:
    bomb = png_claiming(20000, 20000)
    assert len(bomb) < 200_000  # 400 million pixels in a small file
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValidationFailed) as refused:
        photos.reencode(bomb, max_bytes=5_000_000, max_pixels=40_000_000, max_side=800)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert refused.value.issues[0].code == "too_many_pixels"
    assert refused.value.issues[0].field == "photo"
    # Decoding would need 50 MB (1 bit) to 1.2 GB (RGB); the peak memory barely moves.
    assert after - before < 30_000  # kilobytes


def test_bomb_upload_gets_a_french_field_error_and_changes_nothing(parent_client: FlaskClient, demo: Portal) -> None:
    emma = child_id(demo, "Emma")
    response = _upload(parent_client, emma, png_claiming(20000, 20000), "petit.png")
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.get_data(as_text=True).replace("&#39;", "'")  # type: ignore[attr-defined]
    assert "trop de pixels" in page and 'href="#f-photo"' in page
    assert _photo_key(demo, emma) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<?php system($_GET['c']); ?>", "pas une image JPEG ou PNG valide"),
        (b"GIF89a" + b"\x00" * 100, "pas une image JPEG ou PNG valide"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "pas une image JPEG ou PNG valide"),
        (b"", "choisissez un fichier"),
    ],
)
def test_fake_or_empty_photo_is_refused(parent_client: FlaskClient, demo: Portal, data: bytes, message: str) -> None:
    lucas = child_id(demo, "Lucas")
    response = _upload(parent_client, lucas, data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.get_data(as_text=True).replace("&#39;", "'")  # type: ignore[attr-defined]
    assert _photo_key(demo, lucas) is None


def test_oversized_photo_is_refused(demo: Portal) -> None:
    with pytest.raises(ValidationFailed) as refused:
        photos.reencode(b"\xff" * 2_000_001, max_bytes=2_000_000, max_pixels=10, max_side=10)
    assert refused.value.issues[0].code == "too_large"


def test_request_over_the_upload_limit_is_413(parent_client: FlaskClient, demo: Portal) -> None:
    response = _upload(parent_client, child_id(demo, "Lucas"), b"\xff" * (13 * 1024 * 1024))
    assert response.status_code == 413  # type: ignore[attr-defined]


def test_another_familys_child_photo_is_404(parent_client: FlaskClient, demo: Portal) -> None:
    hugo = child_id(demo, "Hugo")
    assert parent_client.get(f"/compte/enfants/{hugo}/photo.jpg").status_code == 404
    assert parent_client.get(f"/compte/enfants/{hugo}/photo").status_code == 404
    response = _upload(parent_client, child_id(demo, "Lucas"), jpeg_with_gps())
    assert response.status_code == 302  # type: ignore[attr-defined]
    # Hugo's form is not reachable, so post with Lucas's token
    from tests.conftest import csrf_token

    token = csrf_token(parent_client, "/compte/")
    refused = parent_client.post(
        f"/compte/enfants/{hugo}/photo",
        data={"csrf_token": token, "version": "1", "photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 404
    assert _photo_key(demo, hugo) is None


def test_agent_sees_the_photo(parent_client: FlaskClient, agent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    _upload(parent_client, lucas, jpeg_with_gps())
    assert agent_client.get(f"/gestion/familles/enfants/{lucas}/photo.jpg").status_code == 200
    assert parent_client.get(f"/gestion/familles/enfants/{lucas}/photo.jpg").status_code in (403, 404)


def test_purge_deletes_the_photo_file_after_commit(parent_client: FlaskClient, demo: Portal) -> None:
    lucas = child_id(demo, "Lucas")
    _upload(parent_client, lucas, jpeg_with_gps())
    key = _photo_key(demo, lucas)
    assert key is not None and photos.photo_path(demo, key).exists()
    with demo.unit_of_work() as uow:
        for enrolment in uow.find(Enrollment, child_id=lucas):
            enrolment.end_date = date(2020, 7, 4)
        uow.commit()
    with demo.unit_of_work() as uow:
        purge(demo, uow, date(2026, 11, 16), dry_run=False)
        assert photos.photo_path(demo, key).exists()  # not before the commit
        uow.commit()
    assert not photos.photo_path(demo, key).exists()
    assert _photo_key(demo, lucas) is None


def test_large_photo_is_reduced_and_turned_upright() -> None:
    image = Image.new("RGB", (3000, 2000), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    clean = Image.open(io.BytesIO(photos.reencode(out.getvalue(), max_bytes=10_000_000, max_pixels=40_000_000, max_side=800)))
    assert max(clean.size) <= 800
    assert clean.size[1] > clean.size[0]  # portrait once turned upright
    assert not clean.getexif()


def test_png_with_transparency_becomes_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(out, format="PNG")
    clean = photos.reencode(out.getvalue(), max_bytes=1_000_000, max_pixels=10_000, max_side=800)
    assert Image.open(io.BytesIO(clean)).format == "JPEG"
