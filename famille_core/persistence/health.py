"""The portal's health, as ``GET /sante`` reports it to load balancers and monitoring
(docs/deployment.md, "Monitoring").

Three kinds of checks, in this order: the database answers (``database``), its schema is at the
newest migration this code ships (``migrations``: a host started with new code before
``famille init`` ran would fail every other request), and whatever the enabled plugins add through
the ``health_checks`` hook (the task queue…). A check that fails is named; why it failed is logged
by its exception type only, never its message, so nothing personal reaches the page or the log.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping

from attrs import frozen
from sqlalchemy import Engine, text

from famille_core.hooks.results import HealthCheck
from famille_core.portal import Portal

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "error"
SKIPPED = "skipped"
"""Not run: a check it depends on failed (no migration check without a database)."""


@frozen
class HealthReport:
    """Each check by name, with ``"ok"``, ``"error"`` or ``"skipped"``."""

    checks: Mapping[str, str]

    @property
    def healthy(self) -> bool:
        """True when every check passed."""
        return all(state == OK for state in self.checks.values())

    @property
    def failing(self) -> list[str]:
        """The checks that failed, in order."""
        return [name for name, state in self.checks.items() if state == FAILED]


@functools.cache
def shipped_heads() -> frozenset[str]:
    """The newest migrations of this code (read once per process: code does not change)."""
    from alembic.script import ScriptDirectory

    from famille_core.persistence import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def database_heads(engine: Engine) -> frozenset[str]:
    """The migrations the database says it is at (Alembic's ``alembic_version`` table, read
    directly: Alembic's migration context would log two lines at each call of the page)."""
    with engine.connect() as connection:
        return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _run(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # any failure is the check's answer, not the page's
        log.warning("health check failed: %s (%s)", name, type(exc).__name__)
        return FAILED
    return OK


def check_health(portal: Portal) -> HealthReport:
    """Run every check of ``portal`` (stored in SQL: ``portal.storage`` is its engine)."""
    engine: Engine = portal.storage
    checks: dict[str, str] = {}

    def database() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def migrations() -> None:
        if database_heads(engine) != shipped_heads():
            raise LookupError("the database is not at the newest migration")

    checks["database"] = _run("database", database)
    checks["migrations"] = _run("migrations", migrations) if checks["database"] == OK else SKIPPED
    extra: list[HealthCheck] = [
        check for found in portal.hook.health_checks(portal=portal) for check in found
    ]
    for check in extra:
        if check.name in checks:
            raise RuntimeError(f"two health checks are named {check.name!r}")
        checks[check.name] = _run(check.name, check.run)
    return HealthReport(checks)
