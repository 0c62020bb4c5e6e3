"""Absence reasons from the configuration (``[plugins.calendar]``), and the example plugin."""

from __future__ import annotations

from typing import Any

import pytest

from famille_core import Portal
from famille_plugins.calendar.services.reasons import reasons_for


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings_data,
        "portal": {**settings_data["portal"], "plugins": ["profile", "inbox", "calendar", "billing", "tipi_payment", "extra_reasons"]},
        "plugins": {
            "calendar": {
                "absence_reasons": [{"code": "AUTRES", "label": "AUTRES (FACTURE)", "billable": True},
                                    {"code": "DEMENAGEMENT", "label": "DEMENAGEMENT", "billable": False}],
            }
        },
    }


def test_configuration_extends_and_overrides_and_example_plugin_adds(portal: Portal) -> None:
    reasons = {r.code: r for r in reasons_for(portal)}
    assert len(reasons) == 11  # 9 of the guide + DEMENAGEMENT + RDV_MEDICAL of examples/extra_reasons
    assert reasons["AUTRES"].label == "AUTRES (FACTURE)"
    assert reasons["RDV_MEDICAL"].label == "RENDEZ-VOUS MEDICAL PROGRAMME"
    assert not reasons["DEMENAGEMENT"].billable
