"""Attestations de frais de garde (issue 18, point 3; docs/payment.md "Childcare certificates"):
per household, year and child under 6 on 1 January, the amounts paid for childcare activities
(the canteen excluded by default), with the town's identity and SIRET, in "Factures", through
the API and generated all at once by the agents' command."""

from __future__ import annotations

import base64
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pypdf
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famille_core import Portal
from famille_core.entities import (
    Child,
    Family,
    FamilyChild,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from famille_plugins.billing.services.certificates import (
    age_on_first_january,
    certificates,
    line_activity,
)
from tests.api.conftest import make_token
from tests.conftest import login

SIRET = "21690123400019"
EMMA_2025 = "/factures/attestations/2025/{}.pdf"


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings_data,
        "collectivity": {**settings_data["collectivity"], "address": "1 place de la Mairie"},
        "plugins": {"billing": {"siret": SIRET}},
    }


def _child(portal: Portal, first_name: str, last_name: str = "DUPONT") -> Child:
    with portal.unit_of_work() as uow:
        child = uow.first(Child, first_name=first_name, last_name=last_name)
        assert child is not None
        return child


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() for page in reader.pages)


def test_factures_lists_the_attestation_and_its_pdf_reads_back(
    demo: Portal, parent_client: FlaskClient
) -> None:
    emma = _child(demo, "Emma")
    page = parent_client.get("/factures/").get_data(as_text=True)
    assert "Attestation fiscale 2025 — Emma DUPONT (50,00\u00a0€, PDF)" in page
    assert f'href="{EMMA_2025.format(emma.id)}"' in page
    response = parent_client.get(EMMA_2025.format(emma.id))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    for expected in ("Attestation fiscale 2025", "Emma DUPONT", "50,00", "Commune d'Harmonie"):
        assert expected in text, expected
    assert SIRET in text and "1 place de la Mairie" in text
    assert "Cantine" not in text  # the canteen is not childcare
    root = pypdf.PdfReader(io.BytesIO(response.data)).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged PDF
    assert root.get("/Lang") == "fr"


def test_no_attestation_for_a_child_over_the_limit_nor_another_household(
    demo: Portal, app: Any, parent_client: FlaskClient
) -> None:
    lucas, emma = _child(demo, "Lucas"), _child(demo, "Emma")
    assert parent_client.get(EMMA_2025.format(lucas.id)).status_code == 404
    assert parent_client.get(f"/factures/attestations/2024/{emma.id}.pdf").status_code == 404
    martin = app.test_client()
    login(martin, "martin@example.org", "martin-demo-password")
    assert martin.get(EMMA_2025.format(emma.id)).status_code == 404
    assert "Attestation fiscale" not in martin.get("/factures/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("billing", "total"),
    [
        ({"childcare_excluded": []}, Decimal("99.80")),  # the canteen counted as well
        ({"childcare_activities": ["CANTINE"]}, Decimal("49.80")),
        ({"childcare_activities": ["MATIN"]}, None),  # nothing counted: no attestation
        ({"childcare_age_limit": 5}, None),  # Emma was 5 on 1 January 2025
    ],
)
def test_which_activities_count_and_the_age_limit_are_settings(
    settings_data: dict[str, Any], billing: dict[str, Any], total: Decimal | None, request: Any
) -> None:
    settings_data["plugins"]["billing"].update(billing)
    demo: Portal = request.getfixturevalue("demo")
    with demo.unit_of_work() as uow:
        found = certificates(demo, uow, 2025)
    assert [c.total for c in found] == ([total] if total is not None else [])


def test_api_lists_the_years_attestations(demo: Portal, client: FlaskClient) -> None:
    token = make_token(demo, "erp", ["invoices:read"])
    with demo.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        assert dupont is not None
    answer = client.get(
        f"/api/v1/childcare-certificates?year=2025&family_id={dupont.id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    (item,) = answer.json["items"]
    assert (item["child_name"], item["year"], item["total"]) == ("Emma DUPONT", 2025, "50.00")
    assert item["pdf_path"] == EMMA_2025.format(_child(demo, "Emma").id)
    wrong = client.get(
        "/api/v1/childcare-certificates?year=abc", headers={"Authorization": f"Bearer {token}"}
    )
    assert wrong.status_code == 400
    emma = _child(demo, "Emma").id
    pdf = client.get(
        f"/api/v1/childcare-certificates/pdf?year=2025&family_id={dupont.id}&child_id={emma}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert pdf.status_code == 200, pdf.get_data(as_text=True)
    assert pdf.json["media_type"] == "application/pdf"
    assert "Emma DUPONT" in _pdf_text(base64.b64decode(pdf.json["content_base64"]))
    lucas = _child(demo, "Lucas").id
    none = client.get(
        f"/api/v1/childcare-certificates/pdf?year=2025&family_id={dupont.id}&child_id={lucas}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert none.status_code == 404


def test_agents_command_writes_every_attestation_with_a_progress_bar(
    demo: Portal, tmp_path: Path
) -> None:
    group = click.Group("famille")
    demo.hook.register_commands(cli=group, portal_factory=lambda: demo)  # as `famille` does
    result = CliRunner().invoke(group, ["childcare-certificates", "--annee", "2025", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 attestation(s) de frais de garde 2025" in result.output
    assert "Attestations 2025" in result.output  # the progress bar's label
    (written,) = tmp_path.glob("*.pdf")
    assert "Emma DUPONT" in _pdf_text(written.read_bytes())
    refused = CliRunner().invoke(group, ["childcare-certificates", "--annee", "99", str(tmp_path)])
    assert refused.exit_code == 2


def test_age_on_first_january_and_line_matching() -> None:
    assert age_on_first_january(date(2019, 10, 3), 2025) == 5
    assert age_on_first_january(date(2019, 1, 1), 2025) == 6  # birthday on the day
    assert age_on_first_january(date(2019, 1, 2), 2025) == 5
    from famille_core.entities import Activity

    activities = [
        Activity(code="SOIR", label="Accueil du soir"),
        Activity(code="CANTINE", label="Cantine"),
    ]
    assert line_activity("Accueil du soir — Emma", activities) is activities[0]
    assert line_activity("CANTINE", activities) is activities[1]
    assert line_activity("Cantines scolaires", activities) is None


LABELS = ["Accueil du soir — Zoé", "Accueil du matin", "Cantine — Zoé", "Séjour", "SOIR"]
COUNTED = {"Accueil du soir — Zoé", "Accueil du matin", "SOIR"}  # demo activities but CANTINE


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    invoices=st.lists(
        st.tuples(
            st.sampled_from([2024, 2025, 2026]),
            st.booleans(),  # paid
            st.lists(
                st.tuples(
                    st.sampled_from(LABELS),
                    st.decimals(min_value=0, max_value=500, places=2),
                    st.booleans(),  # for the child (else for nobody)
                ),
                min_size=1,
                max_size=4,
            ),
        ),
        max_size=5,
    )
)
def test_the_total_is_the_sum_of_the_paid_childcare_lines_of_the_year(
    demo: Portal, invoices: list[tuple[int, bool, list[tuple[str, Decimal, bool]]]]
) -> None:
    with demo.unit_of_work() as uow:
        family = Family(family_number=f"P{uow.count(Family)}", name="PROPRIETE")
        uow.add(family)
        uow.flush()
        child = Child(first_name="Zoé", last_name="PROPRIETE", birth_date=date(2021, 3, 1))
        uow.add(child)
        uow.flush()
        assert family.id is not None and child.id is not None
        uow.add(FamilyChild(family_id=family.id, child_id=child.id))
        expected = Decimal("0.00")
        for number, (year, paid, lines) in enumerate(invoices):
            total = sum((amount for _l, amount, _c in lines), Decimal("0.00"))
            invoice = Invoice(
                family_id=family.id,
                number=f"P{family.id}-{number}",
                reference=f"P{family.id}R{number}",
                issue_date=date(year, 6, 1),
                due_date=date(year, 6, 30),
                total=total,
                paid_amount=total if paid else Decimal("0.00"),
                status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
            )
            uow.add(invoice)
            uow.flush()
            for label, amount, mine in lines:
                uow.add(
                    InvoiceLine(
                        invoice_id=invoice.id,
                        label=label,
                        unit_price=amount,
                        amount=amount,
                        child_id=child.id if mine else None,
                    )
                )
                if year == 2025 and paid and mine and label in COUNTED:
                    expected += amount
        uow.commit()
        found = certificates(demo, uow, 2025, [family.id])
    assert len(found) <= 1  # one attestation per child and year
    assert sum((c.total for c in found), Decimal("0.00")) == expected
    if expected > 0:
        assert [(c.child_id, c.year) for c in found] == [(child.id, 2025)]


def _paid_after_school_care(portal: Portal, child: Child, year: int) -> None:
    """A paid invoice of ``year`` for ``child``'s after-school care (a counted activity)."""
    with portal.unit_of_work() as uow:
        family = uow.first(Family, name="DUPONT")
        assert family is not None and family.id is not None
        amount = Decimal("30.00")
        invoice = Invoice(
            family_id=family.id,
            number=f"ANCIENNE-{year}",
            reference=f"ANCIENNE{year}",
            issue_date=date(year, 5, 31),
            due_date=date(year, 6, 30),
            total=amount,
            paid_amount=amount,
            status=InvoiceStatus.PAID,
        )
        uow.add(invoice)
        uow.flush()
        label = f"Accueil du soir — {child.first_name}"
        uow.add(InvoiceLine(invoice_id=invoice.id, label=label, unit_price=amount, amount=amount, child_id=child.id))
        uow.commit()


def test_factures_lists_every_years_attestation_in_the_same_number_of_queries(
    demo: Portal, parent_client: FlaskClient, app: Flask
) -> None:
    """A family of several years sees one attestation a year, newest first, and the page reads
    the database as many times as with one year (it once ran six queries per year). Both views
    are rendered: the fast pages' cache is emptied before each (a repeated view would be answered
    from it with two queries, tests/host_flask/test_page_cache.py)."""
    from host_flask.page_cache import cache_of
    from tests.sql_counting import counting

    cache = cache_of(app)
    assert cache is not None
    emma = _child(demo, "Emma")
    parent_client.get("/factures/")  # warm up (templates, the session's first read)
    cache.clear()
    with counting(demo.storage) as one_year:  # type: ignore[arg-type]
        parent_client.get("/factures/")
    _paid_after_school_care(demo, emma, 2024)
    _paid_after_school_care(demo, emma, 2023)
    cache.clear()
    with counting(demo.storage) as three_years:  # type: ignore[arg-type]
        page = parent_client.get("/factures/").get_data(as_text=True)
    titles = [f"Attestation fiscale {year} — Emma DUPONT" for year in (2025, 2024, 2023)]
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions)
    assert len(three_years) == len(one_year)
