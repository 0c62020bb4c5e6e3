"""Demo data (``famille demo``): the DUPONT family of the user guide, a few more households,
activities for the current school year, invoices and a municipal agent.

Plugins add their own demo data through the ``populate_demo`` hook.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Activity,
    BankDetails,
    BookingPolicy,
    CafInfo,
    CafRegime,
    Child,
    ChildDetails,
    Enrollment,
    Family,
    FamilyChild,
    FiscalData,
    Guardian,
    GuardianRole,
    HealthRecord,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Role,
    Vaccination,
)
from famille_core.portal import Portal
from famille_core.services.accounts import create_user
from famille_core.uow import UnitOfWork


@frozen
class DemoLogin:
    """A login created by the demo, printed for the person trying the portal."""

    email: str
    password: str
    who: str


DEMO_LOGINS = (
    DemoLogin(
        "parent@example.org", "parent-demo-password", "Marie DUPONT, famille DUPONT (parent)"
    ),
    DemoLogin(
        "conjoint@example.org", "conjoint-demo-password", "Jean DUPONT, famille DUPONT (conjoint)"
    ),
    DemoLogin(
        "martin@example.org", "martin-demo-password", "Sophie MARTIN (parents séparés, foyer 1)"
    ),
    DemoLogin(
        "bernard@example.org", "bernard-demo-password", "Paul BERNARD (parents séparés, foyer 2)"
    ),
    DemoLogin("agent@example.org", "agent-demo-password", "Magnus, agent du service ENFANCE"),
)


def school_year(today: date) -> tuple[date, date]:
    """The school year containing ``today`` (1 September to 5 July)."""
    start_year = today.year if today.month >= 8 else today.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 7, 5)


def has_demo(uow: UnitOfWork) -> bool:
    """True when the demo families already exist."""
    return uow.first(Family, family_number="694504900001") is not None


def _family(uow: UnitOfWork, number: str, name: str) -> Family:
    family = Family(family_number=number, name=name, external_id=f"ERP-{number}")
    uow.add(family)
    uow.flush()
    return family


def _guardian(uow: UnitOfWork, family: Family, role: GuardianRole, **fields: object) -> Guardian:
    assert family.id is not None
    guardian = Guardian(family_id=family.id, role=role, **fields)  # type: ignore[arg-type]
    uow.add(guardian)
    uow.flush()
    return guardian


def _child(uow: UnitOfWork, families: list[Family], **fields: object) -> Child:
    child = Child(**fields)  # type: ignore[arg-type]
    uow.add(child)
    uow.flush()
    assert child.id is not None
    for family in families:
        assert family.id is not None
        uow.add(FamilyChild(family_id=family.id, child_id=child.id))
    uow.add(ChildDetails(child_id=child.id))
    uow.add(HealthRecord(child_id=child.id))
    return child


def populate(portal: Portal, uow: UnitOfWork) -> tuple[DemoLogin, ...]:
    """Create the demo data (once) and return the demo logins."""
    if has_demo(uow):
        return DEMO_LOGINS
    start, end = school_year(today_in_paris(portal.clock))
    activities = [
        Activity(
            code="CANTINE",
            label="Cantine",
            service="ENFANCE",
            weekdays="0,1,3,4",
            capacity=120,
            policy=BookingPolicy.AUTO,
            unit_price=Decimal("4.15"),
        ),
        Activity(
            code="MATIN",
            label="Accueil du matin",
            service="ENFANCE",
            weekdays="0,1,3,4",
            capacity=40,
            policy=BookingPolicy.AUTO,
            unit_price=Decimal("1.80"),
        ),
        Activity(
            code="SOIR",
            label="Accueil du soir",
            service="ENFANCE",
            weekdays="0,1,3,4",
            capacity=40,
            policy=BookingPolicy.REQUEST,
            unit_price=Decimal("2.50"),
        ),
        Activity(
            code="MERCREDI",
            label="Accueil de loisirs du mercredi",
            service="ENFANCE",
            weekdays="2",
            capacity=30,
            policy=BookingPolicy.REQUEST,
            unit_price=Decimal("9.00"),
        ),
    ]
    for activity in activities:
        uow.add(activity)
    uow.flush()
    cantine, matin, soir, _mercredi = activities

    dupont = _family(uow, "694504900001", "DUPONT")
    assert dupont.id is not None
    marie = _guardian(
        uow,
        dupont,
        GuardianRole.PRIMARY,
        civility="Madame",
        last_name="DUPONT",
        first_name="Marie",
        birth_date=date(1984, 3, 14),
        address="12 rue des Écoles",
        postal_code="69000",
        city="Harmonie",
        phone_mobile="06 12 34 56 78",
        email="parent@example.org",
        profession="Infirmière",
        employer="Hôpital Nord",
    )
    jean = _guardian(
        uow,
        dupont,
        GuardianRole.SECOND,
        civility="Monsieur",
        last_name="DUPONT",
        first_name="Jean",
        birth_date=date(1982, 7, 2),
        address="12 rue des Écoles",
        postal_code="69000",
        city="Harmonie",
        phone_mobile="06 98 76 54 32",
        email="conjoint@example.org",
        profession="Technicien",
        employer="Transports Harmonie",
    )
    uow.add(
        FiscalData(
            family_id=dupont.id,
            year=start.year - 1,
            reference_income=Decimal("42000.00"),
            tax_shares=Decimal("3.00"),
        )
    )
    uow.add(
        CafInfo(
            family_id=dupont.id,
            regime=CafRegime.CAF,
            allocataire_number="1234567",
            quotient=Decimal("780.00"),
            valid_from=date(start.year, 1, 1),
        )
    )
    uow.add(
        BankDetails(
            family_id=dupont.id,
            holder="Marie DUPONT",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            mandate_reference="RUM-694504900001",
            mandate_date=date(start.year, 9, 1),
        )
    )
    lucas = _child(
        uow,
        [dupont],
        first_name="Lucas",
        last_name="DUPONT",
        birth_date=date(2017, 5, 21),
        sex="M",
        school="École Jules Ferry",
        class_level="CE2",
    )
    emma = _child(
        uow,
        [dupont],
        first_name="Emma",
        last_name="DUPONT",
        birth_date=date(2019, 10, 3),
        sex="F",
        school="École Jules Ferry",
        class_level="CP",
    )
    health = uow.first(HealthRecord, child_id=emma.id)
    if health is not None:
        health.doctor_name = "Dr Lefèvre"
        health.food_allergies = "Arachide"
        health.has_pai = True
        health.pai_details = (
            "PAI alimentaire : éviction de l'arachide, trousse d'urgence à l'école."
        )
        health.vaccinations = [Vaccination("DTP", date(2020, 12, 1))]

    martin = _family(uow, "694504900002", "MARTIN")
    bernard = _family(uow, "694504900003", "BERNARD")
    sophie = _guardian(
        uow,
        martin,
        GuardianRole.PRIMARY,
        civility="Madame",
        last_name="MARTIN",
        first_name="Sophie",
        email="martin@example.org",
        city="Harmonie",
    )
    paul = _guardian(
        uow,
        bernard,
        GuardianRole.PRIMARY,
        civility="Monsieur",
        last_name="BERNARD",
        first_name="Paul",
        email="bernard@example.org",
        city="Harmonie",
    )
    lea = _child(
        uow,
        [martin, bernard],
        first_name="Léa",
        last_name="MARTIN",
        birth_date=date(2018, 2, 9),
        sex="F",
        school="École Jules Ferry",
        class_level="CE1",
    )

    petit = _family(uow, "694504900004", "PETIT")
    _guardian(
        uow,
        petit,
        GuardianRole.PRIMARY,
        civility="Madame",
        last_name="PETIT",
        first_name="Claire",
        email="claire.petit@example.org",
        city="Harmonie",
    )
    hugo = _child(
        uow,
        [petit],
        first_name="Hugo",
        last_name="PETIT",
        birth_date=date(2016, 11, 30),
        sex="M",
        school="École Jules Ferry",
        class_level="CM1",
    )

    enrolments = [
        (lucas, dupont, [cantine, matin, soir]),
        (emma, dupont, [cantine, soir]),
        (lea, martin, [cantine, soir]),
        (lea, bernard, [cantine]),
        (hugo, petit, [cantine, matin]),
    ]
    for child, family, acts in enrolments:
        for activity in acts:
            assert child.id is not None and activity.id is not None and family.id is not None
            uow.add(
                Enrollment(
                    child_id=child.id,
                    activity_id=activity.id,
                    family_id=family.id,
                    start_date=start,
                    end_date=end,
                    site="École Jules Ferry",
                )
            )

    today = today_in_paris(portal.clock)
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

    logins = {login.email: login for login in DEMO_LOGINS}
    for guardian, family in ((marie, dupont), (jean, dupont), (sophie, martin), (paul, bernard)):
        login = logins[guardian.email]
        create_user(
            portal,
            uow,
            email=login.email,
            password=login.password,
            role=Role.PARENT,
            display_name=f"{guardian.first_name} {guardian.last_name}",
            family_id=family.id,
            guardian_id=guardian.id,
        )
    agent = logins["agent@example.org"]
    create_user(
        portal,
        uow,
        email=agent.email,
        password=agent.password,
        role=Role.AGENT,
        display_name="Magnus",
        service="ENFANCE",
    )
    uow.flush()
    portal.hook.populate_demo(portal=portal, uow=uow)
    return DEMO_LOGINS


def _invoice(
    uow: UnitOfWork,
    family: Family,
    number: str,
    reference: str,
    issued: date,
    lines: list[tuple[str, Decimal, Decimal]],
    *,
    paid: bool = False,
) -> Invoice:
    assert family.id is not None
    items = [
        InvoiceLine(
            label=label,
            quantity=qty,
            unit_price=price,
            amount=(qty * price).quantize(Decimal("0.01")),
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
