"""Separated parents on the agenda (finding 16): Léa belongs to the MARTIN and BERNARD households.
An agent's refusal reason is written to the household that asked; the other household sees the
day refused, never the reason."""

from __future__ import annotations

from datetime import date

from flask import Flask

from famille_core.entities import Enrollment, Family
from famille_plugins.calendar.services import agents
from tests.conftest import login
from tests.plugins.calendar.conftest import FIRST_OPEN_DAY, Demo, book

REASON = "Dossier incomplet : attestation d'employeur de Mme MARTIN manquante"


def test_a_refusal_reason_shows_only_to_the_household_that_asked(cal: Demo, app: Flask) -> None:
    with cal.portal.unit_of_work() as uow:
        bernard = uow.first(Family, name="BERNARD")
        assert bernard is not None and bernard.id is not None
        # Léa goes to the after-school club from both homes (requests need an agent's decision).
        uow.add(Enrollment(child_id=cal.lea, activity_id=cal.soir, family_id=bernard.id,
                           start_date=date(2026, 9, 1), end_date=date(2027, 7, 5)))
        uow.commit()
    assert book(cal, cal.lea, cal.soir, FIRST_OPEN_DAY, cal.other_parent) == "requested"
    with cal.portal.unit_of_work() as uow:
        (row,) = [r for r in agents.pending_requests(uow, cal.agent) if r.child.id == cal.lea]
        agents.decide(cal.portal, uow, cal.agent, row.reservation.id, False, REASON)  # type: ignore[arg-type]
        uow.commit()
    path = f"/agenda/?enfant={cal.lea}&jour={FIRST_OPEN_DAY.isoformat()}"
    pages = {}
    for email, password in (("martin@example.org", "martin-demo-password"),
                            ("bernard@example.org", "bernard-demo-password")):
        client = app.test_client()
        assert login(client, email, password).status_code == 302
        response = client.get(path)
        assert response.status_code == 200
        pages[email] = response.get_data(as_text=True).replace("&#39;", "'")
    assert "Accueil du soir : refusé" in pages["martin@example.org"]
    assert REASON in pages["martin@example.org"]
    assert "Accueil du soir : refusé" in pages["bernard@example.org"]
    assert REASON not in pages["bernard@example.org"] and "attestation" not in pages["bernard@example.org"]
