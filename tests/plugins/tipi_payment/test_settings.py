"""``[plugins.tipi_payment]``: defaults, and bad values that stop start-up with a message
naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from famille_core import ConfigurationError, settings_from_mapping
from famille_core.persistence import build_sql_portal
from famille_plugins.tipi_payment.settings import TipiSettings


def _portal(engine: Engine, table: dict[str, Any]) -> Any:
    settings = settings_from_mapping({"plugins": {"tipi_payment": table}})
    return build_sql_portal(settings, engine)


def test_defaults_use_payfip_web_service_in_test_mode(engine: Engine) -> None:
    config: TipiSettings = _portal(engine, {}).config_for("tipi_payment")
    assert config.providers == ("payfip",)
    assert config.mode == "test" and config.saisie("payfip") == "T"
    assert config.soap_url == "https://www.payfip.gouv.fr/tpa/services/securite"
    assert config.payment_page_url == "https://www.payfip.gouv.fr/tpa/paiementws.web"
    assert config.legacy_url == "https://www.payfip.gouv.fr/tpa/paiement.web"


def test_only_the_base_url_differs_for_the_simulator(engine: Engine) -> None:
    config = _portal(engine, {"base_url": "http://127.0.0.1:5050/"}).config_for("tipi_payment")
    assert config.soap_url == "http://127.0.0.1:5050/tpa/services/securite"
    assert config.origin == "http://127.0.0.1:5050"


@pytest.mark.parametrize(
    ("mode", "web_service", "legacy"),
    [("test", "T", "T"), ("activation", "X", "X"), ("production", "W", "A")],
)
def test_saisie_letters_per_mode(mode: str, web_service: str, legacy: str) -> None:
    config = TipiSettings(mode=mode)
    assert (config.saisie("payfip"), config.saisie("tipi")) == (web_service, legacy)
    assert TipiSettings(mode="production", legacy_production_saisie="M").saisie("tipi") == "M"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"mode": "prod"}, "mode"),
        ({"base_url": "www.payfip.gouv.fr"}, "base_url"),
        ({"providers": []}, "providers"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"pending_expiry_minutes": 5}, "pending_expiry_minutes"),
        ({"legacy_production_saisie": "Z"}, "legacy_production_saisie"),
        ({"numcli": "021289"}, "numcli"),  # unknown key: the numcli belongs to [[regies]]
    ],
)
def test_bad_values_stop_start_up_naming_the_key(
    engine: Engine, table: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _portal(engine, table)
    assert "plugins.tipi_payment" in caught.value.message and key in caught.value.message
