"""Statistics as SQL aggregates (SPEC ST-3, ST-4, ST-5) — no Flask, only a connection.

Every figure is computed by the database (``COUNT``/``SUM``/``AVG``/``MAX`` with ``GROUP BY``)
over the call records of a period, so a month's report reads a few hundred result rows, not the
calls themselves; ``ix_calls_group_started`` and ``ix_calls_number_started`` (migration
0007_console) keep the scans to the period.

Local days and hours: a report's buckets are days and hours of the report's time zone. The
database sees times in UTC, so each call's local time is its UTC epoch plus the zone's offset,
which :func:`offset_case` gives as a ``CASE`` over the offset changes inside the period (none
for Asia/Tokyo; one or two for a zone with summer time) — exact on SQLite and PostgreSQL alike.

Call classification (UNVERIFIED until the ACD lands, see docs/console.md): which ``outcome`` and
``detail`` values mean answered, overflow, timed out and abandoned lives in :class:`Outcomes`
only, so the ACD's codes plug in by changing those sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from ..schema import UTCDateTime, calls

GROUPINGS = ("day", "hour", "agent")


@dataclass(frozen=True)
class Outcomes:
    """Which call records count as what (inbound records of a group)."""

    answered: frozenset[str] = frozenset({"answered", "forwarded"})
    overflow: frozenset[str] = frozenset({"overflow"})  # outcome or detail
    timed_out: frozenset[str] = frozenset({"timeout", "timed_out", "queue_timeout"})
    abandoned: frozenset[str] = frozenset({"missed", "abandoned"})  # minus overflow/timeout

    def is_answered(self) -> ColumnElement[bool]:
        # A call on now has no outcome until it ends; answered is answered already (the
        # board's 応答呼 counts it while it lasts).
        return or_(calls.c.outcome.in_(sorted(self.answered)),
                   and_(calls.c.outcome == "", calls.c.answered_at.is_not(None)))

    def is_overflow(self) -> ColumnElement[bool]:
        codes = sorted(self.overflow)
        return or_(calls.c.outcome.in_(codes), calls.c.detail.in_(codes))

    def is_timed_out(self) -> ColumnElement[bool]:
        codes = sorted(self.timed_out)
        return and_(~self.is_overflow(), or_(calls.c.outcome.in_(codes),
                                             calls.c.detail.in_(codes)))

    def is_abandoned(self) -> ColumnElement[bool]:
        return and_(calls.c.outcome.in_(sorted(self.abandoned)), ~self.is_overflow(),
                    ~self.is_timed_out())


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, reported in ``zone``'s local days and hours."""

    start: datetime
    end: datetime
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Tokyo"))

    @classmethod
    def local_days(cls, first: str, last: str, zone: str = "Asia/Tokyo") -> Period:
        """From the start of local day ``first`` to the end of ``last`` (``YYYY-MM-DD``)."""
        tz = ZoneInfo(zone)
        start = datetime.fromisoformat(first).replace(tzinfo=tz)
        end = datetime.fromisoformat(last).replace(tzinfo=tz) + timedelta(days=1)
        return cls(start.astimezone(UTC), end.astimezone(UTC), tz)


def offset_segments(period: Period) -> list[tuple[float, int]]:
    """``(utc epoch where it starts, offset in seconds)`` for each offset in the period."""
    segments: list[tuple[float, int]] = []
    moment = period.start
    while moment < period.end + timedelta(hours=1):
        offset = int(moment.astimezone(period.zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        if not segments or segments[-1][1] != offset:
            segments.append((moment.timestamp(), offset))
        moment += timedelta(minutes=30)  # offsets change on half hours at worst
    return segments


def epoch(column: Any, dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 (UTC) of a timestamp column, as a float."""
    if dialect == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(func.extract("epoch", column), Float)


def offset_case(column: Any, dialect: str, period: Period) -> ColumnElement[int]:
    segments = offset_segments(period)
    if len(segments) == 1:
        return literal(segments[0][1])
    seconds = epoch(column, dialect)
    whens = [(seconds < start, previous) for (start, _), (_, previous)
             in zip(segments[1:], segments, strict=False)]
    return case(*whens, else_=segments[-1][1])


def _local_bucket(column: Any, dialect: str, period: Period, size: int) -> ColumnElement[int]:
    local = epoch(column, dialect) + offset_case(column, dialect, period)
    return _whole(local / size, dialect)


def _whole(value: Any, dialect: str) -> ColumnElement[int]:
    """``floor(value)`` as an integer (SQLite's CAST truncates; the values are positive)."""
    return cast(value, Integer) if dialect == "sqlite" else cast(func.floor(value), BigInteger)


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    return epoch(later, dialect) - epoch(earlier, dialect)


def _group_metrics(dialect: str, outcomes: Outcomes) -> list[Any]:
    answered, abandoned = outcomes.is_answered(), outcomes.is_abandoned()
    wait = _seconds(calls.c.answered_at, calls.c.started_at, dialect)
    gave_up = _seconds(calls.c.ended_at, calls.c.started_at, dialect)

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        func.count().label("calls"),
        count(answered).label("answered"),
        count(abandoned).label("abandoned"),
        count(outcomes.is_overflow()).label("overflow"),
        count(outcomes.is_timed_out()).label("timed_out"),
        func.avg(case((answered, wait))).label("avg_wait"),
        func.max(case((answered, wait))).label("max_wait"),
        func.avg(case((abandoned, gave_up))).label("avg_abandon"),
        func.max(case((abandoned, gave_up))).label("max_abandon"),
        func.coalesce(func.sum(case((answered, calls.c.talk_seconds))), 0).label("talk_seconds"),
    ]


def _group_filter(period: Period, group_id: int | None) -> list[Any]:
    where = [calls.c.parent_call_sid.is_(None), calls.c.direction == "inbound",
             calls.c.started_at >= period.start, calls.c.started_at < period.end]
    where.append(calls.c.group_id.is_not(None) if group_id is None
                 else calls.c.group_id == group_id)
    return where


def group_report(conn: Connection, period: Period, *, by: str, group_id: int | None = None,
                 outcomes: Outcomes | None = None) -> dict[str, Any]:
    """ST-3: per local day, hour of day (0–23) or answering agent, plus the period's total.

    Args:
        group_id: one group, or ``None`` for every call that came through any group.
        by: ``day``, ``hour`` or ``agent``.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by: one of {', '.join(GROUPINGS)}, got {by!r}")
    outcomes = outcomes or Outcomes()
    dialect = conn.dialect.name
    metrics = _group_metrics(dialect, outcomes)
    where = _group_filter(period, group_id)
    if by == "agent":
        key: Any = calls.c.agent_id
    else:
        key = _local_bucket(calls.c.started_at, dialect, period, 86400 if by == "day" else 3600)
        if by == "hour":
            key = key % 24  # hour of the day, over every day of the period
    rows = conn.execute(select(key.label("key"), *metrics).where(*where).group_by(key)).all()
    found = {_key(by, row.key): _figures(row) for row in rows}
    return {"by": by, "rows": _complete(by, period, found), "total": _figures(_combined(rows))}


@dataclass
class _Sums:
    """The period's total, from the groups' unrounded figures (one scan of the calls, not two):
    counts add up, maxima are the largest, averages are weighted by their counts."""

    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    overflow: int = 0
    timed_out: int = 0
    talk_seconds: int = 0
    avg_wait: float | None = None
    max_wait: float | None = None
    avg_abandon: float | None = None
    max_abandon: float | None = None


def _combined(rows: list[Any]) -> _Sums:
    total = _Sums()
    for name in ("calls", "answered", "abandoned", "overflow", "timed_out", "talk_seconds"):
        setattr(total, name, sum(int(getattr(r, name) or 0) for r in rows))
    for avg, top, weight in (("avg_wait", "max_wait", "answered"),
                             ("avg_abandon", "max_abandon", "abandoned")):
        weighted = [(float(getattr(r, avg)), int(getattr(r, weight))) for r in rows
                    if getattr(r, avg) is not None and getattr(r, weight)]
        if weighted:
            setattr(total, avg, sum(a * w for a, w in weighted) / sum(w for _, w in weighted))
        maxima = [float(getattr(r, top)) for r in rows if getattr(r, top) is not None]
        setattr(total, top, max(maxima) if maxima else None)
    return total


def _key(by: str, raw: Any) -> Any:
    if by == "agent":
        return raw  # None: calls nobody answered
    raw = int(raw)
    if by == "hour":
        return raw
    return (datetime(1970, 1, 1) + timedelta(days=raw)).date().isoformat()


def _complete(by: str, period: Period, found: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every day or hour of the period, empty ones as zeros (the seeds' tables show them)."""
    if by == "agent":
        keys: list[Any] = sorted(found, key=lambda k: (k is None, k or 0))
    elif by == "hour":
        keys = list(range(24))
    else:
        first = period.start.astimezone(period.zone).date()
        last = (period.end - timedelta(microseconds=1)).astimezone(period.zone).date()
        keys = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return [{"key": k, **found.get(k, _figures(None))} for k in keys]


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _figures(row: Any) -> dict[str, Any]:
    names = ("calls", "answered", "abandoned", "overflow", "timed_out", "talk_seconds")
    if row is None:
        return {**dict.fromkeys(names, 0), "answer_rate": None, "avg_wait": None,
                "max_wait": None, "avg_abandon": None, "max_abandon": None}
    figures = {name: int(getattr(row, name) or 0) for name in names}
    figures["answer_rate"] = (round(100 * figures["answered"] / figures["calls"], 2)
                              if figures["calls"] else None)
    for name in ("avg_wait", "max_wait", "avg_abandon", "max_abandon"):
        figures[name] = _round(getattr(row, name))
    return figures


# -- ST-5: per phone number ----------------------------------------------------------------------

def number_report(conn: Connection, period: Period, numbers: Iterable[str] = (),
                  direction: str = "") -> list[dict[str, Any]]:
    """Per our number: outbound and inbound counts, connected, talk seconds and their average.

    ``numbers`` (E.164) are listed even without calls, as the seed's table does.
    """
    connected = calls.c.answered_at.is_not(None)
    where = [calls.c.parent_call_sid.is_(None), calls.c.started_at >= period.start,
             calls.c.started_at < period.end, calls.c.our_number != ""]
    if direction:
        where.append(calls.c.direction == direction)
    query = select(calls.c.our_number, calls.c.direction, func.count().label("count"),
                   func.coalesce(func.sum(case((connected, 1), else_=0)), 0).label("connected"),
                   func.coalesce(func.sum(case((connected, calls.c.talk_seconds))), 0
                                 ).label("seconds")).where(*where).group_by(
        calls.c.our_number, calls.c.direction)
    table: dict[str, dict[str, Any]] = {n: _empty_number(n) for n in numbers}
    for row in conn.execute(query):
        entry = table.setdefault(row.our_number, _empty_number(row.our_number))
        side = entry[row.direction]
        side.update(count=int(row.count), connected=int(row.connected), seconds=int(row.seconds))
        side["average"] = round(side["seconds"] / side["connected"], 1) if side["connected"] else 0
    return [table[n] for n in sorted(table)]


def _empty_number(number: str) -> dict[str, Any]:
    return {"number": number,
            "outbound": {"count": 0, "connected": 0, "seconds": 0, "average": 0},
            "inbound": {"count": 0, "connected": 0, "seconds": 0, "average": 0}}


# -- ST-4: agent status time, from the ACD's presence intervals ----------------------------------

@dataclass(frozen=True)
class IntervalSource:
    """Where presence intervals live: one row per stretch an agent spent in one status.

    The defaults name the ACD's ``agent_status_intervals`` (connector.schema, written by
    connector.presence). ``ended_at`` is NULL while the interval is still open.
    """

    table: str = "agent_status_intervals"
    agent_id: str = "agent_id"
    status: str = "status"
    stop_status_id: str = "stop_status_id"
    group_id: str = "group_id"
    started_at: str = "started_at"
    ended_at: str = "ended_at"

    def as_table(self, metadata: MetaData | None = None) -> Table:
        return Table(self.table, metadata or MetaData(),
                     Column(self.agent_id, Integer, nullable=False),
                     Column(self.status, String(16), nullable=False),
                     Column(self.stop_status_id, Integer),
                     Column(self.group_id, Integer),
                     Column(self.started_at, UTCDateTime, nullable=False),
                     Column(self.ended_at, UTCDateTime))


def intervals_available(conn: Connection, source: IntervalSource) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table(source.table)


def status_report(conn: Connection, source: IntervalSource, start: datetime, hours: int, *,
                  now: datetime, by: str = "agent", agent_ids: Iterable[int] | None = None,
                  group_id: int | None = None) -> list[dict[str, Any]]:
    """ST-4: seconds and count of intervals per status, per agent (whole window) or per hour.

    The window is ``[start, start + hours)``; an interval counts for the part of it inside the
    window (or hour), an open one up to ``now``. ``count`` is the intervals that overlap.
    """
    if by not in ("agent", "hour"):
        raise ValueError(f"by: agent or hour, got {by!r}")
    if not 1 <= hours <= 24 * 31:
        raise ValueError(f"hours: 1 to 744, got {hours}")
    table = source.as_table()
    buckets = ([(start, start + timedelta(hours=hours))] if by == "agent" else
               [(start + timedelta(hours=n), start + timedelta(hours=n + 1))
                for n in range(hours)])
    out = []
    for first, last in buckets:
        for row in _status_rows(conn, table, source, first, last, now, agent_ids, group_id):
            out.append({"hour": first if by == "hour" else None, "agent_id": row.agent_id,
                        "status": row.status, "seconds": round(float(row.seconds or 0), 1),
                        "count": int(row.count)})
    return out


def _status_rows(conn: Connection, table: Table, source: IntervalSource, first: datetime,
                 last: datetime, now: datetime, agent_ids: Iterable[int] | None,
                 group_id: int | None) -> list[Any]:
    dialect = conn.dialect.name
    col = table.c
    started, ended = col[source.started_at], col[source.ended_at]
    end_or_now = func.coalesce(ended, literal(now, UTCDateTime))
    low, high = (func.max, func.min) if dialect == "sqlite" else (func.greatest, func.least)
    seconds = (high(epoch(end_or_now, dialect), last.timestamp())
               - low(epoch(started, dialect), first.timestamp()))
    where = [started < last, or_(ended.is_(None), ended > first), started < now]
    if agent_ids is not None:
        where.append(col[source.agent_id].in_(list(agent_ids)))
    if group_id is not None:
        where.append(col[source.group_id] == group_id)
    query = select(col[source.agent_id].label("agent_id"), col[source.status].label("status"),
                   func.sum(seconds).label("seconds"), func.count().label("count")).where(
        *where).group_by(col[source.agent_id], col[source.status])
    return list(conn.execute(query))


def status_shares(rows: list[dict[str, Any]]) -> dict[tuple[Any, int], dict[str, dict[str, Any]]]:
    """Rows of :func:`status_report` as ``{(hour, agent): {status: {seconds, count, percent,
    average}}}``; percent is of the time the agent has any status in that bucket."""
    table: dict[tuple[Any, int], dict[str, dict[str, Any]]] = {}
    for row in rows:
        table.setdefault((row["hour"], row["agent_id"]), {})[row["status"]] = {
            "seconds": row["seconds"], "count": row["count"]}
    for statuses in table.values():
        total = sum(s["seconds"] for s in statuses.values())
        for figures in statuses.values():
            figures["percent"] = round(100 * figures["seconds"] / total, 2) if total else 0.0
            figures["average"] = (round(figures["seconds"] / figures["count"], 1)
                                  if figures["count"] else 0.0)
    return table


# -- ST-2: today's figures for the real-time board -----------------------------------------------

def today_by_group(conn: Connection, start: datetime, end: datetime,
                   outcomes: Outcomes | None = None) -> dict[int | None, dict[str, Any]]:
    """Figures of ``[start, end)`` per group id, and the overall total under ``None``."""
    outcomes = outcomes or Outcomes()
    metrics = _group_metrics(conn.dialect.name, outcomes)
    period = Period(start, end)
    where = _group_filter(period, None)
    out: dict[int | None, dict[str, Any]] = {
        row.group_id: _figures(row) for row in conn.execute(
            select(calls.c.group_id, *metrics).where(*where).group_by(calls.c.group_id))}
    out[None] = _figures(conn.execute(select(*metrics).where(*where)).one())
    return out


def rate_series(conn: Connection, start: datetime, end: datetime, *, group_id: int | None,
                step: int = 300, outcomes: Outcomes | None = None) -> list[dict[str, Any]]:
    """Calls, answered and answer rate per ``step`` seconds from ``start`` to ``end``."""
    outcomes = outcomes or Outcomes()
    dialect = conn.dialect.name
    # UTC buckets: every zone's offset is a multiple of 15 minutes, so 5-minute steps line up.
    seconds = epoch(calls.c.started_at, dialect)
    bucket = _whole(seconds / step, dialect)
    answered = func.coalesce(func.sum(case((outcomes.is_answered(), 1), else_=0)), 0)
    rows = conn.execute(select(bucket.label("b"), func.count().label("calls"),
                               answered.label("answered")).where(
        *_group_filter(Period(start, end), group_id)).group_by(bucket)).all()
    found = {int(r.b): (int(r.calls), int(r.answered)) for r in rows}
    first = int(start.timestamp()) // step
    last = (int(end.timestamp()) - 1) // step
    series = []
    for index in range(first, last + 1):
        total, ok = found.get(index, (0, 0))
        series.append({"at": datetime.fromtimestamp(index * step, UTC).isoformat(),
                       "calls": total, "answered": ok,
                       "rate": round(100 * ok / total, 1) if total else None})
    return series


# -- ST-6: call charges, from the legs' Twilio prices (connector.voice.charges) -----------------

#: Legs start at or after their call record, within this (they are looked up around the period).
LEG_WINDOW = timedelta(days=1)
CHARGE_GROUPINGS = ("day", "month")


def money(micros: int, unit: str = "") -> str:
    """Millionths as text, never rounded: 5 decimals as Twilio's prices have (2 for yen),
    more only when the value has them (``13000`` → ``0.01300``; JPY ``1500000`` → ``1.50``)."""
    from decimal import Decimal

    places = 2 if unit == "JPY" else 5
    text = f"{(Decimal(micros) / 1_000_000).quantize(Decimal('0.000001')):f}".rstrip("0")
    whole, _, part = text.partition(".")
    return f"{whole}.{part.ljust(places, '0')}"


def charge_rows(conn: Connection, period: Period, *, direction: str = "",
                number: str = "") -> list[dict[str, Any]]:
    """Per local day, direction, our number and currency: call records started in the period,
    the sum of their legs' charges (millionths), and legs priced and still pending.

    One pass over the legs of the period (``ix_calls_started_at``), each joined to its call
    record by primary key, grouped per call, then per bucket. (Joining the records to a
    grouped legs subquery instead made SQLite loop over both: minutes for a month.)
    """
    dialect = conn.dialect.name
    leg, record = calls.alias("leg"), calls.alias("record")
    where = [record.c.parent_call_sid.is_(None), record.c.started_at >= period.start,
             record.c.started_at < period.end, leg.c.started_at >= period.start,
             leg.c.started_at < period.end + LEG_WINDOW]
    if direction:
        where.append(record.c.direction == direction)
    if number:
        where.append(record.c.our_number == number)
    per_call = select(
        record.c.started_at, record.c.direction, record.c.our_number,
        func.max(leg.c.price_unit).label("unit"),
        func.coalesce(func.sum(leg.c.charge_micros), 0).label("micros"),
        func.sum(case((leg.c.price_status == "priced", 1), else_=0)).label("priced"),
        func.sum(case((leg.c.price_status == "", 1), else_=0)).label("pending"),
    ).select_from(leg.join(record, record.c.call_sid == func.coalesce(
        leg.c.parent_call_sid, leg.c.call_sid))).where(*where).group_by(
        record.c.call_sid, record.c.started_at, record.c.direction,
        record.c.our_number).subquery()
    day = _local_bucket(per_call.c.started_at, dialect, period, 86400)
    query = select(day.label("day"), per_call.c.direction, per_call.c.our_number,
                   per_call.c.unit, func.count().label("calls"),
                   func.sum(per_call.c.micros).label("micros"),
                   func.sum(per_call.c.priced).label("priced"),
                   func.sum(per_call.c.pending).label("pending")).group_by(
        day, per_call.c.direction, per_call.c.our_number, per_call.c.unit)
    return [{"day": _key("day", r.day), "direction": r.direction, "number": r.our_number,
             "unit": r.unit or "", "calls": int(r.calls), "micros": int(r.micros or 0),
             "priced": int(r.priced or 0), "pending": int(r.pending or 0)}
            for r in conn.execute(query)]


def charge_report(conn: Connection, period: Period, *, by: str = "day", direction: str = "",
                  number: str = "") -> dict[str, Any]:
    """ST-6: charges per local day or month, by direction, and per our number, per currency.

    Calls nothing was priced for yet (no currency) count with the main currency (the one of
    most calls): their charge is 0 there and ``pending`` says legs are still waiting.
    """
    if by not in CHARGE_GROUPINGS:
        raise ValueError(f"by: day or month, got {by!r}")
    rows = charge_rows(conn, period, direction=direction, number=number)
    counts: dict[str, int] = {}
    for row in rows:
        if row["unit"]:
            counts[row["unit"]] = counts.get(row["unit"], 0) + row["calls"]
    main = max(counts, key=lambda u: (counts[u], u)) if counts else ""
    units = [main, *sorted(u for u in counts if u != main)]
    keys = _charge_keys(by, period)
    tables = {}
    for unit in units:
        mine = [r for r in rows if (r["unit"] or main) == unit]
        tables[unit] = {"rows": _charge_buckets(by, keys, mine),
                        "numbers": _charge_numbers(mine), "total": _charge_sum(mine)}
    return {"by": by, "main_unit": main, "units": units, "tables": tables}


def _charge_keys(by: str, period: Period) -> list[str]:
    first = period.start.astimezone(period.zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.zone).date()
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return days if by == "day" else list(dict.fromkeys(d[:7] for d in days))


def _charge_sum(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    total = {"calls": 0, "inbound": 0, "outbound": 0, "total": 0, "priced": 0, "pending": 0,
             "inbound_calls": 0, "outbound_calls": 0}
    for row in rows:
        total["calls"] += row["calls"]
        total[f"{row['direction']}_calls"] += row["calls"]
        total[row["direction"]] += row["micros"]
        total["total"] += row["micros"]
        total["priced"] += row["priced"]
        total["pending"] += row["pending"]
    return total


def _charge_buckets(by: str, keys: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    size = 10 if by == "day" else 7
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["day"][:size], []).append(row)
    return [{"key": key, **_charge_sum(grouped.get(key, []))} for key in keys]


def _charge_numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["number"], []).append(row)
    return [{"number": n, **_charge_sum(grouped[n])} for n in sorted(grouped)]
