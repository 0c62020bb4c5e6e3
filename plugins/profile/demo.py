"""Demo data of the profile plugin: the DUPONT household's tax, CAF and bank records, every demo
child's details and health records, Emma's health data (a food allergy with a PAI), her
grandmother as an authorised person."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from famille_core.clock import today_in_paris
from famille_core.demo import HOUSEHOLDS, school_year
from famille_core.entities import (
    AuthorizedPerson,
    BankDetails,
    CafInfo,
    CafRegime,
    Child,
    ChildDetails,
    Family,
    FamilyChild,
    FiscalData,
    HealthRecord,
    Vaccination,
)
from famille_core.portal import Portal
from famille_core.uow import In, UnitOfWork


def populate(portal: Portal, uow: UnitOfWork) -> None:
    """Add the records the core demo leaves to this plugin (when the core demo is there)."""
    dupont = uow.first(Family, family_number=HOUSEHOLDS["DUPONT"])
    if dupont is None or dupont.id is None or uow.first(FiscalData, family_id=dupont.id) is not None:
        return
    start, _end = school_year(today_in_paris(portal.clock))
    _child_records(uow)
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
    emma = uow.first(Child, first_name="Emma", last_name="DUPONT")
    health = uow.first(HealthRecord, child_id=emma.id) if emma is not None else None
    if health is not None:
        health.doctor_name = "Dr Lefèvre"
        health.food_allergies = "Arachide"
        health.has_pai = True
        health.pai_details = "PAI alimentaire : éviction de l'arachide, trousse d'urgence à l'école."
        health.vaccinations = [Vaccination("DTP", date(2020, 12, 1))]
    if emma is not None and emma.id is not None:
        uow.add(
            AuthorizedPerson(
                child_id=emma.id, family_id=dupont.id, last_name="MOREAU", first_name="Françoise",
                relationship="Grand-mère", phone="06 11 22 33 44", may_pick_up=True,
                emergency_contact=True,
            )
        )
    uow.flush()


def _child_records(uow: UnitOfWork) -> None:
    """An empty details record and health record for every child of the demo households."""
    families = uow.find(Family, family_number=In(list(HOUSEHOLDS.values())))
    links = uow.find(FamilyChild, family_id=In([f.id for f in families]))
    for child_id in sorted({link.child_id for link in links}):
        if uow.first(ChildDetails, child_id=child_id) is None:
            uow.add(ChildDetails(child_id=child_id))
        if uow.first(HealthRecord, child_id=child_id) is None:
            uow.add(HealthRecord(child_id=child_id))
    uow.flush()
