"""The configuration file is validated at start-up, naming the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from famille_core import ConfigurationError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "famille.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_configuration_is_read(tmp_path: Path) -> None:
    settings = load_settings(
        _write(
            tmp_path,
            """
            [collectivity]
            name = "Commune d'Harmonie"
            school_zone = "B"
            services = ["ENFANCE", "SCOLAIRE", "PERISCOLAIRE"]

            [[regies]]
            code = "default"
            name = "Régie enfance"
            numcli = "021289"

            [portal]
            plugins = ["inbox", "calendar"]

            [plugins.calendar]
            anything = 1
            """,
        )
    )
    assert settings.regie().numcli == "021289"
    assert settings.collectivity.services == ("ENFANCE", "SCOLAIRE", "PERISCOLAIRE")
    assert settings.portal.plugins == ("inbox", "calendar")
    assert settings.plugins["calendar"] == {"anything": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[regies]]\nnumcli = "21289"', "numcli"),
        ('[portal]\nplugin = ["inbox"]', "plugin"),
        ('[collectivity]\nschool_zone = "D"', "school_zone"),
        ("[portal]\nsession_idle_minutes = 90", "session_idle_minutes"),
        ('[mail]\nmode = "pigeon"', "mode"),
        ("[portal]\nproduction = 'peut-être'", "portal.production"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(_write(tmp_path, text))
    assert "Configuration invalide" in str(error.value)
    assert expected in str(error.value)


def test_unreadable_and_missing_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="illisible"):
        load_settings(_write(tmp_path, "[portal\n"))
    with pytest.raises(ConfigurationError, match="introuvable"):
        load_settings(tmp_path / "absent.toml")
