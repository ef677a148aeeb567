"""Call charges (SPEC ST-6): each leg's price, read from its Twilio Call resource by a worker.

Twilio fills a Call's ``price`` (negative text, ``"-0.01300"``) and ``price_unit`` some time
after the call completed; until then ``price`` is ``null``. So when a call is final,
:func:`call_final` queues :func:`fetch_job` a minute later; the job reads
``GET /Calls/{Sid}.json`` for the call record and each of its legs still unpriced and stores
what it finds. Legs still without a price — ``null``, or Twilio unreachable (timeout, 429, 5xx)
— are checked again later, at growing intervals (half the call's age, from 2 minutes to 6
hours), for :data:`GIVE_UP_AFTER`; then they are marked ``unpriced``. A 404 marks a leg
``missing``. Writes only touch legs whose ``price_status`` is still ``""``, so duplicate or
repeated jobs change nothing (idempotent).

Nothing is lost to Redis: every check stamps ``price_checked_at``, and the maintenance round's
:func:`sweep` queues a job for unpriced calls no job looked at for :data:`STALE_AFTER`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import requests
from flask import Flask, current_app
from sqlalchemy import Connection, func, or_, select, update
from twilio.base.exceptions import TwilioException, TwilioRestException

from .. import clock, db, queue
from ..schema import calls
from .runtime import ensure_simulator, rest_client

log = logging.getLogger("cti.voice.charges")

QUEUE = "default"
JOB = "connector.voice.charges.fetch_job"
FIRST_DELAY = timedelta(seconds=60)
MIN_RECHECK = timedelta(minutes=2)
MAX_RECHECK = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(hours=48)
#: A pending call no job checked for this long gets a new job from :func:`sweep`.
STALE_AFTER = MAX_RECHECK + timedelta(hours=1)
#: The sweep leaves calls this young to the job their hand-off queued.
SWEEP_GRACE = timedelta(minutes=10)
SWEEP_BATCH = 500
MICROS = Decimal(1_000_000)


@dataclass
class Result:
    priced: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # price, unit, µ
    pending: list[str] = field(default_factory=list)  # price null, or Twilio failed
    errors: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def summary(self, call_sid: str) -> dict[str, Any]:
        return {"call_sid": call_sid, "priced": len(self.priced), "pending": len(self.pending),
                "errors": len(self.errors), "missing": len(self.missing)}


def charge_micros(price: str | float) -> int:
    """Twilio's ``price`` (negative = a cost) as a positive number of millionths."""
    amount = -Decimal(str(price)) * MICROS
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def call_final(call_sid: str, *, app: Flask | None = None) -> None:
    """A call is final: read its legs' prices a minute from now. Never raises.

    ``app.extensions["cti.charges"]``, when set (tests), receives the hand-off instead.
    """
    app = app or current_app
    try:
        hook = app.extensions.get("cti.charges")
        if hook is not None:
            hook(call_sid)
            return
        enqueue(app, call_sid, FIRST_DELAY)
    except Exception:  # the charge can wait for the sweep; the call must not fail
        log.exception("charges hand-off failed", extra={"call_sid": call_sid})


def enqueue(app: Flask, call_sid: str, delay: timedelta) -> None:
    # rq job ids: letters, digits, "_" and "-"; one per (call, due second).
    due = int((clock.now(app) + delay).timestamp())
    queue.get_queue(QUEUE, app).enqueue_in(
        delay, JOB, call_sid, job_id=f"charges-{call_sid[:34]}-{due}", result_ttl=3600,
        failure_ttl=7 * 86400, job_timeout=120)


def fetch_job(call_sid: str) -> dict[str, Any]:
    """The worker's job: price what can be priced, then check again later or give up."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = clock.now(app)
    result = fetch(app, call_sid, now)
    summary = result.summary(call_sid)
    if result.pending:
        age = _age(app, call_sid, now)
        if age >= GIVE_UP_AFTER:
            summary["unpriced"] = give_up(app, result.pending, now)
        else:
            delay = min(MAX_RECHECK, max(MIN_RECHECK, age / 2))
            enqueue(app, call_sid, delay)
            summary["next_check_seconds"] = int(delay.total_seconds())
    return summary


def fetch(app: Flask, call_sid: str, now: datetime) -> Result:
    """Read the price of every unpriced leg of ``call_sid`` from Twilio and store it."""
    engine = db.get_engine(app)
    with engine.connect() as conn:
        legs = _unpriced_legs(conn, call_sid)
    result = Result()
    if not legs:
        return result
    ensure_simulator(app)
    client = rest_client(app)
    for leg in legs:
        if client is None:
            result.pending.append(leg)
            result.errors[leg] = "no Twilio account or simulator"
            continue
        _read_one(client, leg, result)
    with engine.begin() as conn:
        for leg, values in _updates(result, now):
            conn.execute(update(calls).where(calls.c.call_sid == leg,
                                             calls.c.price_status == "").values(values))
    if result.errors:
        log.warning("call prices not read from Twilio", extra={
            "call_sid": call_sid, "legs": len(result.errors),
            "reason": next(iter(result.errors.values()))})
    return result


def _read_one(client: Any, leg: str, result: Result) -> None:
    try:
        call = client.calls(leg).fetch()
    except TwilioRestException as exc:
        if exc.status == 404:
            result.missing.append(leg)
        else:
            result.pending.append(leg)
            result.errors[leg] = f"HTTP {exc.status}"
        return
    except (TwilioException, requests.RequestException) as exc:
        result.pending.append(leg)
        result.errors[leg] = type(exc).__name__
        return
    try:
        micros = None if call.price is None else charge_micros(call.price)
    except (InvalidOperation, ValueError):
        micros = None
    if micros is None:
        result.pending.append(leg)
        return
    result.priced[leg] = (call.price, (call.price_unit or "").upper()[:3], micros)


def _updates(result: Result, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for leg, (price, unit, micros) in result.priced.items():
        out.append((leg, {"price": price, "price_unit": unit, "charge_micros": micros,
                          "price_status": "priced", "price_checked_at": now}))
    out += [(leg, {"price_status": "missing", "price_checked_at": now})
            for leg in result.missing]
    out += [(leg, {"price_checked_at": now}) for leg in result.pending]
    return out


def give_up(app: Flask, legs: list[str], now: datetime) -> int:
    with db.get_engine(app).begin() as conn:
        return conn.execute(update(calls).where(
            calls.c.call_sid.in_(legs), calls.c.price_status == "").values(
            price_status="unpriced", price_checked_at=now)).rowcount


def _unpriced_legs(conn: Connection, call_sid: str) -> list[str]:
    return list(conn.execute(select(calls.c.call_sid).where(
        or_(calls.c.call_sid == call_sid, calls.c.parent_call_sid == call_sid),
        calls.c.price_status == "").order_by(calls.c.started_at)).scalars())


def _age(app: Flask, call_sid: str, now: datetime) -> timedelta:
    """How long ago the call ended (its record's end, else its start)."""
    with db.get_engine(app).connect() as conn:
        row = conn.execute(select(calls.c.ended_at, calls.c.started_at).where(
            calls.c.call_sid == call_sid)).first()
    if row is None:
        return GIVE_UP_AFTER
    return now - (row.ended_at or row.started_at)


def sweep(app: Flask) -> int:
    """Queue a job for each final call with unpriced legs that no job checked lately."""
    now = clock.now(app)
    root = func.coalesce(calls.c.parent_call_sid, calls.c.call_sid)
    with db.get_engine(app).connect() as conn:
        roots = list(conn.execute(select(root).where(
            calls.c.price_status == "", calls.c.ended_at < now - SWEEP_GRACE,
            or_(calls.c.price_checked_at.is_(None),
                calls.c.price_checked_at < now - STALE_AFTER)).distinct().limit(
            SWEEP_BATCH)).scalars())
    for call_sid in roots:
        enqueue(app, call_sid, timedelta(seconds=1))
    return len(roots)
