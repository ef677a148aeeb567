"""``cti user``: agent accounts (add, list, disable, enable, unlock, passwd, pin)."""

from __future__ import annotations

import json
import sys

import click

from .. import clock, db
from ..auth import accounts
from ..auth.policy import effective_policy
from ..schema import ROLES
from . import CliContext, pass_ctx


@click.group()
def user() -> None:
    """Agent accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _refuse(ctx: CliContext, exc: accounts.AccountError) -> None:
    click.echo(f"cti: {ctx.text(exc.text)}", err=True)
    for problem in exc.problems:
        click.echo(f"  - {ctx.text(problem)}", err=True)
    sys.exit(1)


def _agent_or_exit(conn, username: str) -> accounts.Agent:  # type: ignore[no-untyped-def]
    agent = accounts.find_agent(conn, username)
    if agent is None:
        click.echo(f"cti: no agent with user ID {username!r}", err=True)
        sys.exit(1)
    return agent


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 佐藤 花子.")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--email", default="", help="E-mail (also used to match CRM users).")
@click.option("--extension", default="", help="Extension number.")
@click.option("--language", type=click.Choice(accounts.LANGUAGES), default="ja",
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def add(ctx: CliContext, username: str, display_name: str, role: str, email: str,
        extension: str, language: str, password_stdin: bool) -> None:
    """Create an agent account."""
    password = _read_password(password_stdin)
    with db.get_engine(ctx.app).begin() as conn:
        try:
            agent = accounts.create_agent(
                conn, username=username, display_name=display_name, password=password,
                policy=effective_policy(ctx.app), now=clock.now(ctx.app), role=role, email=email,
                extension=extension, language=language)
        except accounts.AccountError as exc:
            _refuse(ctx, exc)
    click.echo(f"created {agent.role} {agent.username} ({agent.display_name})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def list_(ctx: CliContext, as_json: bool) -> None:
    """List agent accounts."""
    now = clock.now(ctx.app)
    with db.get_engine(ctx.app).connect() as conn:
        agents = accounts.list_agents(conn)
    if as_json:
        rows = [{**a.public(), "locked": a.is_locked(now),
                 "password_changed_at": a.password_changed_at.isoformat()} for a in agents]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'USER ID':<15}  {'ROLE':<10}  {'STATE':<8}  NAME")
    for a in agents:
        state = "locked" if a.is_locked(now) else ("active" if a.active else "disabled")
        click.echo(f"{a.username:<15}  {a.role:<10}  {state:<8}  {a.display_name}")


def _update(ctx: CliContext, username: str, action: str) -> None:
    now = clock.now(ctx.app)
    with db.get_engine(ctx.app).begin() as conn:
        agent = _agent_or_exit(conn, username)
        if action == "unlock":
            accounts.unlock(conn, agent, now)
        else:
            accounts.set_active(conn, agent, action == "enable", now)
    past = {"unlock": "unlocked", "enable": "enabled", "disable": "disabled"}[action]
    click.echo(f"{past} {agent.username}")


@user.command("disable")
@click.argument("username")
@pass_ctx
def disable(ctx: CliContext, username: str) -> None:
    """Disable an account and end its sessions at once."""
    _update(ctx, username, "disable")


@user.command("enable")
@click.argument("username")
@pass_ctx
def enable(ctx: CliContext, username: str) -> None:
    """Enable a disabled account."""
    _update(ctx, username, "enable")


@user.command("unlock")
@click.argument("username")
@pass_ctx
def unlock(ctx: CliContext, username: str) -> None:
    """Lift a lock-out after too many failed sign-ins."""
    _update(ctx, username, "unlock")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def passwd(ctx: CliContext, username: str, password_stdin: bool) -> None:
    """Set a new password (the policy applies); the agent's sessions end."""
    password = _read_password(password_stdin)
    with db.get_engine(ctx.app).begin() as conn:
        agent = _agent_or_exit(conn, username)
        try:
            accounts.set_password(conn, agent, password, policy=effective_policy(ctx.app),
                                  now=clock.now(ctx.app))
        except accounts.AccountError as exc:
            _refuse(ctx, exc)
    click.echo(f"password changed for {agent.username}")


@user.command("pin")
@click.argument("username")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@click.option("--clear", is_flag=True, help="Remove the user's PIN.")
@pass_ctx
def pin(ctx: CliContext, username: str, pin_stdin: bool, clear: bool) -> None:
    """Set (4–8 digits) or --clear the PIN code of desk-phone free-desk sign-in."""
    import getpass

    from ..auth import pins
    from ..console import audit

    code = None if clear else (sys.stdin.readline().strip() if pin_stdin else click.prompt(
        "PIN", hide_input=True, confirmation_prompt=True))
    now = clock.now(ctx.app)
    with db.get_engine(ctx.app).begin() as conn:
        agent = _agent_or_exit(conn, username)
        try:
            pins.set_pin(conn, agent.id, code, now)
        except ValueError as exc:
            click.echo(f"cti: {ctx.text(exc.args[0])}", err=True)
            sys.exit(1)
        audit.record(conn, at=now, action="user.pin_clear" if clear else "user.pin_set",
                     actor=f"cli:{getpass.getuser()}", target=f"user:{agent.username}",
                     details={"pin": "cleared" if clear else "set"})
    click.echo(f"PIN {'removed' if clear else 'set'} for {agent.username}")
