"""PDF attachments with active content are refused (finding 15): JavaScript on opening or on
events, launch actions, embedded files, XFA forms — however the file hides them (name escapes,
compressed object streams, an incremental update). A plain PDF still passes, byte for byte,
and opens."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from famille_core import Portal
from famille_core.entities import Attachment, Message
from famille_core.uploads import (
    PDF,
    CheckedFile,
    Upload,
    attachment_dir,
    check_file,
)
from tests.plugins.inbox.conftest import pdf_bytes, send

ACTIVE = "ce PDF contient du contenu actif"


def _name(text: str) -> NameObject:
    return NameObject(text)


def _action(kind: str, **fields: object) -> DictionaryObject:
    action = DictionaryObject({_name("/Type"): _name("/Action"), _name("/S"): _name(kind)})
    for key, value in fields.items():
        action[_name(f"/{key}")] = value  # type: ignore[assignment]
    return action


def _written(build: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def open_action_javascript(writer: PdfWriter) -> None:
    writer._root_object[_name("/OpenAction")] = _action("/JavaScript", JS=TextStringObject("app.alert(1)"))


def embedded_exe(writer: PdfWriter) -> None:
    writer.add_attachment("facture.exe", b"MZ\x90\x00" + b"\x00" * 200)


def launch_link(writer: PdfWriter) -> None:
    link = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
        _name("/Rect"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(200), FloatObject(200)]),
        _name("/A"): _action("/Launch", F=TextStringObject("C:\\Windows\\System32\\calc.exe")),
    })
    writer.pages[0][_name("/Annots")] = ArrayObject([writer._add_object(link)])


def page_open_script(writer: PdfWriter) -> None:
    writer.pages[0][_name("/AA")] = DictionaryObject({_name("/O"): _action("/JavaScript", JS=TextStringObject("app.alert(2)"))})


def document_javascript(writer: PdfWriter) -> None:
    script = _action("/JavaScript", JS=TextStringObject("app.alert(3)"))
    tree = DictionaryObject({_name("/Names"): ArrayObject([TextStringObject("init"), writer._add_object(script)])})
    writer._root_object[_name("/Names")] = DictionaryObject({_name("/JavaScript"): writer._add_object(tree)})


def xfa_form(writer: PdfWriter) -> None:
    xfa = writer._add_object(DictionaryObject())  # stands for the XFA packet stream
    writer._root_object[_name("/AcroForm")] = DictionaryObject({
        _name("/Fields"): ArrayObject(), _name("/XFA"): xfa,
    })


def javascript_link(writer: PdfWriter) -> None:
    link = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
        _name("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)]),
        _name("/A"): _action("/URI", URI=TextStringObject("javascript:app.alert(4)")),
    })
    writer.pages[0][_name("/Annots")] = ArrayObject([writer._add_object(link)])


def _escaped_name() -> bytes:
    """``/JS`` written ``/J#53`` (same length, so the cross-reference table stays exact)."""
    data = _written(lambda w: w._root_object.__setitem__(
        _name("/OpenAction"), _action("/JavaScript", JS=TextStringObject("xxapp.alert(5)"))))
    assert data.count(b"/JS (xx") == 1
    return data.replace(b"/JS (xx", b"/J#53 (")


def _in_object_stream() -> bytes:
    """A PDF 1.5 whose catalog, with its ``/OpenAction`` script, sits in a compressed object
    stream (no byte of ``JavaScript`` in the file) with a cross-reference stream."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(6)) >> >>"
    header = b"1 0 "
    packed = zlib.compress(header + catalog)
    assert b"JavaScript" not in packed
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    bodies = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << >> >>",
    }
    for number, body in bodies.items():
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    offsets[4] = out.tell()
    out.write(b"4 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
              % (len(header), len(packed)) + packed + b"\nendstream\nendobj\n")
    offsets[5] = out.tell()
    rows = [b"\x00\x00\x00\x00\x00\xff\xff", b"\x02" + (4).to_bytes(4, "big") + (0).to_bytes(2, "big")]
    rows += [b"\x01" + offsets[n].to_bytes(4, "big") + b"\x00\x00" for n in (2, 3, 4, 5)]
    table = zlib.compress(b"".join(rows))
    out.write(b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
              b"stream\n" % len(table) + table + b"\nendstream\nendobj\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[5])
    return out.getvalue()


def _incremental_update() -> bytes:
    """A plain PDF to which an incremental update (appended after ``%%EOF``) adds a script."""
    plain = pdf_bytes()
    writer = PdfWriter(io.BytesIO(plain), incremental=True)
    open_action_javascript(writer)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert data.startswith(plain)
    return data


MALICIOUS = {
    "open-action-javascript": lambda: _written(open_action_javascript),
    "embedded-exe": lambda: _written(embedded_exe),
    "launch-link": lambda: _written(launch_link),
    "page-open-script": lambda: _written(page_open_script),
    "document-javascript": lambda: _written(document_javascript),
    "xfa-form": lambda: _written(xfa_form),
    "javascript-uri": lambda: _written(javascript_link),
    "escaped-name": _escaped_name,
    "object-stream": _in_object_stream,
    "incremental-update": _incremental_update,
}


@pytest.mark.parametrize("make", MALICIOUS.values(), ids=MALICIOUS.keys())
def test_active_pdfs_are_refused(make: Callable[[], bytes]) -> None:
    data = make()
    assert len(PdfReader(io.BytesIO(data)).pages) == 1  # a real PDF a viewer would open
    result = check_file(Upload("attestation.pdf", data), max_bytes=5 << 20, max_pixels=10**8)
    assert not isinstance(result, CheckedFile)
    assert result.code == "active_pdf" and result.field == "attachments"
    assert result.message.startswith(f"Pièce jointe « attestation.pdf » : {ACTIVE}")
    assert "Enregistrer au format PDF" in result.message


def test_the_family_reads_why_and_nothing_is_stored(parent_client: FlaskClient, demo: Portal) -> None:
    response = send(parent_client, files=[(_written(open_action_javascript), "facture.pdf"),
                                          (_written(embedded_exe), "rib.pdf")])
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert f"Pièce jointe « facture.pdf » : {ACTIVE}" in page
    assert f"Pièce jointe « rib.pdf » : {ACTIVE}" in page
    assert '<a href="#f-attachments">' in page
    with demo.unit_of_work() as uow:
        assert uow.count(Message) == 0 and uow.count(Attachment) == 0
    folder = attachment_dir(demo)
    assert not folder.exists() or not any(folder.iterdir())


def _plain_document() -> bytes:
    """A real letter as the portal's own PDF engine writes it: fonts, a web link, a mail link."""
    from weasyprint import HTML

    html = ("<h1>Attestation d'employeur</h1><p>Madame DUPONT est employée depuis 2019.</p>"
            "<p><a href='https://www.example.org/verifier'>Vérifier</a> — "
            "<a href='mailto:rh@example.org'>rh@example.org</a></p>")
    return bytes(HTML(string=html).write_pdf())


def _plain_with_destination() -> bytes:
    """Opens at page 1 fitted to the window: an ``/OpenAction`` that is only a destination."""
    def build(writer: PdfWriter) -> None:
        page = writer.pages[0].indirect_reference
        writer._root_object[_name("/OpenAction")] = ArrayObject([page, _name("/Fit")])

    return _written(build)


PLAIN = {"blank": pdf_bytes, "weasyprint-letter": _plain_document, "open-at-page-one": _plain_with_destination}


@pytest.mark.parametrize("make", PLAIN.values(), ids=PLAIN.keys())
def test_plain_pdfs_pass_unchanged_and_open(
    parent_client: FlaskClient, demo: Portal, make: Callable[[], bytes]
) -> None:
    data = make()
    result = check_file(Upload("justificatif.pdf", data), max_bytes=5 << 20, max_pixels=10**8)
    assert isinstance(result, CheckedFile) and result.content_type == PDF and result.data == data
    assert send(parent_client, files=[(data, "justificatif.pdf")]).status_code == 302
    with demo.unit_of_work() as uow:
        (attachment,) = uow.find(Attachment)
    download = parent_client.get(f"/messages/pieces-jointes/{attachment.id}")
    assert download.status_code == 200 and download.data == data
    assert len(PdfReader(io.BytesIO(download.data)).pages) >= 1


def test_a_password_protected_pdf_is_refused_with_its_own_message() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    result = check_file(Upload("bulletin.pdf", out.getvalue()), max_bytes=5 << 20, max_pixels=10**8)
    assert not isinstance(result, CheckedFile) and result.code == "encrypted_pdf"
    assert "protégé par un mot de passe" in result.message


def test_a_deeply_nested_pdf_is_refused_not_a_server_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    data = pdf_bytes().replace(b"/Producer (pypdf)", b"/Producer (pypdf) /Nested " + deep)
    result = check_file(Upload("profond.pdf", data), max_bytes=5 << 20, max_pixels=10**8)
    assert not isinstance(result, CheckedFile) and result.code == "attachment_type"
