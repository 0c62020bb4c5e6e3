"""``famille serve --production`` refuses what would differ from worker to worker, and maps the
settings onto gunicorn (the server itself runs in test_two_workers.py and test_deployment.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from famille_core import ConfigurationError, settings_from_mapping
from host_flask.cli import build_cli
from host_flask.production import AccessLogger, JsonAccessLogger, gunicorn_options


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, **env: str) -> BaseException | None:
    (tmp_path / "famille.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("FAMILLE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("FAMILLE_CONFIG", raising=False)
    monkeypatch.delenv("FAMILLE_SECRET_KEY", raising=False)
    monkeypatch.delenv("FAMILLE_LIMITER_STORAGE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(build_cli(), ["serve", "--production"]).exception


def test_production_refuses_a_key_generated_per_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = _serve(tmp_path, monkeypatch, "")
    assert isinstance(refused, ConfigurationError) and "FAMILLE_SECRET_KEY" in refused.message
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_attempt_counters_kept_in_each_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = '[portal]\nsecret_key = "a-key-for-this-test-only"\nlimiter_storage = "memory://"\n'
    refused = _serve(tmp_path, monkeypatch, config)
    assert isinstance(refused, ConfigurationError) and "memory://" in refused.message


def test_settings_make_the_gunicorn_configuration() -> None:
    settings = settings_from_mapping(
        {"server": {"workers": 5, "bind": "unix:/run/famille/web.sock", "access_log": False}}
    )
    options = gunicorn_options(settings, {"workers": None, "bind": None})
    assert options["workers"] == 5 and options["bind"] == ["unix:/run/famille/web.sock"]
    assert options["accesslog"] is None and options["logger_class"] is AccessLogger
    assert options["forwarded_allow_ips"] == ""  # [portal] trusted_proxies alone decides
    json_logs = settings_from_mapping({"logging": {"format": "json"}})
    options = gunicorn_options(json_logs, {"workers": 3, "bind": ["127.0.0.1:9000"]})
    assert options["workers"] == 3 and options["bind"] == ["127.0.0.1:9000"]
    assert options["accesslog"] == "-" and options["logger_class"] is JsonAccessLogger


def test_the_wsgi_entry_point_serves_the_configured_instance(tmp_path: Path) -> None:
    """``host_flask.wsgi:app``, what docs/deployment.md gives waitress (in a process of its own:
    importing it builds the application of the environment's instance)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "FAMILLE_INSTANCE": str(tmp_path), "FAMILLE_DATABASE_URL": ""}
    env.pop("FAMILLE_CONFIG", None)
    script = (
        "from famille_core.persistence import upgrade_database\n"
        f"upgrade_database('sqlite:///{tmp_path / 'famille.sqlite'}')\n"
        "from host_flask.wsgi import app\n"
        "answer = app.test_client().get('/sante')\n"
        "print(answer.status_code, answer.json['status'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["200", "ok"]
