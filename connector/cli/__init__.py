"""The ``cti`` command: run, administer and inspect a deployment.

Every command reads the same configuration as the server (``--config`` / ``CTI_CONFIG`` /
``config/cti.toml`` / built-in defaults). A configuration error prints each wrong key and exits
with status 2; so does a database whose schema is missing or older than the code (every command
that uses the app checks it before it runs: :attr:`CliContext.app`). Messages for people follow
``--lang``, else ``[cli] language``, else Japanese (``connector.messages``).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask

from ..config import ConfigError, Settings, load_settings
from ..messages import LANGUAGES, Text


class CliContext:
    """Lazily loads settings and builds the app once per command."""

    def __init__(self, config_path: str | None, language: str | None = None) -> None:
        self.config_path = config_path
        self.chosen_language = language  # --lang, which beats [cli] language
        self._settings: Settings | None = None
        self._app: Flask | None = None
        self._schema_checked = False

    @property
    def language(self) -> str:
        return self.chosen_language or self.settings.cli.language

    def text(self, message: Text) -> str:
        """``message`` in the command's language."""
        return message.get(self.language)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail_config(exc)
        assert self._settings is not None
        return self._settings

    def override_server(self, host: str | None, port: int | None) -> None:
        """Apply ``--host``/``--port`` before the app is built."""
        import dataclasses

        settings = self.settings
        server = settings.server.with_address(host, port)
        self._settings = dataclasses.replace(settings, server=server)

    @property
    def app(self) -> Flask:
        """The app, on a database whose schema this code can use (else exit status 2)."""
        app = self.unchecked_app
        if not self._schema_checked:
            from .. import db

            try:
                db.require_schema(db.get_engine(app))
            except db.SchemaNotReady as exc:
                click.echo(f"cti: {self.text(exc.text)}", err=True)
                sys.exit(2)
            self._schema_checked = True
        return app

    @property
    def unchecked_app(self) -> Flask:
        """The app, whatever the state of the schema: for commands that create or upgrade it."""
        if self._app is None:
            from .. import create_app

            try:
                self._app = create_app(self.settings)
            except ConfigError as exc:
                fail_config(exc)
        assert self._app is not None
        return self._app


def fail_config(exc: ConfigError) -> None:
    click.echo(f"cti: {exc}", err=True)
    sys.exit(2)


def fail(message: str, problems: dict[str, str] | None = None) -> None:
    """Refuse a command: the message and each field's problem on stderr, exit status 1."""
    click.echo(f"cti: {message}", err=True)
    for name, problem in (problems or {}).items():
        click.echo(f"  - {name}: {problem}", err=True)
    sys.exit(1)


pass_ctx = click.make_pass_decorator(CliContext)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="CTI_CONFIG", metavar="PATH",
              help="Configuration file (default: $CTI_CONFIG, else config/cti.toml, "
                   "else built-in defaults).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default=None,
              help="Language of messages: ja or en (default: [cli] language, else ja).")
@click.version_option(package_name="cti-connector", prog_name="cti")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, language: str | None) -> None:
    """cti-connector: Twilio softphone and call flows for Salesforce, kintone and more."""
    if not isinstance(ctx.obj, CliContext):  # tests may hand in a context with a built app
        ctx.obj = CliContext(config_path, language)
    elif language:
        ctx.obj.chosen_language = language


def _register() -> None:
    from . import (
        builtin_crm_cmd,
        config_cmd,
        crm_cmd,
        db_cmd,
        flow_cmd,
        group_cmd,
        integrations,
        numbers_cmd,
        serve,
        simulate,
        users,
    )

    cli.add_command(serve.serve)
    cli.add_command(serve.worker)
    cli.add_command(db_cmd.db_group)
    cli.add_command(users.user)
    cli.add_command(config_cmd.config)
    cli.add_command(crm_cmd.sync_command)
    cli.add_command(crm_cmd.jobs)
    cli.add_command(crm_cmd.doctor)
    cli.add_command(builtin_crm_cmd.crm)
    cli.add_command(integrations.callcenter_xml)
    cli.add_command(integrations.kintone_plugin)
    users.user.add_command(integrations.crm_user)
    cli.add_command(numbers_cmd.number)
    cli.add_command(group_cmd.group)
    cli.add_command(numbers_cmd.number_list_group)
    cli.add_command(simulate.simulate)
    cli.add_command(flow_cmd.flow)


_register()


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="cti")
