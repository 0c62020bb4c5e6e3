"""PDF attachments: readable, and without active content.

A PDF can carry more than pages: JavaScript run on opening (``/OpenAction``) or on events
(``/AA``), launch actions that start a program, embedded files (an ``.exe``), XFA forms, rich
media. Agents open the families' attachments on the town's computers, so such a file is refused,
with a message telling the family how to get a plain PDF (print it to PDF), rather than
"cleaned": a plain PDF is kept byte for byte (a digital signature stays valid).

The file is parsed with pypdf, never grepped: names written with ``#xx`` escapes, objects packed
in compressed object streams and incremental updates are all seen as a viewer sees them. Every
object of the document is inspected — those reachable from the trailer and every entry of the
cross-reference tables — so an object that only a repairing viewer would find is inspected too.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

MAX_OBJECTS = 100_000
"""More objects than this is refused (inspection time is bounded; real letters have far fewer)."""

ACTIVE_KEYS = frozenset({
    "/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/XFA",
    "/RichMedia", "/RichMediaContent", "/RichMediaSettings",
})
"""Dictionary keys that only active content uses (scripts, event actions, embedded files, XFA)."""
ACTIVE_ACTIONS = frozenset({
    "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/RichMediaExecute",
    "/Rendition", "/Movie", "/Sound",
})
"""Action types (``/S``) that run code, open or send files, or play media."""
ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen"})
"""``/Type`` or ``/Subtype`` values of embedded files and media annotations."""
SAFE_URI_SCHEMES = ("http:", "https:", "mailto:")


class UnreadablePdf(ValueError):
    """pypdf cannot read the file as a PDF with at least one page."""


class EncryptedPdf(ValueError):
    """The PDF is protected by a password (or a cipher pypdf cannot open here)."""


class ActivePdf(ValueError):
    """The PDF carries active content; the message (English, for logs) says which kind."""


def check_pdf(data: bytes) -> None:
    """Accept a readable PDF without active content; otherwise raise one of the errors above."""
    if not data.startswith(b"%PDF-"):
        raise UnreadablePdf("no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise EncryptedPdf("password protected")
        if len(reader.pages) < 1:
            raise UnreadablePdf("no page")
        for value in _objects(reader):
            _refuse_active(value)
    except (UnreadablePdf, EncryptedPdf, ActivePdf):
        raise
    except Exception as exc:  # any failure of the parser on hostile bytes refuses the file
        raise UnreadablePdf(type(exc).__name__) from exc


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. pypdf's DependencyError for AES without a crypto library
        return False


def _objects(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every dictionary of the document: in the trailer and in each indirect object (reachable
    from the trailer or listed in a cross-reference table), each object once."""
    seen: set[tuple[int, int]] = set()
    pending: list[IndirectObject] = [
        IndirectObject(number, generation, reader)
        for generation, entries in reader.xref.items()
        for number in entries
    ]
    pending += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    roots: list[object] = [reader.trailer]
    while roots or pending:
        if roots:
            value = roots.pop()
        else:
            reference = pending.pop()
            key = (reference.idnum, reference.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_OBJECTS:
                raise UnreadablePdf("too many objects")
            value = reference.get_object()
        # Walk the direct objects nested in this one; references join the queue.
        nested = [value]
        while nested:
            item = nested.pop()
            if isinstance(item, IndirectObject):
                pending.append(item)
            elif isinstance(item, DictionaryObject):
                yield item
                nested.extend(item.values())
            elif isinstance(item, ArrayObject):
                nested.extend(item)


def _refuse_active(dictionary: DictionaryObject) -> None:
    """Raise :class:`ActivePdf` when ``dictionary`` is active content."""
    keys = set(dictionary.keys())
    found = keys & ACTIVE_KEYS
    if found:
        raise ActivePdf(f"key {sorted(found)[0]}")
    for name in ("/Type", "/Subtype"):
        kind = dictionary.get(name)
        if isinstance(kind, NameObject) and kind in ACTIVE_TYPES:
            raise ActivePdf(f"{name} {kind}")
    action = dictionary.get("/S")
    if isinstance(action, NameObject) and action in ACTIVE_ACTIONS:
        raise ActivePdf(f"action {action}")
    if action == "/URI":
        uri = dictionary.get("/URI")
        text = uri.get_object() if uri is not None else ""
        if not str(text).strip().lower().startswith(SAFE_URI_SCHEMES):
            raise ActivePdf("URI scheme")
    opening = dictionary.get("/OpenAction")
    if opening is not None:
        opening = opening.get_object()
        # A destination (page and zoom) or a plain go-to is fine; anything else acts on opening.
        if isinstance(opening, DictionaryObject) and opening.get("/S") != "/GoTo":
            raise ActivePdf("open action")
