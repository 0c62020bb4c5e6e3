"""The ``famille`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from famille_core import ConfigurationError
from famille_core.errors import ValidationFailed
from famille_core.plugins import make_plugin_manager, plugin_version
from host_flask import account_commands, backup_commands, mail_commands, worker_commands
from host_flask.instance import config_path, current_portal, current_settings, instance_path


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

    config = config_path()
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            (Path(__file__).parent / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
        click.echo(f"Configuration de démonstration écrite dans {config}")
    portal = current_portal()
    with portal.unit_of_work() as uow:
        logins = populate(portal, uow)
        uow.commit()
    click.echo("Données de démonstration prêtes. Identifiants :")
    for login in logins:
        click.echo(f"  {login.email:<26} {login.password:<26} {login.who}")


@cli.command(
    "serve",
    help="Sert le portail : serveur de développement, ou gunicorn avec --production "
    "(réglages [server] ; docs/deployment.md).",
)
@click.option("--host", default=None, help="Adresse d'écoute (127.0.0.1 par défaut).")
@click.option("--port", default=None, type=int, help="Port (5000 ; 8000 avec --production).")
@click.option(
    "--production",
    is_flag=True,
    help="gunicorn avec plusieurs processus, journal d'accès sans secrets, redémarrage en "
    "douceur par SIGHUP.",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Processus de gunicorn (remplace [server] workers ; avec --production).",
)
def serve_command(host: str | None, port: int | None, production: bool, workers: int | None) -> None:
    from host_flask import logs

    if production:
        from host_flask import production as server

        bind = None
        if host is not None or port is not None:
            bind = [f"{host or '127.0.0.1'}:{port or 8000}"]
        click.echo("Portail Famille (gunicorn) : arrêt par Ctrl+C ou SIGTERM, rechargement par SIGHUP.")
        server.serve(current_settings, {"bind": bind, "workers": workers})
        return
    from werkzeug.serving import run_simple

    from host_flask import create_app

    host, port = host or "127.0.0.1", port or 5000
    logs.configure(current_settings())
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


@cli.command(
    "import", help="Importe des familles, enfants, inscriptions ou factures (CSV ou JSON)."
)
@click.argument("kind", type=click.Choice(["families", "children", "enrolments", "invoices"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Valide sans rien écrire et affiche le rapport.")
@click.option(
    "--background",
    is_flag=True,
    help="Confie l'import au travailleur (famille worker) et affiche le numéro de la tâche ; "
    "« famille jobs result N » affiche ensuite son rapport.",
)
def import_command(kind: str, path: Path, dry_run: bool, background: bool) -> None:
    from famille_core.services.imports import import_batches, read_rows

    portal = current_portal()
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    text = path.read_text(encoding="utf-8-sig")
    try:
        rows = read_rows(kind, text, fmt)
    except (ValueError, ValidationFailed) as exc:
        raise click.ClickException(f"Fichier illisible : {exc}") from exc
    if background:
        from famille_core.jobs import enqueue

        job_id = enqueue(portal, "imports.run", kind=kind, text=text, fmt=fmt, dry_run=dry_run)
        click.echo(
            f"Import de {len(rows)} ligne(s) confié au travailleur : tâche n° {job_id}. "
            f"Rapport : famille jobs result {job_id}"
        )
        return
    with click.progressbar(length=len(rows), label=f"Import {kind}", file=sys.stderr) as bar:
        report = import_batches(portal, kind, rows, dry_run=dry_run, progress=bar.update)
    sys.exit(worker_commands.print_import_report(report))


@cli.command(
    "purge",
    help="Supprime les données de santé et les photos des enfants dont les inscriptions sont "
    "terminées depuis plus de [portal] health_data_retention_days jours.",
)
@click.option("--dry-run", is_flag=True, help="Affiche ce qui serait supprimé sans rien supprimer.")
def purge_command(dry_run: bool) -> None:
    from famille_core.clock import today_in_paris
    from famille_core.services.retention import purge

    portal = current_portal()
    with portal.unit_of_work() as uow:
        report = purge(portal, uow, today_in_paris(portal.clock), dry_run=dry_run)
        if not dry_run:
            uow.commit()
    prefix = "Simulation (rien n'a été supprimé)" if dry_run else "Purge terminée"
    click.echo(
        f"{prefix} : {len(report.children)} enfant(s), {report.health_records} fiche(s) "
        f"sanitaire(s), {report.photos} photo(s), {report.event_values} événement(s) du flux "
        "dont les valeurs sont effacées."
    )


@cli.command(
    "export",
    help="Exporte pour l'ERP ce que les familles ont fait pendant une période. KIND : "
    "reservations, absences, payments… selon les plugins activés.",
)
@click.argument("kind")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
def export_command(kind: str, start: Any, end: Any, fmt: str) -> None:
    from famille_core.services.imports import export_kinds_of, write_export

    portal = current_portal()
    kinds = export_kinds_of(portal)
    if kind not in kinds:
        known = ", ".join(sorted(kinds)) or "aucun"
        raise click.BadParameter(f"« {kind} » inconnu (exports : {known}).", param_hint="KIND")
    with portal.unit_of_work() as uow:
        rows = kinds[kind].rows(uow, start.date(), end.date())
        click.echo(write_export(rows, fmt), nl=False)


@cli.group("api-client", help="Clients de l'API JSON (ERP).")
def api_client_group() -> None:
    """Create and revoke machine clients."""


@api_client_group.command("create", help="Crée un client et affiche son jeton (une seule fois).")
@click.argument("name")
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="Périmètre, p. ex. families:read."
)
def api_client_create(name: str, scopes: tuple[str, ...]) -> None:
    from famille_core.services.api_clients import create_client

    portal = current_portal()
    with portal.unit_of_work() as uow:
        try:
            _client, token = create_client(portal, uow, name, scopes)
        except ValidationFailed as exc:
            raise click.ClickException(" ".join(i.message for i in exc.issues)) from exc
        uow.commit()
    click.echo(f"Client « {name} » créé. Jeton (à conserver, il ne sera plus affiché) :")
    click.echo(token)


@api_client_group.command("revoke", help="Révoque un client : son jeton cesse de fonctionner.")
@click.argument("name")
def api_client_revoke(name: str) -> None:
    from famille_core.errors import NotFound
    from famille_core.services.api_clients import revoke_client

    portal = current_portal()
    with portal.unit_of_work() as uow:
        try:
            revoke_client(portal, uow, name)
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        uow.commit()
    click.echo(f"Client « {name} » révoqué.")


cli.add_command(account_commands.invite_command)
cli.add_command(mail_commands.send_mail_command)
cli.add_command(mail_commands.mail_status_command)
cli.add_command(backup_commands.backup_command)
cli.add_command(backup_commands.restore_command)
cli.add_command(worker_commands.worker_command)
cli.add_command(worker_commands.jobs_group)


def build_cli() -> click.Group:
    """The command group with the enabled plugins' commands.

    Each plugin's ``register_commands`` receives the group and :func:`current_portal`, the
    factory its commands call when they run (so listing the commands opens no database).
    """
    group: click.Group = click.Group(name="famille", help=cli.help, commands=dict(cli.commands))
    pm = make_plugin_manager(current_settings().portal.plugins)
    pm.hook.register_commands(cli=group, portal_factory=current_portal)
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
