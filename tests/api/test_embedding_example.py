"""The embedding example of docs/embedding.md runs against its own database."""

from __future__ import annotations

import importlib.util
import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from famille_core.persistence import make_engine

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "erp_embedding.py"


@pytest.fixture
def own_database(tmp_path: Path) -> str:
    """A database of the example's own: a fresh SQLite file, or a fresh PostgreSQL schema."""
    url = os.environ.get("FAMILLE_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'erp.sqlite'}"
    # Same server, another database, so the suite's own schema is untouched.
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS famille_embedding_example"))
        connection.execute(text("CREATE DATABASE famille_embedding_example"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/famille_embedding_example"


def test_embedding_example_runs(own_database: str) -> None:
    spec = importlib.util.spec_from_file_location("erp_embedding", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    observed = module.main(own_database)
    assert observed["invoice_total"] == Decimal("70.55")
    assert observed["invoice_outcome"] == "created"
    assert observed["event_kinds"][:3] == ["profile.created", "profile.created", "profile.created"]
    assert {"calendar", "inbox", "PushToErp"} <= set(observed["plugins"])
