"""``cti simulate``: place a simulated Twilio call against this deployment's running server.

A wrapper around :func:`voice.simulator.cli.main` (see ``docs/simulator.md``) with defaults
taken from the configuration, so that against ``cti serve`` nothing needs to be typed:

* ``--voice-url`` ``<public_base_url>/twilio/voice/inbound`` — or, when ``--client`` or
  ``--param`` is given, ``--app-url`` ``<public_base_url>/twilio/voice/outbound``;
* ``--status-callback`` ``…/twilio/voice/status`` on the same server as the Voice URL: the one
  given with ``--voice-url``/``--app-url``, else ``public_base_url``;
* ``--account-sid`` and ``--auth-token``: the deployment's (in embedded mode the generated
  simulator token, so the server accepts the signatures);
* ``--to``: the first active number configured with a route.

Any option given on the command line wins. Examples::

    cti simulate --agent sato:3:30
    cti simulate --to 050-1234-5678 --no-answer sato --digits '#'
    cti simulate --client sato --param To=090-1111-2222 --agent +819011112222:2:20
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import click

from voice.numbering import NumberError, normalize
from voice.simulator.cli import main as simulator_main

from .. import db
from ..voice import numbers
from ..voice.runtime import WEBHOOK_PREFIX, get_runtime
from . import CliContext, pass_ctx


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_ctx
def simulate(ctx: CliContext, args: tuple[str, ...]) -> None:
    """Place a simulated call against the running server and print the transcript.

    Takes the options of the Twilio simulator (`cti simulate --help`); the URLs, account and
    token default to this deployment's.
    """
    argv = list(args)
    if "-h" in argv or "--help" in argv:
        sys.exit(simulator_main(["--help"]))
    sys.exit(simulator_main(with_defaults(ctx, argv)))


def with_defaults(ctx: CliContext, argv: list[str]) -> list[str]:
    """``argv`` completed with this deployment's URLs, account and token."""
    runtime = get_runtime(ctx.app)
    given = {arg.split("=", 1)[0] for arg in argv if arg.startswith("--")}
    given_url = _option(argv, "--voice-url") or _option(argv, "--app-url")
    hooks = webhook_base(given_url) if given_url else runtime.base_url + WEBHOOK_PREFIX
    extra: list[str] = []
    if not given & {"--voice-url", "--app-url"}:
        outbound = bool(given & {"--client", "--param"})
        extra += ["--app-url", f"{hooks}/outbound"] if outbound else [
            "--voice-url", f"{hooks}/inbound"]
        if not outbound and "--to" not in given:
            to = _first_number(ctx)
            if to:
                extra += ["--to", to]
    if "--to" in given:
        argv = _normalized_to(argv)
    defaults = {"--status-callback": f"{hooks}/status", "--account-sid": runtime.account_sid,
                "--auth-token": runtime.auth_token.reveal()}
    for option, value in defaults.items():
        if option not in given:
            # One word: a generated token may start with "-", which argparse would take for
            # an option of its own.
            extra.append(f"{option}={value}")
    return argv + extra


def webhook_base(url: str) -> str:
    """Where the webhooks live on the server that the Voice URL ``url`` points at.

    ``http://127.0.0.1:5123/twilio/voice/inbound`` → ``http://127.0.0.1:5123/twilio/voice``
    (a path before the prefix is kept); a URL outside our routes gets the prefix on its scheme
    and host. Either way the derived URLs go to the server the user named, not to
    ``public_base_url``'s port.
    """
    parts = urlsplit(url)
    index = parts.path.find(WEBHOOK_PREFIX)
    path = parts.path[:index + len(WEBHOOK_PREFIX)] if index >= 0 else WEBHOOK_PREFIX
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _option(argv: list[str], name: str) -> str:
    """The value of ``name`` in ``argv`` (``--name VALUE`` or ``--name=VALUE``), else ``""``."""
    for index, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
    return ""


def _first_number(ctx: CliContext) -> str:
    with db.get_engine(ctx.app).connect() as conn:
        configured = [n for n in numbers.list_numbers(conn) if n.configured]
    return configured[0].e164 if configured else ""


def _normalized_to(argv: list[str]) -> list[str]:
    """``--to 050-1234-5678`` → E.164, as Twilio sends ``To``."""
    out = list(argv)
    for index, arg in enumerate(out):
        if arg.startswith("--to="):
            out[index] = "--to=" + _e164(arg.removeprefix("--to="))
        elif arg == "--to" and index + 1 < len(out):
            out[index + 1] = _e164(out[index + 1])
    return out


def _e164(number: str) -> str:
    try:
        return normalize(number)
    except NumberError:
        return number  # the simulator says it is not one of the account's numbers
