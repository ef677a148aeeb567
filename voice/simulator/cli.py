"""``cti simulate``: place one simulated call against a running server and print the transcript.

Examples::

    cti simulate --voice-url http://127.0.0.1:5000/twilio/voice/inbound --to +815012345678 \\
        --agent agent1:3:60
    cti simulate --app-url http://127.0.0.1:5000/twilio/voice/outbound --client agent1 \\
        --param To=+81312345678 --agent +81312345678:2:30
    cti simulate --digits 2 --at 2026-12-31T10:00+09:00   # which path on that date

``--at`` starts the simulated call at that moment and sends it as the extra parameter
:data:`SIMULATED_TIME_PARAM`, which a server in simulator mode uses as "now" for its call-flow
decisions (business hours, holidays).

The server must validate signatures with the same auth token (``--auth-token`` or the
``TWILIO_AUTH_TOKEN`` environment variable). Exit status: 0 when the call ran without Twilio
errors, 1 when the transcript has errors, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

import requests

from voice.simulator.engine import Simulator
from voice.simulator.kernel import RealTimeClock, SimulationLimitError, VirtualClock
from voice.simulator.parties import (
    CallerScript,
    Endpoint,
    Press,
    answers,
    busy,
    no_answer,
    reject,
)
from voice.simulator.transcript import Transcript
from voice.simulator.transport import HTTPTransport

DEFAULT_ACCOUNT = "AC" + "0" * 32
#: The webhook parameter carrying ``--at`` (only the simulator sends it).
SIMULATED_TIME_PARAM = "CtiSimulatedTime"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time with its offset, e.g. 2026-12-31T10:00+09:00")
    return moment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cti simulate", description="Place a simulated Twilio call against a server.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--voice-url", help="the number's Voice URL (an inbound PSTN call)")
    target.add_argument("--app-url", help="the TwiML App's Voice URL (a browser call)")
    parser.add_argument("--to", default="+815000000000", help="the dialed number (inbound)")
    parser.add_argument("--from", dest="from_", default="+819000000000", help="caller number")
    parser.add_argument("--client", default="agent1",
                        help="browser identity (with --app-url; default: the demo agent)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="Device.connect() parameter (with --app-url), repeatable")
    parser.add_argument("--digits", default="", help="keys per <Gather>, comma-separated; "
                        "'-' stays silent, e.g. '1,-,1234#'")
    parser.add_argument("--speech", action="append", default=[], help="words per speech Gather")
    parser.add_argument("--at", type=_moment, metavar="TIME",
                        help="place the call at this time (ISO with offset), for call flows' "
                             "business hours and holidays")
    parser.add_argument("--hangup-after", type=float, help="caller hangs up after N seconds")
    parser.add_argument("--agent", action="append", default=[], metavar="WHO[:ANSWER[:HANGUP]]",
                        help="a client identity or +number that answers after ANSWER s and "
                             "hangs up after HANGUP s (repeatable)")
    for outcome in ("busy", "no-answer", "decline"):
        parser.add_argument(f"--{outcome}", action="append", default=[], metavar="WHO",
                            help=f"a client identity or +number that is {outcome}")
    parser.add_argument("--status-callback", help="status callback URL for the call")
    parser.add_argument("--fallback-url", help="fallback URL for the number")
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID",
                                                                DEFAULT_ACCOUNT))
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN", ""),
                        help="signs the webhooks (default: $TWILIO_AUTH_TOKEN)")
    parser.add_argument("--timeout", type=float, default=15.0, help="HTTP timeout, at most 15")
    parser.add_argument("--real-time", action="store_true", help="run on the wall clock")
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="stop the simulation after this much simulated time")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         session: requests.Session | None = None) -> int:
    """Run ``cti simulate``; returns the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    clock = RealTimeClock() if args.real_time else VirtualClock()
    with session or requests.Session() as http:
        sim = Simulator(args.account_sid, args.auth_token,
                        HTTPTransport(http, timeout=args.timeout), clock=clock,
                        start_time=args.at.astimezone(UTC) if args.at else None)
        _register_parties(sim, args)
        caller = CallerScript(digits=_digits(args.digits), speech=args.speech,
                              hangup_after=args.hangup_after)
        transcript = _place(sim, args, caller)
        try:
            sim.run_until_idle(limit=args.max_seconds)
        except SimulationLimitError as exc:
            print(transcript.render(), file=out)
            print(f"stopped: {exc}", file=out)
            return 1
    print(transcript.render(), file=out)
    return 1 if transcript.errors else 0


def _place(sim: Simulator, args: argparse.Namespace, caller: CallerScript) -> Transcript:
    if args.voice_url:
        sim.add_number(args.to, args.voice_url, status_callback=args.status_callback,
                       fallback_url=args.fallback_url)
        params = {SIMULATED_TIME_PARAM: args.at.isoformat()} if args.at else None
        return sim.place_inbound_call(args.from_, args.to, caller=caller, params=params)
    sim.set_twiml_app(args.app_url, status_callback=args.status_callback,
                      fallback_url=args.fallback_url)
    params = dict(_pair(p) for p in args.param)
    return sim.place_client_call(args.client, params, caller=caller)


def _register_parties(sim: Simulator, args: argparse.Namespace) -> None:
    def register(who: str, endpoint: Endpoint) -> None:
        (sim.on_number if who.startswith("+") else sim.on_client)(who, endpoint)

    for spec in args.agent:
        who, *times = spec.split(":")
        answer_after = float(times[0]) if times else 1.0
        hangup_after = float(times[1]) if len(times) > 1 else None
        register(who, answers(answer_after, hangup_after))
    for who in args.busy:
        register(who, busy())
    for who in args.no_answer:
        register(who, no_answer())
    for who in args.decline:
        register(who, reject())


def _digits(spec: str) -> list[Press | None]:
    if not spec:
        return []
    return [None if part.strip() in ("", "-") else Press(part.strip()) for part in spec.split(",")]


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise SystemExit(f"--param needs NAME=VALUE, got {text!r}")
    return name, value


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
