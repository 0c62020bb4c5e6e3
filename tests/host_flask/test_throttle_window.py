"""Throttling is a window, not a lockout: the right password works once it has passed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from tests.conftest import login


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"] = {**settings_data["portal"], "login_limit": "5 per 6 seconds"}
    return settings_data


class _Clock:
    """The counters' clock (the database store reads ``time.time``), moved by the test: the
    window is the store's, however slowly a loaded machine checks the five passwords."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_right_password_works_after_the_window(
    demo: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from host_flask import attempts

    clock = _Clock()
    monkeypatch.setattr(attempts, "time", clock)
    client = app.test_client()
    for _ in range(5):
        login(client, "parent@example.org", "wrong-password-123")
    clock.now += 5.5  # still inside the window
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 429
    clock.now += 1.0  # the window has passed
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
