"""Demo data of the billing plugin: the households' invoices (docs/payment.md)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from famille_core.clock import today_in_paris
from famille_core.demo import HOUSEHOLDS, school_year
from famille_core.entities import Child, Family, Invoice, InvoiceLine, InvoiceStatus
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork


def populate(portal: Portal, uow: UnitOfWork) -> None:
    """Five invoices of the user guide's kind: DUPONT's paid September canteen and unpaid
    October one, one unpaid invoice for each of Léa's two households, and DUPONT's paid
    December invoice of last year for Emma (after-school care and canteen: her attestation de
    frais de garde, docs/payment.md), when the core's demo has them and no invoice is there yet."""
    families = {
        name: uow.first(Family, family_number=HOUSEHOLDS[name])
        for name in ("DUPONT", "MARTIN", "BERNARD")
    }
    if any(family is None for family in families.values()) or uow.count(Invoice) > 0:
        return
    dupont, martin, bernard = (families[name] for name in ("DUPONT", "MARTIN", "BERNARD"))
    assert dupont is not None and martin is not None and bernard is not None
    today = today_in_paris(portal.clock)
    start, _end = school_year(today)
    _invoice(
        uow,
        dupont,
        "99996883",
        f"{start.year}-CA-09-0001",
        today - timedelta(days=45),
        [("Cantine — septembre", Decimal("15"), Decimal("4.15"))],
        paid=True,
    )
    _invoice(
        uow,
        dupont,
        "99996884",
        f"{start.year}-CA-10-0002",
        today - timedelta(days=10),
        [
            ("Cantine — Lucas", Decimal("17"), Decimal("4.15")),
            ("Accueil du matin — Lucas", Decimal("8"), Decimal("1.80")),
        ],
    )
    emma = uow.first(Child, first_name="Emma", last_name="DUPONT")
    if emma is not None:
        last_year = today.year - 1
        _invoice(
            uow,
            dupont,
            "99996880",
            f"{last_year}-AS-12-0000",
            date(last_year, 12, 1),
            [
                ("Accueil du soir — Emma", Decimal("20"), Decimal("2.50")),
                ("Cantine — Emma", Decimal("12"), Decimal("4.15")),
            ],
            paid=True,
            child_id=emma.id,
        )
    _invoice(
        uow,
        martin,
        "99996885",
        f"{start.year}-CA-10-0003",
        today - timedelta(days=10),
        [("Cantine — Léa (foyer MARTIN)", Decimal("9"), Decimal("4.15"))],
    )
    _invoice(
        uow,
        bernard,
        "99996886",
        f"{start.year}-CA-10-0004",
        today - timedelta(days=10),
        [("Cantine — Léa (foyer BERNARD)", Decimal("6"), Decimal("4.15"))],
    )


def _invoice(
    uow: UnitOfWork,
    family: Family,
    number: str,
    reference: str,
    issued: date,
    lines: list[tuple[str, Decimal, Decimal]],
    *,
    paid: bool = False,
    child_id: int | None = None,
) -> Invoice:
    assert family.id is not None
    items = [
        InvoiceLine(
            label=label,
            quantity=qty,
            unit_price=price,
            amount=(qty * price).quantize(Decimal("0.01")),
            child_id=child_id,
        )
        for label, qty, price in lines
    ]
    total = sum((item.amount for item in items), Decimal("0.00"))
    invoice = Invoice(
        family_id=family.id,
        number=number,
        reference=reference,
        issue_date=issued,
        due_date=issued + timedelta(days=20),
        total=total,
        paid_amount=total if paid else Decimal("0.00"),
        status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
        label=lines[0][0].split(" — ")[0],
    )
    uow.add(invoice)
    uow.flush()
    for item in items:
        item.invoice_id = invoice.id
        uow.add(item)
    return invoice
