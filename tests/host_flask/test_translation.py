"""Another language is a catalogue and a line of configuration: no change to the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from famille_core import ConfigurationError, settings_from_mapping


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"]["languages"] = ["fr", "en"]
    return settings_data


@pytest.fixture
def english_catalogue(instance_path: Path) -> None:
    """A collectivity's own English catalogue in its instance folder."""
    catalog = Catalog(locale="en")
    catalog.add("Se connecter", "Log in")
    catalog.add("Aller au contenu", "Skip to content")
    folder = instance_path / "translations" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)


@pytest.mark.usefixtures("english_catalogue")
def test_browser_language_picks_the_catalogue(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/connexion", headers={"Accept-Language": "en-GB,en;q=0.9"})
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text
    assert "Skip to content" in text
    assert "Log in" in text


@pytest.mark.usefixtures("english_catalogue")
def test_french_stays_the_default(client) -> None:  # type: ignore[no-untyped-def]
    for header in ("fr-FR,fr;q=0.9", "de-DE", ""):
        page = client.get("/connexion", headers={"Accept-Language": header})
        text = page.get_data(as_text=True)
        assert '<html lang="fr">' in text, header
        assert "Aller au contenu" in text
        assert "Skip to content" not in text


@pytest.mark.usefixtures("english_catalogue")
def test_a_language_not_offered_is_never_chosen(  # type: ignore[no-untyped-def]
    portal, engine, settings_data, instance_path
) -> None:
    from famille_core.persistence import build_sql_portal
    from host_flask import create_app

    settings_data["portal"]["languages"] = ["fr"]
    french_only = build_sql_portal(
        settings_from_mapping(settings_data), engine, instance_path=instance_path
    )
    client = create_app({"TESTING": True}, portal=french_only).test_client()
    page = client.get("/connexion", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert '<html lang="fr">' in text
    assert "Skip to content" not in text


@pytest.mark.parametrize("languages", [[], ["français"], ["f"]])
def test_bad_language_codes_stop_start_up(settings_data, languages) -> None:  # type: ignore[no-untyped-def]
    settings_data["portal"]["languages"] = languages
    with pytest.raises(ConfigurationError) as failure:
        settings_from_mapping(settings_data)
    assert "languages" in str(failure.value)
