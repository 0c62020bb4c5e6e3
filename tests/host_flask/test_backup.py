"""``famille backup`` then ``famille restore`` into an empty instance gives the same rows
(issue 14; docs/deployment.md "Backups"), run as an operator would: the command line in
instance folders of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from famille_core import Portal
from famille_core.persistence import make_engine
from famille_core.persistence.tables import metadata
from host_flask.cli import build_cli


@attrs.frozen
class Done:
    returncode: int
    stdout: str
    stderr: str


def famille(instance: Path, *args: str, url: str = "") -> Done:
    """The ``famille`` command in the instance folder ``instance`` (in this process, as the
    console script runs it: its environment, its exit code, its outputs)."""
    env = {"FAMILLE_INSTANCE": str(instance), "FAMILLE_DATABASE_URL": url or None}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        result = CliRunner().invoke(build_cli(), list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def every_row(engine: Engine) -> dict[str, list[Any]]:
    """Every table's rows, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in metadata.sorted_tables
        }


def test_backup_then_restore_into_an_empty_instance_gives_the_same_rows(tmp_path: Path) -> None:
    town, spare = tmp_path / "town", tmp_path / "spare"
    for step in (("init",), ("demo",)):
        assert famille(town, *step).returncode == 0
    backup = tmp_path / "saves" / "famille.sqlite"
    done = famille(town, "backup", str(backup))
    assert done.returncode == 0, done.stderr
    assert backup.stat().st_mode & 0o077 == 0  # readable by its owner only
    stray = tmp_path / "notes.txt"
    stray.write_text("pas une base", encoding="utf-8")
    done = famille(spare, "restore", str(stray))
    assert done.returncode != 0 and "n'est pas une sauvegarde" in done.stderr
    assert famille(spare, "restore", str(tmp_path / "absent.sqlite")).returncode != 0
    assert famille(spare, "init").returncode == 0  # an empty instance
    done = famille(spare, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    original = make_engine(f"sqlite:///{town / 'famille.sqlite'}")
    restored = make_engine(f"sqlite:///{spare / 'famille.sqlite'}")
    rows = every_row(original)
    assert sum(len(table) for table in rows.values()) > 50  # the demo, really
    assert every_row(restored) == rows
    # A second restore would overwrite data: refused unless forced.
    with restored.begin() as connection:
        connection.execute(text("DELETE FROM reservation"))
    done = famille(spare, "restore", str(backup))
    assert done.returncode != 0 and "n'est pas vide" in done.stderr
    assert every_row(restored)["reservation"] == []
    assert famille(spare, "restore", "--force", str(backup)).returncode == 0
    assert every_row(restored) == rows
    original.dispose()
    restored.dispose()


@pytest.mark.postgres
def test_pg_dump_then_pg_restore_into_a_new_database_gives_the_same_rows(
    demo: Portal, database_url: str, tmp_path: Path
) -> None:
    source = demo.storage
    spare_name = f"{make_url(database_url).database}_restore"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{spare_name}"'))
        connection.execute(text(f'CREATE DATABASE "{spare_name}"'))
    spare_url = make_url(database_url).set(database=spare_name).render_as_string(False)
    spare = make_engine(spare_url)
    try:
        backup = tmp_path / "famille.dump"
        done = famille(tmp_path / "instance", "backup", str(backup), url=database_url)
        assert done.returncode == 0, done.stdout + done.stderr
        done = famille(tmp_path / "instance", "restore", str(backup), url=spare_url)
        assert done.returncode == 0, done.stdout + done.stderr
        rows = every_row(source)
        assert rows["family"] and every_row(spare) == rows
        done = famille(tmp_path / "instance", "restore", str(backup), url=spare_url)
        assert done.returncode != 0 and "n'est pas vide" in done.stderr
    finally:
        spare.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{spare_name}"'))
        admin.dispose()
