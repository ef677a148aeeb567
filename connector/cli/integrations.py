"""CRM integration helpers: the Salesforce call-center file, the kintone plugin, CRM users."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import click
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import callcenter, db
from .. import kintone_plugin as plugin
from ..auth import accounts
from ..schema import agent_crm_users
from . import CliContext, pass_ctx


@click.command("callcenter-xml")
@click.option("--base-url", help="The deployment's public https URL (default: "
                                 "[server] public_base_url).")
@click.option("--metadata", is_flag=True,
              help="Write the SFDX CallCenter metadata file for sfdc-package/ (deployed with "
                   "sf project deploy) instead of the import file.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@pass_ctx
def callcenter_xml(ctx: CliContext, base_url: str | None, metadata: bool,
                   output: str | None) -> None:
    """Print the Salesforce call-center definition to import (Setup > Call Centers > Import).

    The adapter URL is [server] public_base_url unless --base-url says otherwise; a URL
    Salesforce cannot load the softphone from (not https, or this machine) is refused.
    """
    try:
        text = callcenter.definition(ctx.settings, base_url, metadata=metadata)
    except ValueError as exc:
        click.echo(f"cti: {exc}: {callcenter.FIX}, or pass --base-url https://...", err=True)
        removed = _remove_empty_redirect()
        if removed:
            click.echo(f"cti: removed the empty {removed} the shell had created", err=True)
        sys.exit(1)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def _remove_empty_redirect() -> str | None:
    """Remove the file standard output goes to if it is a regular file and still empty — what
    ``cti callcenter-xml > callcenter.xml`` leaves when the command refuses. Returns its path.

    The path is found through ``/proc/self/fd`` (Linux); elsewhere nothing is removed.
    """
    try:
        descriptor = sys.stdout.fileno()
        opened = os.fstat(descriptor)
        path = os.readlink(f"/proc/self/fd/{descriptor}")
        if not (stat.S_ISREG(opened.st_mode) and opened.st_size == 0
                and os.path.samestat(os.stat(path), opened)):
            return None
        os.remove(path)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return path


@click.group("kintone-plugin")
def kintone_plugin() -> None:
    """The kintone click-to-call plugin."""


@kintone_plugin.command("build")
@click.option("--source", type=click.Path(file_okay=False),
              help="Plugin sources (default: the ones cti-connector ships).")
@click.option("--key", default=str(plugin.DEFAULT_KEY_PATH), show_default=True,
              help="Signing key (created if missing; keep it: it fixes the plugin id).")
@click.option("--out", default="var/kintone-plugin.zip", show_default=True)
def build(source: str | None, key: str, out: str) -> None:
    """Sign and package the plugin into one zip to upload in kintone."""
    try:
        if not Path(key).exists():
            plugin.generate_key(key)
            click.echo(f"created signing key {key} (keep it out of git; back it up)", err=True)
        info = plugin.build_plugin(source, key, out)
    except plugin.PluginError as exc:
        click.echo(f"cti: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{info.path}: plugin id {info.id}, sha256 {info.sha256}")


@click.command("crm-user")
@click.argument("username")
@click.argument("adapter")
@click.argument("crm_user", required=False)
@click.option("--remove", is_flag=True, help="Remove the mapping (fall back to the e-mail).")
@pass_ctx
def crm_user(ctx: CliContext, username: str, adapter: str, crm_user: str | None,
             remove: bool) -> None:
    """Map an agent to their user in a CRM (e.g. a Salesforce username), for call-log owners.

    Without a mapping the agent's e-mail address is used.
    """
    if not remove and not crm_user:
        click.echo("cti: give the CRM user (or --remove)", err=True)
        sys.exit(2)
    with db.get_engine(ctx.app).begin() as conn:
        agent = accounts.find_agent(conn, username)
        if agent is None:
            click.echo(f"cti: no agent with user ID {username!r}", err=True)
            sys.exit(1)
        if remove:
            conn.execute(delete(agent_crm_users).where(agent_crm_users.c.agent_id == agent.id,
                                                       agent_crm_users.c.adapter == adapter))
            click.echo(f"{agent.username}: no {adapter} user mapped")
            return
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
        statement = insert(agent_crm_users).values(agent_id=agent.id, adapter=adapter,
                                                   crm_user=crm_user)
        conn.execute(statement.on_conflict_do_update(index_elements=["agent_id", "adapter"],
                                                     set_={"crm_user": crm_user}))
        mapped = conn.execute(select(agent_crm_users.c.crm_user).where(
            agent_crm_users.c.agent_id == agent.id, agent_crm_users.c.adapter == adapter)).scalar()
    click.echo(f"{agent.username} is {mapped} in {adapter}")
