"""``register_commands(cli, portal_factory)``: plugins add commands to ``famille``; a command
builds its portal only when it runs, and implementations written before ``portal_factory``
existed keep working."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from famille_core import Portal, hookimpl
from famille_core.plugins import make_plugin_manager

HOOK = "register_commands"


class NewStyle:
    """Takes the portal factory and calls it when its command runs."""

    @hookimpl
    def register_commands(self, cli: click.Group, portal_factory: Any) -> None:
        @cli.command("nouveau")
        def nouveau() -> None:
            click.echo(f"portail : {portal_factory().settings.collectivity.name}")


class OldStyle:
    """Written before the portal factory existed: names ``cli`` only."""

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("ancien")
        def ancien() -> None:
            click.echo("ancien style")


def test_register_commands_old_and_new_implementations_both_add_their_commands(
    portal: Portal,
) -> None:
    built: list[Portal] = []

    def factory() -> Portal:
        built.append(portal)
        return portal

    group = click.Group("famille")
    pm = make_plugin_manager([], extra=[NewStyle(), OldStyle()])
    pm.hook.register_commands(cli=group, portal_factory=factory)
    assert set(group.commands) == {"nouveau", "ancien"}
    assert built == []  # registering opened no portal
    runner = CliRunner()
    assert runner.invoke(group, ["ancien"]).output == "ancien style\n"
    assert built == []
    result = runner.invoke(group, ["nouveau"])
    assert result.output == "portail : Commune d'Harmonie\n", result.output
    assert built == [portal]


def test_register_commands_receives_the_command_lines_portal_factory(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from host_flask import cli, instance

    real = cli.make_plugin_manager
    monkeypatch.setattr(cli, "make_plugin_manager", lambda _enabled: real([], extra=[NewStyle()]))
    group = cli.build_cli()
    assert "nouveau" in group.commands and "init" in group.commands

    seen: list[object] = []

    class Spy:
        @hookimpl
        def register_commands(self, cli: click.Group, portal_factory: Any) -> None:
            seen.append(portal_factory)

    monkeypatch.setattr(cli, "make_plugin_manager", lambda _enabled: real([], extra=[Spy()]))
    cli.build_cli()
    assert seen == [instance.current_portal]
