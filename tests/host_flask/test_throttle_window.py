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


def test_right_password_works_after_the_window(demo, app: Flask) -> None:
    client = app.test_client()
    login(client, "parent@example.org", "wrong-password-123")
    first_failure = time.monotonic()  # counted at the latest now
    for _ in range(4):
        login(client, "parent@example.org", "wrong-password-123")
    # A window, not a timer: on a loaded machine the five failures may take a while, so the
    # window (6 s) is long enough for them and the test waits for its end, not a fixed delay.
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 429
    time.sleep(max(0.0, first_failure + 6.3 - time.monotonic()))
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
