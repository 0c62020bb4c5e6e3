"""A web worker loads only what pages need, and the command line no web at all
(docs/deployment.md, "Memory of a worker").

A gunicorn worker that has served the families' pages has not loaded the PDF engine
(WeasyPrint), the PDF checker (pypdf), Pillow, icalendar, the QR code maker, python-stdnum or
the ``holidays`` package (its tables come from a process of its own): each other is loaded by the first request that
needs it (an invoice's PDF, an upload, a calendar subscription, a second factor, an IBAN), so
that memory per worker stays low. Checked in a process of its own, as a worker starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NOT_FOR_PAGES = (
    "weasyprint",
    "pypdf",
    "PIL.Image",
    "icalendar",
    "segno",
    "stdnum.iban",
    "holidays",
)
"""Modules that no page of the measured round needs (the ``holidays`` package computes the
Agenda's holidays in a process of its own: ``plugins/calendar/services/holiday_tables.py``)."""

DEMO = """
import sys
from famille_core.persistence import upgrade_database
upgrade_database(sys.argv[1])
from famille_core.demo import populate
from host_flask.instance import current_portal
portal = current_portal()
with portal.unit_of_work() as uow:
    populate(portal, uow)
    uow.commit()
"""
"""The demo data, in a process of its own (it makes pictures with Pillow)."""

SCRIPT = """
import json, re, sys
import babel.localedata
from host_flask import create_app
app = create_app()
client = app.test_client()
page = client.get("/connexion").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
form = {"email": "parent@example.org", "password": "parent-demo-password", "csrf_token": token}
assert client.post("/connexion", data=form).status_code == 302
statuses = {path: client.get(path).status_code for path in ("/", "/agenda/", "/factures/", "/messages/", "/compte/")}
from famille_plugins.calendar.services import calendar_days
holidays_known = len(calendar_days._public) + len(calendar_days._school)
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules), "locales": sorted(babel.localedata._cache), "holidays_known": holidays_known}))
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo parent's five pages served in a fresh process: statuses, modules, locales."""
    tmp_path = tmp_path_factory.mktemp("worker")
    env = {**os.environ, "FAMILLE_INSTANCE": str(tmp_path), "FAMILLE_DATABASE_URL": ""}
    env.pop("FAMILLE_CONFIG", None)
    url = f"sqlite:///{tmp_path / 'famille.sqlite'}"
    for script in (DEMO, SCRIPT):
        done = subprocess.run(
            [sys.executable, "-c", script, url],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(seen["statuses"].values()) == {200}, seen["statuses"]
    return seen


def test_pages_do_not_load_the_pdf_image_calendar_and_qr_libraries(served: dict[str, Any]) -> None:
    modules = set(served["modules"])
    assert "famille_plugins.calendar.web" in modules  # the pages were really served
    assert served["holidays_known"] > 0  # the agenda asked for the holidays
    assert modules.isdisjoint(NOT_FOR_PAGES), sorted(modules & set(NOT_FOR_PAGES))


def test_pages_do_not_load_babels_locale_data(served: dict[str, Any]) -> None:
    """French dates and sizes are written without Babel's CLDR data (``famille_core/french.py``):
    about 5 MB less in each worker."""
    assert served["locales"] == []


def test_the_command_line_starts_without_the_web_application(tmp_path: Path) -> None:
    """``famille import`` (or backup, worker…) lists every command, the plugins' included,
    without importing Flask and the pages: a 10,000-household import starts in a fraction of
    the time."""
    env = {**os.environ, "FAMILLE_INSTANCE": str(tmp_path), "FAMILLE_DATABASE_URL": ""}
    env.pop("FAMILLE_CONFIG", None)
    script = (
        "import sys\n"
        "from host_flask.cli import build_cli\n"
        "commands = build_cli().commands\n"
        "print('import' in commands, 'reconcile-payments' in commands, 'flask' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]
