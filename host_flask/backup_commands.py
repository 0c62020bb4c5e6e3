"""``famille backup`` and ``famille restore``: the database to a file and back
(docs/deployment.md, "Backups"; famille_core/persistence/backup.py says how)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine

from host_flask.instance import current_settings, instance_path

if TYPE_CHECKING:
    from famille_core.persistence.backup import ExternalCommand


def _engine() -> Engine:
    from famille_core.persistence import database_url, make_engine

    return make_engine(database_url(current_settings(), instance_path()))


def _run(command: ExternalCommand) -> None:
    if not command.available:
        click.echo(
            f"{command.argv[0]} est introuvable sur cette machine : lancez vous-même "
            "(avec le mot de passe dans PGPASSWORD s'il en faut un) :"
        )
        click.echo(f"  {command.shown()}")
        raise SystemExit(3)
    # The argv is built by famille_core.persistence.backup from the configured URL, no shell.
    done = subprocess.run(command.argv, env={**os.environ, **command.env}, check=False)  # noqa: S603
    if done.returncode != 0:
        raise click.ClickException(f"{command.argv[0]} a échoué (code {done.returncode}).")


@click.command(
    "backup",
    help="Sauvegarde la base de données dans le fichier PATH : copie à chaud pour SQLite, "
    "pg_dump (format custom) pour PostgreSQL. Le dossier des fichiers déposés (uploads) se "
    "sauvegarde à part.",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    from famille_core.persistence.backup import BackupError, backup_sqlite, pg_dump_command

    engine = _engine()
    try:
        if engine.dialect.name == "sqlite":
            backup_sqlite(engine, path)
        else:
            _run(pg_dump_command(engine, path))
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.dispose()
    click.echo(f"Sauvegarde écrite dans {path}")


@click.command(
    "restore",
    help="Restaure la sauvegarde PATH dans la base de l'instance, puis la met à jour "
    "(migrations). Refuse d'écraser une base qui contient des données, sauf --force.",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Écrase une base qui contient déjà des données.")
def restore_command(path: Path, force: bool) -> None:
    from famille_core.persistence import upgrade_database
    from famille_core.persistence.backup import BackupError, prepare_pg_restore, restore_sqlite

    engine = _engine()
    url = engine.url.render_as_string(hide_password=False)
    try:
        if engine.dialect.name == "sqlite":
            restore_sqlite(path, engine, force=force)
        else:
            _run(prepare_pg_restore(path, engine, force=force))
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.dispose()
    upgrade_database(url)
    click.echo(f"Sauvegarde {path} restaurée ; base de données à jour.")
