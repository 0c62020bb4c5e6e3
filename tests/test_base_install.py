"""The base install is honest: ``pip install portail-famille`` (no extra: no Flask, no
SQLAlchemy) carries everything the core and the bundled plugins' modules without web need.

The distribution is built and installed, with only its base dependencies, into a fresh
virtualenv; a script there imports every module of the core (but the SQL storage) and every
module without web of every bundled plugin (the import contract's definition), then builds a
portal with every bundled plugin enabled through their entry points and calls one hook of each
that reaches into its services. An ERP embedding the core meets exactly this environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_import_contract import DEV_TOOLS, ROOT, is_web, project_modules

PROBES = {
    # plugin → a hook call that imports the plugin's services (run in the fresh virtualenv)
    "calendar": "portal.hook.reservation_deadline(portal=portal, activity=activity, day=day)",
    "inbox": "portal.hook.route_message(portal=portal, thread=thread, message=message)",
    "profile": "portal.hook.domain_event_policies(portal=portal)",
    "billing": "[kind.name for kinds in portal.hook.export_kinds(portal=portal) for kind in kinds]",
    "tipi_payment": "portal.hook.payment_response(portal=portal, transaction=transaction, data={})",
}
"""One hook of each bundled plugin; a bundled plugin without one fails the test."""

WEB_ONLY = ("flask", "flask_babel", "flask_wtf", "werkzeug", "jinja2", "sqlalchemy", "alembic")

SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.util
    import json
    import sys
    from datetime import date, datetime
    from decimal import Decimal

    from famille_core import build_portal, settings_from_mapping
    from famille_core.clock import PARIS
    from famille_core.entities import Activity, Message, PaymentTransaction, Thread
    from famille_core.plugins import installed_plugins

    given = json.loads(sys.argv[1])
    present = [name for name in given["web_only"] if importlib.util.find_spec(name) is not None]
    assert not present, f"the base install carries {present}"
    for module in given["modules"]:
        importlib.import_module(module)
    bundled = sorted(name for name, ep in installed_plugins().items()
                     if ep.value.startswith("famille_plugins."))
    settings = settings_from_mapping({"portal": {"plugins": bundled}})
    portal = build_portal(settings, uow_factory=lambda: None)
    activity = Activity(id=1, code="CANTINE", label="Cantine")
    day = date(2026, 11, 19)
    now = datetime(2026, 11, 16, 9, tzinfo=PARIS)
    thread = Thread(family_id=1, subject="Inscription cantine", service="ENFANCE",
                    created_at=now, updated_at=now)
    message = Message(thread_id=1, family_id=1, direction="in", author_label="Marie DUPONT",
                      subject="Inscription cantine", body="Bonjour", created_at=now)
    transaction = PaymentTransaction(invoice_id=1, family_id=1, provider="autre",
                                     amount=Decimal("4.15"), created_at=now, updated_at=now)
    answers = {name: repr(eval(given["probes"][name])) for name in bundled}
    for name in ("flask", "sqlalchemy"):
        assert name not in sys.modules, name
    print(json.dumps({"plugins": bundled, "answers": answers}))
    """
)


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the distribution and its base dependencies only."""
    folder = tmp_path_factory.mktemp("base-install")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--wheel-dir", str(folder / "wheels"), str(ROOT)],
        check=True, capture_output=True, env=env, timeout=300,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    python = folder / "venv" / "bin" / "python"
    (wheel,) = (folder / "wheels").glob("portail_famille-*.whl")
    subprocess.run(
        [*pip, "--python", str(python), "install", str(wheel)],
        check=True, capture_output=True, env=env, timeout=600,
    )  # fmt: skip
    return python


def modules_without_web() -> list[str]:
    """The core's modules (but the SQL storage) and the bundled plugins' modules without web."""

    def wanted(name: str) -> bool:
        if name.startswith("famille_core"):
            return not name.startswith("famille_core.persistence")
        return name.startswith("famille_plugins.") and not is_web(name) and name not in DEV_TOOLS

    return [name for name in sorted(project_modules()) if wanted(name)]


def test_the_base_install_loads_every_plugin_and_runs_a_hook_of_each(fresh_python: Path) -> None:
    given = {"modules": modules_without_web(), "probes": PROBES, "web_only": WEB_ONLY}
    assert "famille_plugins.calendar.services.deadlines" in given["modules"]
    result = subprocess.run(
        [str(fresh_python), "-c", SCRIPT, json.dumps(given)],
        capture_output=True, text=True, timeout=300, cwd="/", check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert set(seen["plugins"]) == set(PROBES), "give each bundled plugin a probe"
    assert seen["answers"]["calendar"].startswith("datetime.datetime(2026, 11, 17, 10, 0")
    assert seen["answers"]["tipi_payment"] == "None"  # not its transaction
    assert "'payments'" in seen["answers"]["billing"]

