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
from famille_core.entities import Activity, Child, DomainEvent, Family, Reservation
from tests.api.conftest import make_token
from tests.conftest import login

ALL = ("profile", "inbox", "calendar", "tipi_payment")

CORE_SECTIONS = {"format", "exported_at", "family", "accounts", "guardians", "enrollments"}
# Invoices and payments: the core's until the billing plugin takes them (issue 13).
BILLING_SECTIONS = {"invoices", "invoice_lines", "payments", "overpayments"}
SECTIONS = {
    "profile": {"fiscal_data", "caf", "bank_details", "children", "extra_fields", "change_requests"},
    "calendar": {"reservations", "absences", "calendar_feeds"},
    "inbox": {"threads", "messages", "attachments"},
    "tipi_payment": set(),
}
API_PATHS = {"calendar": {"/reservations", "/absences"}, "inbox": {"/messages"}}


@pytest.fixture(
    params=[ALL, ("profile", "inbox", "tipi_payment"), ("profile", "calendar")],
    ids=["all", "without-calendar", "without-inbox-and-payments"],
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
    headers = {"Authorization": f"Bearer {make_token(demo, 'erp', ['agenda:read', 'messages:write'])}"}
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
    assert reservations.status_code == (200 if "calendar" in enabled else 404)
    assert message.status_code == (201 if "inbox" in enabled else 404)
    for absent in (r for r in (reservations, message) if r.status_code == 404):
        assert absent.mimetype == "application/problem+json"
        assert absent.get_json()["type"].endswith("/introuvable")


def test_the_family_data_export_holds_exactly_the_enabled_plugins_sections(
    demo: Portal, app: Flask, enabled: tuple[str, ...]
) -> None:
    client = app.test_client()
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
    data = json.loads(client.get("/compte/mes-donnees.json").get_data(as_text=True))
    expected = CORE_SECTIONS | BILLING_SECTIONS
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
    assert payments.exit_code == 0, payments.output
    reservations = runner.invoke(cli.cli, ["export", "reservations", *period])
    if "calendar" in enabled:
        assert reservations.exit_code == 0 and reservations.output.startswith("[")
    else:
        assert reservations.exit_code == 2
        assert "« reservations » inconnu (exports : payments)" in reservations.output


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
