"""Embedding Portail Famille in an ERP's own Python process.

Run it: ``python examples/erp_embedding.py [DATABASE_URL]`` (default: a temporary SQLite file).

It builds a portal over the ERP's own SQLAlchemy engine, enables plugins, registers an in-house
plugin (here it listens to reservation changes), feeds households, children, enrolments and an
invoice through the sync services, and reads the event feed — all without Flask.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from famille_core import hookimpl, settings_from_mapping
from famille_core.entities import Activity, DomainEvent, Invoice
from famille_core.persistence import build_sql_portal, make_engine, upgrade_database
from famille_core.services import sync
from famille_core.uow import Gte


class PushToErp:
    """An in-house plugin: the ERP hears of every reservation change."""

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, str]] = []

    @hookimpl
    def on_reservation(self, reservation: Any, change: str) -> None:
        self.sent.append((reservation.id, change))  # a real ERP would enqueue a message here


def main(url: str | None = None) -> dict[str, Any]:
    """Run the example; returns what it observed (the test suite checks it)."""
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'erp.sqlite'}"
    upgrade_database(url)  # the shipped Alembic migrations
    engine = make_engine(url)  # the ERP's own engine (any SQLAlchemy engine works)
    settings = settings_from_mapping(
        {
            "collectivity": {"name": "Commune d'Harmonie", "school_zone": "A"},
            "regies": [{"numcli": "021289"}],
            "portal": {"plugins": ["calendar", "inbox"]},
        }
    )
    erp = PushToErp()
    portal = build_sql_portal(settings, engine, extra_plugins=[erp])

    with portal.unit_of_work() as uow:
        uow.add(Activity(code="CANTINE", label="Cantine", unit_price=Decimal("4.15")))
        family, _ = sync.upsert_family(
            uow,
            sync.FamilyRecord(
                external_id="ERP-42",
                family_number="4242",
                name="LEROY",
                responsable=sync.GuardianRecord(last_name="LEROY", first_name="Anne"),
            ),
        )
        sync.upsert_child(
            uow,
            sync.ChildRecord(
                external_id="ENF-1", first_name="Jules", last_name="LEROY", families=["ERP-42"]
            ),
        )
        uow.flush()
        sync.upsert_enrolment(
            uow,
            sync.EnrolmentRecord(
                external_id="INS-1",
                child="ENF-1",
                family="ERP-42",
                activity="CANTINE",
                start_date=date(2026, 9, 1),
                end_date=date(2027, 7, 5),
            ),
        )
        _, outcome = sync.upsert_invoice(
            uow,
            sync.InvoiceRecord(
                external_id="FAC-1",
                family="ERP-42",
                number="1001",
                reference="2026-CA-11-1001",
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 11, 30),
                lines=[
                    sync.InvoiceLineRecord(
                        label="Cantine", quantity=Decimal("17"), unit_price=Decimal("4.15")
                    )
                ],
            ),
        )
        uow.commit()

    with portal.unit_of_work() as uow:
        invoice = uow.first(Invoice, external_id="FAC-1")
        events = uow.find(DomainEvent, id=Gte(1), order_by=("id",))
        observed = {
            "invoice_total": invoice.total if invoice else None,
            "invoice_outcome": outcome.value,
            "event_kinds": [event.kind for event in events],
            "plugins": sorted(name for name, _ in portal.pm.list_name_plugin()),
            "family_id": family.id,
            "erp_notifications": erp.sent,
        }
    engine.dispose()
    return observed


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else None)
    for key, value in result.items():
        print(f"{key}: {value}")
