"""Throttling is a window, not a lockout: the right password works once it has passed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from tests.conftest import login


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    settings_data["portal"] = {**settings_data["portal"], "login_limit": "5 per 2 seconds"}
    return settings_data


def test_right_password_works_after_the_window(demo, app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        login(client, "parent@example.org", "wrong-password-123")
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 429
    time.sleep(2.2)
    assert login(client, "parent@example.org", "parent-demo-password").status_code == 302
