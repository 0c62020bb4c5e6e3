"""Waiting for a server started as a process of its own (``famille serve``…)."""

from __future__ import annotations

import subprocess
import time
import urllib.request

import pytest


def first_page(
    opener: urllib.request.OpenerDirector,
    url: str,
    server: subprocess.Popen[bytes],
    *,
    seconds: float = 60,
) -> str:
    """The page at ``url`` once the server answers: up to ``seconds`` (a loaded machine starts
    Python slowly), failing at once if the server process has ended."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return str(opener.open(url, timeout=5).read().decode())
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.2)
