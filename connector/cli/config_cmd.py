"""``cti config check``: validate the configuration and print the effective values."""

from __future__ import annotations

import json
from typing import Any

import click

from crm_adapters.settings import settings_to_dict

from ..config import ConfigError, Settings
from ..crm import resolve_adapters
from . import CliContext, fail_config, pass_ctx


@click.group()
def config() -> None:
    """Configuration."""


@config.command("check")
@pass_ctx
def check(ctx: CliContext) -> None:
    """Validate the configuration as start-up does; print it with secrets masked, then
    warnings. Exit status 2 when start-up would refuse it."""
    settings = ctx.settings
    try:
        adapters = resolve_adapters(settings)
    except ConfigError as exc:
        fail_config(exc)
    click.echo(f"# effective configuration (from {settings.source}); secrets are masked")
    click.echo(to_toml(effective(settings)))
    for warning in warnings(settings):
        click.echo(f"warning: {warning}", err=True)
    for reason in adapters.unavailable.values():
        click.echo(f"warning: crm.adapters: {reason} (the other adapters run without it)",
                   err=True)
    for name in adapters.not_enabled:
        click.echo(f"warning: crm.{name}: configured, but {name!r} is not in crm.adapters "
                   "(it stays off)", err=True)
    click.echo("configuration OK", err=True)


def effective(settings: Settings) -> dict[str, Any]:
    data = settings_to_dict(settings)
    data.pop("source")
    crm = data.pop("crm")
    data["crm"] = {"adapters": crm["adapters"], **_mask_raw(crm["tables"])}
    return data


def _mask_raw(tables: dict[str, Any]) -> dict[str, Any]:
    """CRM tables are validated by their adapters; until then mask anything secret-looking."""
    def mask(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) in ({"env"}, {"file"}):
                return value  # a reference, not the secret itself
            return {k: mask(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(key, v) for v in value]
        if isinstance(value, str) and _secret_like(key):
            return "********"
        return value

    return {name: mask(name, table) for name, table in tables.items()}


def _secret_like(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in ("password", "secret", "token", "private_key", "api_key"))


def warnings(settings: Settings) -> list[str]:
    found = []
    embedded = settings.embedded
    if embedded["database"]:
        found.append(f"storage.database_url not set: using SQLite at {settings.database_url} "
                     "(fine for one machine; use PostgreSQL for several instances)")
    if embedded["redis"]:
        found.append("queue.redis_url not set: using an embedded Redis (single machine only)")
    if embedded["twilio_simulator"]:
        found.append("twilio.account_sid not set: calls run against the Twilio simulator")
    if settings.server.secret_key is None:
        found.append("server.secret_key not set: a key is generated under "
                     f"{settings.data_dir}/ (several instances must share one key)")
    if not settings.server.public_base_url.startswith("https://"):
        found.append("server.public_base_url is not https: Salesforce Lightning and Twilio "
                     "need https in production")
    return found


def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for plain settings data (tables, lists, scalars)."""
    lines: list[str] = []
    _table(lines, [], data)
    return "\n".join(lines).strip() + "\n"


def _table(lines: list[str], path: list[str], data: dict[str, Any]) -> None:
    scalars = {k: v for k, v in data.items() if not _is_table(v) and not _is_table_list(v)}
    if path and (scalars or not data):
        lines.append(f"\n[{'.'.join(_key(p) for p in path)}]")
    for key, value in scalars.items():
        if value is None:
            lines.append(f"# {_key(key)} is not set")
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        if _is_table(value):
            _table(lines, [*path, key], value)
        elif _is_table_list(value):
            for item in value:
                lines.append(f"\n[[{'.'.join(_key(p) for p in [*path, key])}]]")
                for k, v in item.items():
                    lines.append(f"{_key(k)} = {_value(v)}")


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and set(value) not in ({"env"}, {"file"})


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else (
        json.dumps(key, ensure_ascii=False))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
