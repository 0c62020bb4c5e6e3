"""ERP records refuse texts longer than their columns, with a field message, on every database
(finding 17: on PostgreSQL a long postal code through the API was a 500)."""

from __future__ import annotations

from attrs import fields

from famille_core.persistence import tables
from famille_core.services import sync
from famille_core.services.record_limits import TEXT_LIMITS, too_long

TABLES = {
    "FamilyRecord": tables.family,
    "GuardianRecord": tables.guardian,
    "ChildRecord": tables.child,
    "EnrolmentRecord": tables.enrollment,
    "InvoiceRecord": tables.invoice,
    "InvoiceLineRecord": tables.invoice_line,
}


def test_every_stored_text_of_a_record_has_the_length_of_its_column() -> None:
    expected = {}
    for record_name, table in TABLES.items():
        record = getattr(sync, record_name)
        expected[record_name] = {
            attribute.name: table.c[attribute.name].type.length
            for attribute in fields(record)
            if attribute.name in table.c and getattr(table.c[attribute.name].type, "length", None)
        }
    assert expected == TEXT_LIMITS


def test_nested_texts_are_named_by_their_path() -> None:
    record = sync.FamilyRecord(
        external_id="ERP-1",
        family_number="1",
        name="N" * 201,
        responsable=sync.GuardianRecord(last_name="L", first_name="F", postal_code="75001-75002"),
    )
    assert [(i.field, i.message) for i in too_long(record)] == [
        ("name", "Ce champ dépasse 200 caractères."),
        ("responsable.postal_code", "Ce champ dépasse 10 caractères."),
    ]
