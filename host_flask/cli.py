"""The ``famille`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from famille_core import ConfigurationError, Portal, load_settings
from famille_core.errors import ValidationFailed
from famille_core.plugins import make_plugin_manager, plugin_version
from famille_core.settings import Settings


def instance_path() -> Path:
    """The instance folder (``FAMILLE_INSTANCE``, default ``./instance``)."""
    return Path(os.environ.get("FAMILLE_INSTANCE", "instance")).resolve()


def current_settings() -> Settings:
    """Settings from ``FAMILLE_CONFIG`` or ``instance/famille.toml`` (defaults when absent)."""
    path = os.environ.get("FAMILLE_CONFIG") or instance_path() / "famille.toml"
    return load_settings(path if Path(path).exists() else None)


def current_portal() -> Portal:
    """The portal of the configured database."""
    from famille_core.persistence import build_sql_portal, database_url

    settings = current_settings()
    return build_sql_portal(
        settings, database_url(settings, instance_path()), instance_path=instance_path()
    )


@click.group(help="Portail Famille : administration du portail.")
def cli() -> None:
    """The command group plugins extend through ``register_commands``."""


@cli.command("init", help="Crée ou met à jour la base de données (migrations Alembic).")
def init_command() -> None:
    from famille_core.persistence import database_url, upgrade_database

    settings = current_settings()
    url = database_url(settings, instance_path())
    upgrade_database(url)
    click.echo("Base de données à jour.")


@cli.command("demo", help="Ajoute la collectivité et les familles de démonstration.")
def demo_command() -> None:
    from famille_core.demo import populate

    portal = current_portal()
    with portal.unit_of_work() as uow:
        logins = populate(portal, uow)
        uow.commit()
    click.echo("Données de démonstration prêtes. Identifiants :")
    for login in logins:
        click.echo(f"  {login.email:<26} {login.password:<26} {login.who}")


@cli.command("serve", help="Sert le portail (développement et démonstration).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from host_flask import create_app

    app = create_app()
    click.echo(f"Portail Famille sur http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@cli.command("plugins", help="Liste les plugins chargés, leur version et leurs hooks.")
def plugins_command() -> None:
    pm = make_plugin_manager(current_settings().portal.plugins)
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        click.echo(f"{name} {plugin_version(plugin)}")
        click.echo(f"    hooks : {', '.join(hooks) or '-'}")


@cli.command("create-user", help="Crée un compte (parent ou agent).")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["parent", "agent", "admin"]), required=True)
@click.option("--name", "display_name", required=True, help="Nom affiché.")
@click.option("--family-number", default=None, help="Famille n° (comptes parents).")
@click.option("--service", default=None, help="Service de l'agent (ENFANCE, SCOLAIRE…).")
@click.password_option("--password", prompt="Mot de passe")
def create_user_command(
    email: str,
    role: str,
    display_name: str,
    family_number: str | None,
    service: str | None,
    password: str,
) -> None:
    from famille_core.entities import Family, Role
    from famille_core.services.accounts import create_user

    portal = current_portal()
    with portal.unit_of_work() as uow:
        family_id = None
        if family_number:
            family = uow.first(Family, family_number=family_number)
            if family is None:
                raise click.ClickException(f"Famille n° {family_number} introuvable.")
            family_id = family.id
        try:
            create_user(
                portal,
                uow,
                email=email,
                password=password,
                role=Role(role),
                display_name=display_name,
                family_id=family_id,
                service=service,
            )
        except ValidationFailed as exc:
            raise click.ClickException(" ".join(i.message for i in exc.issues)) from exc
        uow.commit()
    click.echo(f"Compte créé : {email}")


def build_cli() -> click.Group:
    """The command group with the enabled plugins' commands."""
    group: click.Group = click.Group(name="famille", help=cli.help, commands=dict(cli.commands))
    pm = make_plugin_manager(current_settings().portal.plugins)
    pm.hook.register_commands(cli=group)
    return group


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``famille`` console script."""
    try:
        group = build_cli()
    except ConfigurationError as exc:
        click.echo(f"Erreur : {exc.message}", err=True)
        sys.exit(2)
    try:
        return group.main(args=argv, prog_name="famille", standalone_mode=True)
    except ConfigurationError as exc:
        click.echo(f"Erreur : {exc.message}", err=True)
        sys.exit(2)
