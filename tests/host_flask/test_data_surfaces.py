"""Each feature owns its data surfaces: a disabled plugin's API operations, export sections,
``famille export`` kinds and feed events are absent (docs/architecture.md, decision 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Activity, Child, DomainEvent, Family, Invoice, Reservation
from tests.api.conftest import make_token
from tests.conftest import login

ALL = ("profile", "inbox", "calendar", "billing", "tipi_payment")

CORE_SECTIONS = {"format", "exported_at", "family", "accounts", "guardians", "enrollments"}
SECTIONS = {
    "billing": {"invoices", "invoice_lines", "payments", "overpayments"},
    "profile": {"fiscal_data", "caf", "bank_details", "children", "extra_fields", "change_requests"},
    "calendar": {"reservations", "absences", "supporting_documents", "attendance", "calendar_feeds"},
    "inbox": {"threads", "messages", "attachments"},
    "tipi_payment": set(),
}
API_PATHS = {
    "calendar": {"/reservations", "/absences", "/attendance"},
    "inbox": {"/messages"},
    "billing": {"/invoices", "/payments"},
}


@pytest.fixture(
    params=[ALL, ("profile", "inbox", "billing"), ("profile", "calendar")],
    ids=["all", "without-calendar", "without-inbox-and-billing"],
)
def enabled(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return tuple(request.param)


@pytest.fixture
def settings_data(settings_data: dict[str, Any], enabled: tuple[str, ...]) -> dict[str, Any]:
    settings_data["portal"] = {**settings_data["portal"], "plugins": list(enabled)}
    return settings_data


def test_the_api_has_exactly_the_enabled_plugins_operations(
    demo: Portal, app: Flask, client: FlaskClient, enabled: tuple[str, ...]
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = set(document["paths"])
    assert {"/families", "/children", "/events"} <= paths
    scopes = ["agenda:read", "messages:write", "invoices:read", "payments:read"]
    headers = {"Authorization": f"Bearer {make_token(demo, 'erp', scopes)}"}
    query = "?from=2026-11-01&to=2026-11-30"
    for plugin, owned in API_PATHS.items():
        if plugin in enabled:
            assert owned <= paths, plugin
        else:
            assert not owned & paths, plugin
            assert not any(op.startswith(plugin) for op in app.view_functions)
    reservations = client.get("/api/v1/reservations" + query, headers=headers)
    message = client.post(
        "/api/v1/messages",
        json={"family": "ERP-694504900001", "subject": "Essai", "body": "Texte"},
        headers=headers,
    )
    invoices = client.get("/api/v1/invoices", headers=headers)
    payments = client.get("/api/v1/payments", headers=headers)
    assert reservations.status_code == (200 if "calendar" in enabled else 404)
    assert message.status_code == (201 if "inbox" in enabled else 404)
    assert invoices.status_code == payments.status_code == (200 if "billing" in enabled else 404)
    if "billing" in enabled:
        with demo.unit_of_work() as uow:
            stored = uow.count(Invoice)
        assert stored >= 4 and invoices.get_json()["total"] == stored  # the demo's, with their lines
        labels = {line["label"] for item in invoices.get_json()["items"] for line in item["lines"]}
        assert "Cantine — Lucas" in labels
    for absent in (r for r in (reservations, message, invoices, payments) if r.status_code == 404):
        assert absent.mimetype == "application/problem+json"
        assert absent.get_json()["type"].endswith("/introuvable")


def test_the_family_data_export_holds_exactly_the_enabled_plugins_sections(
    demo: Portal, app: Flask, enabled: tuple[str, ...]
) -> None:
    client = app.test_client()
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    data = json.loads(client.get("/compte/mes-donnees.json").get_data(as_text=True))
    expected = set(CORE_SECTIONS)
    for plugin in enabled:
        expected |= SECTIONS[plugin]
    assert set(data) == expected


def test_famille_export_offers_the_enabled_plugins_kinds(
    demo: Portal, enabled: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    from host_flask import cli

    monkeypatch.setattr(cli, "current_portal", lambda: demo)
    period = ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"]
    runner = CliRunner()
    payments = runner.invoke(cli.cli, ["export", "payments", *period])
    reservations = runner.invoke(cli.cli, ["export", "reservations", *period])
    for kind, result, plugin in (("payments", payments, "billing"), ("reservations", reservations, "calendar")):
        if plugin in enabled:
            assert result.exit_code == 0 and result.output.startswith("["), result.output
        else:
            assert result.exit_code == 2
            assert f"« {kind} » inconnu" in result.output


def test_feed_events_come_from_the_enabled_plugins_policies(
    demo: Portal, enabled: tuple[str, ...]
) -> None:
    from datetime import date

    with demo.unit_of_work() as uow:
        lucas = uow.first(Child, first_name="Lucas")
        cantine = uow.first(Activity, code="CANTINE")
        dupont = uow.first(Family, name="DUPONT")
        assert lucas and cantine and dupont
        before = uow.count(DomainEvent, entity="reservation")
        uow.add(
            Reservation(
                child_id=lucas.id,  # type: ignore[arg-type]
                activity_id=cantine.id,  # type: ignore[arg-type]
                family_id=dupont.id,  # type: ignore[arg-type]
                day=date(2026, 12, 1),
                created_at=demo.clock.now(),
            )
        )
        uow.commit()
    with demo.unit_of_work() as uow:
        told = uow.count(DomainEvent, entity="reservation") - before
    assert told == (1 if "calendar" in enabled else 0)
