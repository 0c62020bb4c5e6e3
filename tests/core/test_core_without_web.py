"""The core is usable by an ERP that has neither Flask nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class Block(importlib.abc.MetaPathFinder):
        # Make flask and sqlalchemy impossible to import, as in an environment without them.
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in {"flask", "sqlalchemy", "alembic", "werkzeug", "jinja2"}:
                raise ImportError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, Block())

    import famille_core
    from famille_core import build_portal, settings_from_mapping
    from famille_core.entities import Child, Reservation
    from famille_core.services import accounts, access, audit, passwords

    settings = settings_from_mapping({"portal": {"plugins": ["profile", "inbox", "calendar", "tipi_payment"]}})
    # Every bundled plugin loads without Flask: their web parts are imported lazily.
    portal = build_portal(settings, uow_factory=lambda: None)
    reasons = [r for rs in portal.hook.absence_reasons(portal=portal, child=None, activity=None) for r in rs]
    assert len(reasons) == 9, reasons
    assert "flask" not in sys.modules and "sqlalchemy" not in sys.modules
    print("ok", len(reasons))
    """
)


def test_import_famille_core_without_flask_and_sqlalchemy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 9"
