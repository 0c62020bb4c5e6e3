"""Hostile values in every web route's parameters never give a server error (finding 17,
docs/security.md point 14). The JSON API has its own schema-driven fuzzer (tests/api).

The walk: every rule of ``app.url_map`` (but the API and static files) and each of its methods,
as the demo parent and as the demo agent, logged in, with a valid CSRF token. Forms are found
by crawling the role's pages from the home page; each form is sent with its own values and one
field at a time replaced by a hostile value (huge, negative, control characters, year 0001 and
9999 dates, very long, wrong types); query parameters the same way; identifiers in paths too.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, RequestRedirect, Rule

from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    "99999999999",
    "2147483648",
    "-2147483649",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "0001-01",
    "9999-12",
    "\x01\x08\x1b\x7f\u2028",
    "é" * 5000,
    "abc",
    "",
    "1.5",
    "[]",
]
"""One at a time in each field (NUL is refused before any view, by its own test)."""

HOSTILE_IN_PATH = ["99999999999", "2147483648", "0"]
HOSTILE_TEXT_IN_PATH = ["x" * 3000, quote("\x01\x1b"), "..", quote("é")]

SKIPPED = {
    "auth.logout",  # ends the session the walk needs
    # Password checks of a logged-in person: wrong values count against the login limiter and
    # would lock the walk out; their limits and inputs have their own tests.
    "auth.confirm_password",
    "auth.second_factor",
}
LOGGED_IN_AUTH = {"auth.change_password", "auth.second_factor_setup", "auth.extend_session"}
"""Pages of the auth blueprint a logged-in person uses (the others are fuzzed anonymously)."""
SKIPPED_BLUEPRINTS = {"api"}


class Forms(HTMLParser):
    """The forms of a page (action, method, fields with their values) and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self.links: list[str] = []
        self._current: dict[str, list[str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._current = {}
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(), self._current))
        elif self._current is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a and a["name"] in self._current:
                return
            value = a.get("value", "on" if kind == "checkbox" else "")
            if kind == "file":
                return
            self._current.setdefault(a["name"], [])
            if kind != "radio" or not self._current[a["name"]]:
                self._current[a["name"]].append(value)
            if tag == "select":
                self._select = a["name"]
        elif tag == "option" and self._select and self._current is not None and not self._current[self._select]:
            self._current[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


PARAMETER = r"(?:\.(?:get|getlist)\(\s*|\[)\"([^\"]+)\""
READS = {
    "GET": re.compile(r"request\.(?:args|values)" + PARAMETER),
    "POST": re.compile(r"request\.(?:form|values)" + PARAMETER),
}


def _names_read(paths: list[Path], method: str) -> set[str]:
    """The query (GET) or form (POST) parameters these modules read by name."""
    pattern = READS.get(method, READS["POST"])
    return {name for path in paths for name in pattern.findall(path.read_text(encoding="utf-8"))}


def _every_source() -> list[Path]:
    return [p for folder in ("host_flask", "plugins") for p in (ROOT / folder).rglob("*.py")]


def _module_of(view: object) -> list[Path]:
    source = inspect.getsourcefile(inspect.unwrap(view))  # type: ignore[arg-type]
    return [Path(source)] if source else []


def _crawl(app: Flask, client: FlaskClient, limit: int = 80) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(method, path, fields) of the role's pages reachable from the home page (two per
    endpoint at most) and of the forms they hold."""
    adapter = app.url_map.bind("localhost")
    per_endpoint: dict[str, int] = {}
    queue, seen = ["/"], set()
    found: list[tuple[str, str, dict[str, list[str]]]] = []
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        endpoint = _endpoint(adapter, url, "GET")
        if endpoint is None or endpoint in SKIPPED or endpoint.endswith("static"):
            continue
        if endpoint.split(".")[0] in SKIPPED_BLUEPRINTS or per_endpoint.get(endpoint, 0) >= 3:
            continue
        per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
        response = client.get(url)
        found.append(("GET", url, _grouped(url)))
        if response.status_code in (302, 303):
            queue.append(response.headers["Location"])
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = Forms()
        parser.feed(response.get_data(as_text=True))
        for action, method, fields in parser.forms:
            found.append((method, action or url, fields))
        queue.extend(link.split("#")[0] for link in parser.links)
    return found


def _endpoint(adapter: MapAdapter, url: str, method: str) -> str | None:
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method=method)
    except HTTPException:
        return None
    except RequestRedirect:
        return None
    return str(endpoint)


def _concrete(rule: Rule, value: str, text: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]  # type: ignore[attr-defined]
        kind = type(converter).__name__
        if kind == "AnyConverter":
            replacement = next(iter(converter.items))
        elif "Integer" in kind:
            replacement = value
        else:
            replacement = text
        path = re.sub(rf"<[^>]*\b{name}>", replacement, path)
    return path


def _requests(
    app: Flask, client: FlaskClient, rules: list[Rule]
) -> Iterator[tuple[str, str, dict[str, list[str]]]]:
    """(method, URL, fields) to send: each form and query with one hostile field, every
    parameter the code reads with each hostile value, and hostile identifiers in paths."""
    adapter = app.url_map.bind("localhost")
    known: dict[tuple[str, str], tuple[str, dict[str, list[str]]]] = {}
    for method, url, fields in _crawl(app, client):
        endpoint = _endpoint(adapter, url, method)
        richest = known.get((endpoint or "", method), ("", {}))[1]
        if endpoint is not None and (not richest or len(fields) > len(richest)):
            known[(endpoint, method)] = (urlsplit(url).path, fields)
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            every_name = _names_read(_every_source(), method)
            read_here = _names_read(_module_of(view), method)
            for value, text in zip(HOSTILE_IN_PATH, HOSTILE_TEXT_IN_PATH, strict=False):
                if rule.arguments:
                    yield method, _concrete(rule, value, text), {}
            path, fields = known.get((rule.endpoint, method), (_concrete(rule, "1", "x"), {}))
            fields = {k: v for k, v in fields.items() if k != "csrf_token"}
            yield method, path, fields
            for hostile in HOSTILE:
                yield method, path, {**fields, **{name: [hostile] for name in every_name}}
            for name in sorted(set(fields) | read_here):
                for hostile in HOSTILE:
                    yield method, path, {**fields, name: [hostile]}


def _grouped(url: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return grouped


def _fuzz(
    app: Flask, client: FlaskClient, rules: list[Rule], relogin: Callable[[], None], least: int
) -> list[str]:
    token = _token(client)
    failures = []
    sent = 0
    for method, path, fields in _requests(app, client, rules):
        if method == "GET":
            response = client.get(path, query_string=fields)
        else:
            response = client.open(path, method=method, data={**fields, "csrf_token": token})
        sent += 1
        described = f"{method} {path[:60]} {sorted((k, v[0][:12]) for k, v in fields.items())[:8]}"
        if response.status_code >= 500:
            failures.append(f"{described} → {response.status_code}")
        location = urlsplit(response.headers.get("Location", "")).path
        if response.status_code in (302, 401) and location == "/connexion":
            failures.append(f"{described} ended the session")
            relogin()
            token = _token(client)
    assert sent > least, "the walk found too little to prove anything"
    return failures


def _token(client: FlaskClient) -> str:
    """A valid CSRF token for this client's session (logged in or not)."""
    response = client.get("/mon-mot-de-passe")
    return csrf_token(client, "/mon-mot-de-passe" if response.status_code == 200 else "/connexion")


ROLES = {
    "parent": ("parent@example.org", "parent-demo-password"),
    "agent": ("agent@example.org", "agent-demo-password"),
}


def _rules(app: Flask, public: bool) -> list[Rule]:
    from host_flask.access import audience_of

    chosen = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint.endswith("static"):
            continue
        if rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
            continue
        is_public = audience_of(app.view_functions[rule.endpoint]) == "public"
        if is_public == public or (not public and rule.endpoint in LOGGED_IN_AUTH):
            chosen.append(rule)
    return chosen


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_hostile_values_in_every_web_route_give_no_server_error(
    demo: object, app: Flask, role: str
) -> None:
    client = app.test_client()

    def relogin() -> None:
        assert login(client, *ROLES[role]).status_code == 302

    relogin()
    failures = _fuzz(app, client, _rules(app, public=False), relogin, 1000)
    assert failures == [], "\n".join(failures[:40])


@pytest.mark.timeout(1200)
def test_hostile_values_in_every_public_route_give_no_server_error(
    demo: object, app: Flask
) -> None:
    """The public pages (login, reset, payment answers…) as an anonymous visitor; limits may
    answer 429, never 5xx."""
    client = app.test_client()
    failures = _fuzz(app, client, _rules(app, public=True), lambda: None, 150)
    server_errors = [f for f in failures if "ended the session" not in f]
    assert server_errors == [], "\n".join(server_errors[:40])
