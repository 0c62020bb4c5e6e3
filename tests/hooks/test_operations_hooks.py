"""The operations hooks: what the health page ``GET /sante`` checks besides the database."""

from __future__ import annotations

from flask import Flask

from famille_core import Portal, hookimpl
from famille_core.hooks.results import HealthCheck
from tests.hooks.conftest import plugged


def _unreachable() -> None:
    raise ConnectionRefusedError("queue down")


class Queue:
    def __init__(self, up: bool) -> None:
        self.up = up

    @hookimpl
    def health_checks(self, portal: Portal) -> list[HealthCheck]:
        return [HealthCheck(name="queue", run=(lambda: None) if self.up else _unreachable)]


def test_health_checks_collected_each_named_on_the_page_and_a_failure_answers_503(
    demo: Portal, app: Flask
) -> None:
    client = app.test_client()
    with plugged(demo, Queue(up=True)):
        answer = client.get("/sante")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "jobs": "ok", "queue": "ok"},
    }
    with plugged(demo, Queue(up=False)):
        answer = client.get("/sante")
    assert answer.status_code == 503
    assert answer.json is not None
    assert answer.json["failing"] == ["queue"]
    assert answer.json["checks"]["database"] == "ok"
