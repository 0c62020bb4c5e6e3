"""Demo data (``famille demo``): the DUPONT family of the user guide, a few more households,
activities for the current school year, enrolments and a municipal agent.

The core creates what every portal has; each plugin adds its own data (bookings, records, …)
through the ``populate_demo`` hook, in its ``demo.py``, finding the core's rows by their natural
keys (:data:`HOUSEHOLDS`, a child's names, an activity's code).
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

from attrs import frozen

from famille_core.clock import today_in_paris
from famille_core.entities import (
    Activity,
    Actor,
    BookingPolicy,
    Child,
    Enrollment,
    Family,
    FamilyChild,
    Guardian,
    GuardianRole,
    Role,
)
from famille_core.portal import Portal
from famille_core.services.accounts import create_user
from famille_core.services.invitations import invite_guardian
from famille_core.services.passwords import hash_password
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
    DemoLogin("admin@example.org", "alice-demo-password", "Alice, administratrice (Comptes)"),
)


HOUSEHOLDS = {
    "DUPONT": "694504900001",
    "MARTIN": "694504900002",
    "BERNARD": "694504900003",
    "PETIT": "694504900004",
}
"""The demo households' family numbers, by name."""

ACTIVITIES = (
    # code, label, weekdays, capacity, policy, unit price
    ("CANTINE", "Cantine", "0,1,3,4", 120, BookingPolicy.AUTO, "4.15"),
    ("MATIN", "Accueil du matin", "0,1,3,4", 40, BookingPolicy.AUTO, "1.80"),
    ("SOIR", "Accueil du soir", "0,1,3,4", 40, BookingPolicy.REQUEST, "2.50"),
    ("MERCREDI", "Accueil de loisirs du mercredi", "2", 30, BookingPolicy.REQUEST, "9.00"),
)
"""The ENFANCE service's activities."""

ENROLMENTS = {
    ("Lucas", "DUPONT"): ("CANTINE", "MATIN", "SOIR"),
    ("Emma", "DUPONT"): ("CANTINE", "SOIR"),
    ("Léa", "MARTIN"): ("CANTINE", "SOIR"),
    ("Léa", "BERNARD"): ("CANTINE",),
    ("Hugo", "PETIT"): ("CANTINE", "MATIN"),
}
"""``(child's first name, household) -> activity codes`` (Léa is enrolled by each of her two
households)."""


def school_year(today: date) -> tuple[date, date]:
    """The school year containing ``today`` (1 September to 5 July)."""
    start_year = today.year if today.month >= 8 else today.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 7, 5)


def has_demo(uow: UnitOfWork) -> bool:
    """True when the demo families already exist."""
    return uow.first(Family, family_number=HOUSEHOLDS["DUPONT"]) is not None


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
    child = Child(school="École Jules Ferry", **fields)  # type: ignore[arg-type]
    uow.add(child)
    uow.flush()
    assert child.id is not None
    for family in families:
        assert family.id is not None
        uow.add(FamilyChild(family_id=family.id, child_id=child.id))
    return child


def populate(portal: Portal, uow: UnitOfWork) -> tuple[DemoLogin, ...]:
    """Create the demo data (once) and return the demo logins.

    The core creates what every portal has — activities, households, guardians, children,
    enrolments and logins; each plugin then adds its own data through ``populate_demo``.
    """
    if has_demo(uow):
        return DEMO_LOGINS
    start, end = school_year(today_in_paris(portal.clock))
    activities = _activities(uow)
    households = _households(uow)
    for (first_name, family_name), codes in ENROLMENTS.items():
        _enrol(uow, households, first_name, family_name, [activities[code] for code in codes], start, end)
    _logins(portal, uow, households)
    uow.flush()
    portal.hook.populate_demo(portal=portal, uow=uow)
    return DEMO_LOGINS


def _activities(uow: UnitOfWork) -> dict[str, Activity]:
    activities = {
        code: Activity(
            code=code,
            label=label,
            service="ENFANCE",
            weekdays=weekdays,
            capacity=capacity,
            policy=policy,
            unit_price=Decimal(price),
        )
        for code, label, weekdays, capacity, policy, price in ACTIVITIES
    }
    for activity in activities.values():
        uow.add(activity)
    uow.flush()
    return activities


@frozen
class _Household:
    family: Family
    guardians: tuple[Guardian, ...]
    children: dict[str, Child]


def _households(uow: UnitOfWork) -> dict[str, _Household]:
    """DUPONT (two parents, two children), MARTIN and BERNARD (separated parents sharing Léa),
    PETIT (no login)."""
    dupont = _family(uow, HOUSEHOLDS["DUPONT"], "DUPONT")
    home = {"address": "12 rue des Écoles", "postal_code": "69000", "city": "Harmonie"}
    marie = _guardian(
        uow, dupont, GuardianRole.PRIMARY, civility="Madame", last_name="DUPONT", first_name="Marie",
        birth_date=date(1984, 3, 14), phone_mobile="06 12 34 56 78", email="parent@example.org",
        profession="Infirmière", employer="Hôpital Nord", **home,
    )
    jean = _guardian(
        uow, dupont, GuardianRole.SECOND, civility="Monsieur", last_name="DUPONT", first_name="Jean",
        birth_date=date(1982, 7, 2), phone_mobile="06 98 76 54 32", email="conjoint@example.org",
        profession="Technicien", employer="Transports Harmonie", **home,
    )
    lucas = _child(
        uow, [dupont], first_name="Lucas", last_name="DUPONT", birth_date=date(2017, 5, 21), sex="M",
        class_level="CE2",
    )
    emma = _child(
        uow, [dupont], first_name="Emma", last_name="DUPONT", birth_date=date(2019, 10, 3), sex="F",
        class_level="CP",
    )
    martin = _family(uow, HOUSEHOLDS["MARTIN"], "MARTIN")
    bernard = _family(uow, HOUSEHOLDS["BERNARD"], "BERNARD")
    sophie = _guardian(
        uow, martin, GuardianRole.PRIMARY, civility="Madame", last_name="MARTIN", first_name="Sophie",
        email="martin@example.org", city="Harmonie",
    )
    paul = _guardian(
        uow, bernard, GuardianRole.PRIMARY, civility="Monsieur", last_name="BERNARD", first_name="Paul",
        email="bernard@example.org", city="Harmonie",
    )
    lea = _child(
        uow, [martin, bernard], first_name="Léa", last_name="MARTIN", birth_date=date(2018, 2, 9), sex="F",
        class_level="CE1",
    )
    petit = _family(uow, HOUSEHOLDS["PETIT"], "PETIT")
    claire = _guardian(
        uow, petit, GuardianRole.PRIMARY, civility="Madame", last_name="PETIT", first_name="Claire",
        email="claire.petit@example.org", city="Harmonie",
    )
    hugo = _child(
        uow, [petit], first_name="Hugo", last_name="PETIT", birth_date=date(2016, 11, 30), sex="M",
        class_level="CM1",
    )
    return {
        "DUPONT": _Household(dupont, (marie, jean), {"Lucas": lucas, "Emma": emma}),
        "MARTIN": _Household(martin, (sophie,), {"Léa": lea}),
        "BERNARD": _Household(bernard, (paul,), {"Léa": lea}),
        "PETIT": _Household(petit, (claire,), {"Hugo": hugo}),
    }


def _enrol(
    uow: UnitOfWork,
    households: dict[str, _Household],
    first_name: str,
    family_name: str,
    activities: list[Activity],
    start: date,
    end: date,
) -> None:
    household = households[family_name]
    child = household.children[first_name]
    for activity in activities:
        assert child.id is not None and activity.id is not None and household.family.id is not None
        uow.add(
            Enrollment(
                child_id=child.id,
                activity_id=activity.id,
                family_id=household.family.id,
                start_date=start,
                end_date=end,
                site="École Jules Ferry",
            )
        )


@functools.cache
def _demo_password_hash(password: str) -> str:
    """Each demo password is hashed once per process (Argon2 is slow by design, and the tests
    build the demo again for every test)."""
    return hash_password(password)


def _logins(portal: Portal, uow: UnitOfWork, households: dict[str, _Household]) -> None:
    """A login for each guardian of DUPONT, MARTIN and BERNARD, one for the agent and one for
    the administrator; PETIT's guardian is invited (an account waiting for its password)."""
    logins = {login.email: login for login in DEMO_LOGINS}
    for name in ("DUPONT", "MARTIN", "BERNARD"):
        household = households[name]
        for guardian in household.guardians:
            login = logins[guardian.email]
            create_user(
                portal,
                uow,
                email=login.email,
                password=login.password,
                password_hash=_demo_password_hash(login.password),
                role=Role.PARENT,
                display_name=f"{guardian.first_name} {guardian.last_name}",
                family_id=household.family.id,
                guardian_id=guardian.id,
            )
    staff = (
        ("agent@example.org", Role.AGENT, "Magnus", "ENFANCE"),
        ("admin@example.org", Role.ADMIN, "Alice", None),
    )
    for email, role, name, service in staff:
        login = logins[email]
        create_user(
            portal,
            uow,
            email=login.email,
            password=login.password,
            password_hash=_demo_password_hash(login.password),
            role=role,
            display_name=name,
            service=service,
        )
    for guardian in households["PETIT"].guardians:
        # Invited without an e-mail: "Inviter" (or ``famille invite``) sends a new one.
        invite_guardian(portal, uow, Actor.system(), guardian, send=False)

