"""Backups of the portal's database: ``famille backup`` and ``famille restore``
(docs/deployment.md, "Backups").

SQLite: SQLite's online backup API copies the database page by page while the portal keeps
running (readers and writers wait at most a step), to a file written under a temporary name and
renamed at the end, so a backup file is always whole. A restore copies a backup over the
instance's database the same way, then migrates it to the newest schema (a backup made by an
older version comes back up to date).

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, the tools of the server's own
distribution (their version must be the server's or newer). With them on ``PATH`` the commands
run them; without, they print the command line to run.

A restore refuses to overwrite a database that holds rows, unless forced: the usual restore goes
into an empty instance (a new SQLite file, a new PostgreSQL database, or one just made by
``famille init``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from attrs import frozen
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import make_url

from famille_core.errors import FamilleError
from famille_core.persistence.tables import metadata


class BackupError(FamilleError):
    """A backup or restore that cannot be done; the message says why, in French."""


@frozen
class ExternalCommand:
    """A command line of the database's own tools and the environment it needs (the password
    goes through ``PGPASSWORD``, never on the command line other users can read)."""

    argv: list[str]
    env: dict[str, str]

    @property
    def available(self) -> bool:
        """True when the tool is on ``PATH``."""
        return shutil.which(self.argv[0]) is not None

    def shown(self) -> str:
        """The command line as an operator would type it (without the password)."""
        prefix = "PGPASSWORD=… " if "PGPASSWORD" in self.env else ""
        return prefix + " ".join(self.argv)


def rows_in(engine: Engine) -> int:
    """How many rows the portal's tables hold (0 for a database without them)."""
    present = set(inspect(engine).get_table_names())
    total = 0
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in present:
                total += int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    return total


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("La base SQLite en mémoire ne se sauvegarde pas : indiquez un fichier.")
    return Path(database)


def backup_sqlite(engine: Engine, target: Path) -> None:
    """Copy the SQLite database of ``engine`` to ``target`` (online backup API)."""
    source_path = _sqlite_file(engine)
    if not source_path.exists():
        raise BackupError(f"Base de données introuvable : {source_path}")
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".famille-backup-", dir=target.parent)
    os.close(descriptor)
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        try:
            with contextlib.closing(sqlite3.connect(temporary)) as copy:
                source.backup(copy, pages=1024)
        finally:
            source.close()
        os.chmod(temporary, 0o600)  # the backup holds everything the database holds
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def restore_sqlite(backup: Path, engine: Engine, *, force: bool = False) -> None:
    """Copy the backup file ``backup`` over the SQLite database of ``engine``."""
    target_path = _sqlite_file(engine)
    if not backup.is_file():
        raise BackupError(f"Sauvegarde introuvable : {backup}")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source:
            names = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} n'est pas une sauvegarde SQLite lisible.") from exc
    if "alembic_version" not in names:
        raise BackupError(f"{backup} n'est pas une sauvegarde du portail (aucune migration).")
    _refuse_rows(engine, force)
    engine.dispose()  # no pooled connection keeps reading the old pages
    target_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source,
        contextlib.closing(sqlite3.connect(target_path)) as target,
    ):
        source.backup(target, pages=1024)


def _refuse_rows(engine: Engine, force: bool) -> None:
    if force:
        return
    count = rows_in(engine)
    if count:
        raise BackupError(
            f"La base de destination n'est pas vide ({count} ligne(s)) : la restauration "
            "l'écraserait. Restaurez dans une instance vide, ou ajoutez --force."
        )


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The libpq URI of ``engine`` without its password, and the environment carrying it."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = {"PGPASSWORD": url.password} if url.password else {}
    plain = url.set(drivername="postgresql", password=None, query={})
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(engine: Engine, target: Path) -> ExternalCommand:
    """``pg_dump`` of the database of ``engine`` into ``target`` (custom format)."""
    uri, env = _libpq(engine)
    argv = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", f"--dbname={uri}"]
    return ExternalCommand(argv, env)


def pg_restore_command(backup: Path, engine: Engine, *, clean: bool) -> ExternalCommand:
    """``pg_restore`` of ``backup`` into the database of ``engine`` (``clean``: drop the
    portal's tables first, for a database ``famille init`` created or a forced restore)."""
    uri, env = _libpq(engine)
    argv = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={uri}"]
    if clean:
        argv[1:1] = ["--clean", "--if-exists"]
    return ExternalCommand([*argv, str(backup)], env)


def prepare_pg_restore(backup: Path, engine: Engine, *, force: bool = False) -> ExternalCommand:
    """The ``pg_restore`` command for ``backup`` into ``engine``'s database, once checked that
    it holds no row (unless ``force``)."""
    if not backup.is_file():
        raise BackupError(f"Sauvegarde introuvable : {backup}")
    _refuse_rows(engine, force)
    return pg_restore_command(backup, engine, clean=bool(inspect(engine).get_table_names()))
