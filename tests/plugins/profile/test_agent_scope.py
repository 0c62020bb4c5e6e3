"""Health, bank and tax data are read only by the agents whose service needs them
(docs/security.md point 25): ``[plugins.profile] sensitive_data_services``."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import AuditRecord, Family
from tests.plugins.profile.conftest import child_id


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "plugins": {"profile": {"sensitive_data_services": ["SCOLAIRE"]}}}


def test_agent_of_another_service_sees_no_sensitive_data_and_leaves_no_read(agent_client: FlaskClient, demo: Portal) -> None:
    emma = child_id(demo, "Emma")
    with demo.unit_of_work() as uow:
        family_id = uow.first(Family, name="DUPONT").id  # type: ignore[union-attr]
        audited_before = uow.count(AuditRecord)  # the demo's own (an invitation)
    child_page = agent_client.get(f"/gestion/familles/enfants/{emma}").get_data(as_text=True)
    family_page = agent_client.get(f"/gestion/familles/{family_id}").get_data(as_text=True)
    assert "Arachide" not in child_page and "n'a pas accès" in child_page.replace("&#39;", "'")
    assert "FR76 ****" not in family_page and "42\u202f000,00" not in family_page
    assert "Emma DUPONT" in family_page  # the rest stays visible
    with demo.unit_of_work() as uow:
        assert uow.count(AuditRecord) == audited_before  # no read of sensitive data recorded


def test_unknown_sections_in_configuration_stop_start_up() -> None:
    from famille_core.errors import ConfigurationError
    from famille_core.settings import structure_plugin_settings
    from famille_plugins.profile.settings import ProfileSettings

    with pytest.raises(ConfigurationError, match="rubriques inconnues : sante"):
        structure_plugin_settings("profile", ProfileSettings, {"validated_sections": ["sante"]})
