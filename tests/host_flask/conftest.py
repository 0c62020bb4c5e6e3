"""Fixtures of the host's tests: a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail_helpers import SmtpPort


@pytest.fixture
def smtp() -> Iterator[SmtpPort]:
    """A local port whose mail server the test switches (down at the end)."""
    port = SmtpPort()
    yield port
    port.down()
