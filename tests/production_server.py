"""Real servers for the tests of production (issue 14): ``famille serve --production`` in a
process of its own, and a small browser speaking HTTP to it.

The browser keeps cookies by name whatever their ``Secure`` flag (it stands where the TLS proxy
would: the portal behind it sees ``X-Forwarded-Proto: https`` when the test sends it), follows no
redirect, and reads CSRF tokens from pages as a person's browser submits them.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import attrs
import pytest

FAMILLE = [sys.executable, "-c", "from host_flask.cli import main; main()"]
START_SECONDS = 240
"""How long a server may take to answer /sante (a loaded CI machine is slow)."""


def redis_or_skip(url: str) -> Any:
    """A client of the Redis server at ``url``; the test is skipped when none answers."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {url}")
    return client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def famille_env(instance: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an instance folder over ``database_url``."""
    env = {**os.environ, "FAMILLE_INSTANCE": str(instance), "FAMILLE_DATABASE_URL": database_url}
    env.pop("FAMILLE_LIMITER_STORAGE", None)
    env.update(extra)
    return env


def famille(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One ``famille`` command, as an operator types it."""
    done = subprocess.run(
        [*FAMILLE, *args], env=dict(env), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"famille {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


@attrs.define
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


@attrs.define
class Browser:
    """A browser without JavaScript against one base URL (``http://127.0.0.1:port``)."""

    base: str
    headers: dict[str, str] = attrs.field(factory=dict)
    """Sent with every request (a proxy's ``X-Forwarded-Proto``…)."""
    cookies: dict[str, str] = attrs.field(factory=dict)
    page: str = "/"
    """The last page opened: a form posted from it sends it as ``Referer`` (same origin, as the
    portal's ``Referrer-Policy`` lets a browser do; Flask-WTF checks it over HTTPS)."""

    def request(self, method: str, path: str, form: Mapping[str, str] | None = None) -> Response:
        parts = urllib.parse.urlsplit(self.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            scheme = self.headers.get("X-Forwarded-Proto", parts.scheme)
            headers["Referer"] = f"{scheme}://{parts.netloc}{self.page}"
        else:
            self.page = path
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(answer.status, answer.headers, text)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: Mapping[str, str]) -> Response:
        return self.request("POST", path, form)

    def csrf_token(self, path: str = "/connexion") -> str:
        page = self.get(path).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str) -> Response:
        token = self.csrf_token()
        return self.post("/connexion", {"email": email, "password": password, "csrf_token": token})

    def at(self, base: str) -> Browser:
        """This browser's cookies, sent to the server at ``base``."""
        return Browser(base, dict(self.headers), dict(self.cookies), self.page)


def wait_healthy(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (code {process.returncode})")
        try:
            if Browser(base).get("/sante").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base}/sante did not answer 200 in {START_SECONDS} s")


@attrs.frozen
class Served:
    """A running server: its base URL and its master process."""

    base: str
    process: subprocess.Popen[str]
    log: Path | None


@contextmanager
def production_server(
    env: Mapping[str, str], *args: str, log: Path | None = None
) -> Iterator[Served]:
    """``famille serve --production`` on a free port until the block ends. Its output (the
    access log and gunicorn's) goes to ``log`` when given."""
    port = free_port()
    out = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [*FAMILLE, "serve", "--production", "--port", str(port), *args],
        env=dict(env),
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield Served(base, process, log)
    finally:
        stop(process)
        if log:
            out.close()  # type: ignore[union-attr]


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
