"""Flows, schedule overrides and announcement audio in the database.

Every change bumps the ``flows`` version (``connector.voice.versions``) in its transaction,
so every process's :class:`~connector.flows.cache.FlowCache` reloads on its next webhook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from voice import numbering
from voice.dialing_rules import check_outbound
from voice.flows import tomlio
from voice.flows.engine import Override
from voice.flows.model import Flow, FlowError, Problem
from voice.numbering import NumberError

from ..auth import accounts
from ..schema import call_flows, flow_audio, flow_overrides, phone_numbers, sms_templates
from ..voice import groups, versions

VERSION_KEY = "flows"


@dataclass(frozen=True)
class StoredFlow:
    flow: Flow
    version: int
    source: str
    created_at: datetime
    created_by: str

    def public(self) -> dict[str, Any]:
        return {"name": self.flow.name, "version": self.version, "entry": self.flow.entry,
                "description": self.flow.description, "nodes": len(self.flow.nodes),
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


def references(conn: Connection) -> tomlio.Known:
    """The check of groups, agents, numbers and audio files a flow names, on this database."""
    def known(kind: str, value: str) -> str:
        if kind == "group" and groups.get_group(conn, value) is None:
            return f"no group named {value!r} (add it with `cti group add`)"
        if kind == "agent" and accounts.find_agent(conn, value) is None:
            return f"no agent with user ID {value!r}"
        if kind == "audio" and get_audio(conn, value) is None:
            return f"no uploaded audio file {value!r} (add it with `cti flow audio add`)"
        if kind == "number":
            return _transfer_problem(value)
        if kind == "caller_id" and value != "called":
            return _caller_id_problem(conn, value)
        if kind == "template" and conn.execute(select(sms_templates.c.name).where(
                sms_templates.c.name == value)).first() is None:
            return f"no SMS template named {value!r} (add it under /api/admin/sms/templates)"
        return ""
    return known


def _transfer_problem(value: str) -> str:
    try:
        destination = numbering.parse_destination(value)
    except NumberError as exc:
        return exc.message_en
    verdict = check_outbound("+81312345678", destination)  # any Japanese caller ID
    return "" if verdict.allowed else verdict.message_en


def _caller_id_problem(conn: Connection, value: str) -> str:
    try:
        e164 = numbering.normalize(value)
    except NumberError as exc:
        return exc.message_en
    found = conn.execute(select(phone_numbers.c.id).where(phone_numbers.c.e164 == e164)).first()
    return "" if found else "must be \"called\" or one of our numbers"


def check_text(conn: Connection, text: str) -> Flow:
    """Parse and check a flow's TOML against this database.

    Raises:
        FlowError: What is wrong, each problem naming its line and node.
    """
    return tomlio.load(text, references(conn))


def import_flow(conn: Connection, text: str, *, now: datetime,
                by: str = "") -> tuple[StoredFlow, bool]:
    """Store ``text`` as the flow's next version; ``(flow, False)`` when it is unchanged."""
    flow = check_text(conn, text)
    canonical = tomlio.dump(flow)
    current = latest(conn, flow.name)
    if current is not None and current.source == canonical:
        return current, False
    version = (current.version if current else 0) + 1
    conn.execute(insert(call_flows).values(name=flow.name, version=version, source=canonical,
                                           created_by=by, created_at=now))
    versions.bump(conn, VERSION_KEY)
    stored = get_flow(conn, flow.name, version)
    assert stored is not None
    return stored, True


def _stored(row: Any) -> StoredFlow:
    return StoredFlow(tomlio.load(row.source), row.version, row.source, row.created_at,
                      row.created_by)


def latest(conn: Connection, name: str) -> StoredFlow | None:
    row = conn.execute(select(call_flows).where(call_flows.c.name == name).order_by(
        call_flows.c.version.desc()).limit(1)).first()
    return _stored(row) if row else None


def get_flow(conn: Connection, name: str, version: int) -> StoredFlow | None:
    row = conn.execute(select(call_flows).where(call_flows.c.name == name,
                                                call_flows.c.version == version)).first()
    return _stored(row) if row else None


def latest_all(conn: Connection) -> dict[str, StoredFlow]:
    newest = select(call_flows.c.name, func.max(call_flows.c.version).label("v")).group_by(
        call_flows.c.name).subquery()
    rows = conn.execute(select(call_flows).join(newest, (newest.c.name == call_flows.c.name)
                                                & (newest.c.v == call_flows.c.version)))
    return {row.name: _stored(row) for row in rows}


def numbers_using(conn: Connection, name: str) -> list[str]:
    """Our numbers whose route or fallback enters the flow ``name``."""
    found = []
    for row in conn.execute(select(phone_numbers.c.e164, phone_numbers.c.route_type,
                                   phone_numbers.c.route_target, phone_numbers.c.fallback_type,
                                   phone_numbers.c.fallback_target)):
        for kind, target in ((row.route_type, row.route_target),
                             (row.fallback_type, row.fallback_target)):
            if kind == "flow" and target.partition(":")[0] == name:
                found.append(row.e164)
                break
    return found


def delete_flow(conn: Connection, name: str) -> bool:
    """Delete every version of the flow.

    Raises:
        FlowError: A number still routes to it (names the numbers).
    """
    using = numbers_using(conn, name)
    if using:
        raise FlowError([Problem("", "flow", f"numbers route to it: {', '.join(using)}; "
                                 "route them elsewhere first")])
    deleted = conn.execute(delete(call_flows).where(call_flows.c.name == name)).rowcount
    conn.execute(delete(flow_overrides).where(flow_overrides.c.flow == name))
    versions.bump(conn, VERSION_KEY)
    return bool(deleted)


# --- overrides -----------------------------------------------------------------------------

def set_override(conn: Connection, flow_name: str, node_id: str, goto: str, until: datetime,
                 *, now: datetime, note: str = "", by: str = "") -> Override:
    """Send calls at schedule node ``node_id`` to ``goto`` until ``until`` (one step).

    Raises:
        FlowError: No such flow, ``node_id`` is not a schedule, ``goto`` is no node, or
            ``until`` is not in the future.
    """
    stored = latest(conn, flow_name)
    problems = []
    if stored is None:
        raise FlowError([Problem("", "flow", f"no flow named {flow_name!r}")])
    node = stored.flow.nodes.get(node_id)
    if node is None or node.kind != "schedule":
        problems.append(Problem(node_id, "node", "must be a schedule node of the flow"))
    if goto not in stored.flow.nodes:
        problems.append(Problem(node_id, "goto", f"no node {goto!r}"))
    if until <= now:
        problems.append(Problem(node_id, "until", "must be in the future"))
    if len(note) > 200:
        problems.append(Problem(node_id, "note", "at most 200 characters"))
    if problems:
        raise FlowError(problems)
    conn.execute(delete(flow_overrides).where(flow_overrides.c.flow == flow_name,
                                              flow_overrides.c.node == node_id))
    conn.execute(insert(flow_overrides).values(flow=flow_name, node=node_id, goto=goto,
                                               until=until, note=note, created_by=by,
                                               created_at=now))
    versions.bump(conn, VERSION_KEY)
    return Override(goto, until, note)


def clear_override(conn: Connection, flow_name: str, node_id: str) -> bool:
    cleared = conn.execute(delete(flow_overrides).where(
        flow_overrides.c.flow == flow_name, flow_overrides.c.node == node_id)).rowcount
    versions.bump(conn, VERSION_KEY)
    return bool(cleared)


def overrides(conn: Connection) -> dict[str, dict[str, Override]]:
    """Every override by flow and node (expired ones too: the engine ignores those)."""
    found: dict[str, dict[str, Override]] = {}
    for row in conn.execute(select(flow_overrides)):
        found.setdefault(row.flow, {})[row.node] = Override(row.goto, row.until, row.note)
    return found


# --- audio ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Audio:
    name: str
    content_type: str
    description: str
    size: int

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "content_type": self.content_type,
                "description": self.description, "size": self.size}


def save_audio(conn: Connection, name: str, content_type: str, description: str, data: bytes,
               *, now: datetime) -> Audio:
    conn.execute(delete(flow_audio).where(flow_audio.c.name == name))
    conn.execute(insert(flow_audio).values(name=name, content_type=content_type,
                                           description=description, size=len(data), data=data,
                                           created_at=now))
    return Audio(name, content_type, description, len(data))


def get_audio(conn: Connection, name: str) -> Audio | None:
    row = conn.execute(select(flow_audio.c.name, flow_audio.c.content_type,
                              flow_audio.c.description, flow_audio.c.size).where(
        flow_audio.c.name == name)).first()
    return Audio(*row) if row else None


def audio_data(conn: Connection, name: str) -> tuple[str, bytes] | None:
    row = conn.execute(select(flow_audio.c.content_type, flow_audio.c.data).where(
        flow_audio.c.name == name)).first()
    return (row.content_type, bytes(row.data)) if row else None


def list_audio(conn: Connection) -> list[Audio]:
    return [Audio(*r) for r in conn.execute(select(
        flow_audio.c.name, flow_audio.c.content_type, flow_audio.c.description,
        flow_audio.c.size).order_by(flow_audio.c.name))]


def delete_audio(conn: Connection, name: str) -> bool:
    return bool(conn.execute(delete(flow_audio).where(flow_audio.c.name == name)).rowcount)


def entry_problem(conn: Connection, target: str) -> str:
    """What is wrong with a number's ``flow:<name>[:<node>]`` target ("" when usable)."""
    name, _, node = target.partition(":")
    stored = latest(conn, name)
    if stored is None:
        return f"no flow named {name!r} (import it with `cti flow import`)"
    if node and node not in stored.flow.nodes:
        return f"flow {name!r} has no node {node!r}"
    return ""
