"""The key that signs session cookies: required in production, created once in development
(docs/security.md point 6)."""

from __future__ import annotations

import multiprocessing
import secrets
from pathlib import Path
from typing import Any

import pytest

from famille_core import ConfigurationError, Portal, settings_from_mapping
from host_flask.app import _secret_key

WORKERS = 8


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    """No key in the configuration: the portal must find one elsewhere or refuse."""
    return {**settings_data, "portal": {"production": True}}


def test_production_refuses_to_start_without_a_key(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMILLE_SECRET_KEY", raising=False)
    from host_flask import create_app

    with pytest.raises(ConfigurationError) as refused:
        create_app({"TESTING": True}, portal=portal)
    assert "FAMILLE_SECRET_KEY" in str(refused.value)
    assert "production" in str(refused.value)
    assert not (portal.instance_path / "secret_key").exists()  # no key silently generated


def test_production_uses_the_configured_key(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMILLE_SECRET_KEY", "a-key-set-by-the-operator-0123456789")
    from host_flask import create_app

    app = create_app({"TESTING": True}, portal=portal)
    assert app.config["SECRET_KEY"] == "a-key-set-by-the-operator-0123456789"


def _cold_start(instance: str, barrier: Any, results: Any) -> None:
    """One worker starting on a fresh instance. Every worker is held once it has found no key
    and is generating one, so all of them race to publish their own."""
    generate = secrets.token_urlsafe

    def generate_together(size: int) -> str:
        barrier.wait(timeout=120)
        return generate(size)

    secrets.token_urlsafe = generate_together  # type: ignore[assignment]
    settings = settings_from_mapping({"collectivity": {"name": "Commune d'Harmonie"}})
    results.put(_secret_key(settings, Path(instance)))


def test_workers_cold_starting_at_once_share_one_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMILLE_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=_cold_start, args=(str(instance), barrier, results))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    keys = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    on_disk = (instance / "secret_key").read_text(encoding="utf-8").strip()
    assert set(keys) == {on_disk}
    assert len(on_disk) >= 64
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file left
