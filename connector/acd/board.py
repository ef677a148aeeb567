"""The live agent board in Redis: who can take a call, and which call each agent is claimed for.

Why Redis and one script per decision: every web process and worker of a deployment routes
calls at the same time. Each routing decision runs :data:`CLAIM` — one Lua script, which Redis
executes atomically (no other command runs while it does) — that looks at each candidate
agent's live state and marks those it takes as ``ringing`` for that call in the same step. Two
decisions can therefore never both see one agent free: the second sees ``ringing``. A caller
is claimed for at most ``max`` agents and a retried webhook gets the same agents back (the
call's own key remembers them). Every later change of a claimed agent (answer, hang-up,
no-answer) names the call and takes effect only if the agent is still claimed *for that call*,
so a late or repeated callback of an old call cannot free an agent who is ringing for a new
one.

The database stays the record (``agent_presence``, ``agent_status_intervals``): each change is
written there as well, by :mod:`connector.acd.presence_ops`. When Redis lost the board
(restart without persistence, flush) the scripts answer "not loaded" and the board is loaded
once from the database (:meth:`AgentBoard.load`, itself one script that writes only if nobody
loaded it first).

All agents of a deployment live in ONE hash, ``<prefix>agents``: the field is the agent's id,
the value the agent's state packed as nine "|"-separated values (:data:`FIELDS`): ``status``,
``stop`` (stop status id), ``call`` (the claimed call's SID), ``group``, ``until`` (ms; a timed
status such as 後処理 ends then and ``chosen`` — the status the agent last chose — follows),
``chosen``, ``idle`` (ms when the last call ended, for longest-idle), ``day``/``talk`` (talk
milliseconds on that day, for least talk); "" where nothing was set. One hash rather than one
per agent so that a routing decision reads all of a group's members with a single HMGET
(:data:`LIVE`): Redis's cost no longer grows by one command per member. Every script that
changes an agent reads and writes the agent's one value through the same two Lua helpers
(``read``/``write`` in :data:`_AGENTS`), so the packed form is defined once for the scripts
(and :meth:`AgentBoard.live` splits it in the same order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import redis

from ..redis_wire import run_script
from ..schema import PRESENCE_STATUSES

PREFIX = "cti:acd:"

#: The agent's values in their packed form, in this order (see the module docstring).
FIELDS = ("status", "stop", "call", "group", "until", "chosen", "idle", "day", "talk")

# Every script that reads or changes an agent goes through these helpers, so the packed form
# is written in one place. ``read`` answers nil for an agent the board has never seen, else a
# table of the nine values (strings; "" where nothing was set). Values are stored as the
# strings they came as (never Lua numbers, whose tostring would turn 13-digit milliseconds
# into "1.78e+12" beyond 14 digits), and none contains "|" (AgentBoard refuses such SIDs).
_AGENTS = """
local FIELDS = {'status', 'stop', 'call', 'group', 'until', 'chosen', 'idle', 'day', 'talk'}
local function read(board, id)
  local raw = redis.call('HGET', board, id)
  if not raw then return nil end
  local a, i = {}, 1
  for v in string.gmatch(raw .. '|', '([^|]*)|') do
    a[FIELDS[i]] = v
    i = i + 1
  end
  return a
end
local function write(board, id, a)
  local out = {}
  for i, f in ipairs(FIELDS) do out[i] = a[f] or '' end
  redis.call('HSET', board, id, table.concat(out, '|'))
end
-- The status that counts now: a timed status (after-call work, auto-pause) ends at 'until'
-- and the status the agent chose last follows.
local function effective(a, now)
  if not a then return 'offline' end
  local u = tonumber(a['until']) or 0
  if u > 0 and u <= now then
    if a.chosen ~= '' then return a.chosen end
    return 'available'
  end
  return a.status
end
"""

#: The claim itself, shared with the queue's offer (:mod:`.waiting`): the candidates' ids are
#: ``ARGV[6]`` on, the board's hash is ``board``; each free one (up to ``max``) becomes
#: ``ringing`` for call ``ARGV[1]`` of group ``ARGV[5]``. Atomic because the whole script is:
#: the agent read free here is the agent written ringing, with no command in between.
CLAIM_LOOP = """
for i = 6, #ARGV do
  if #got >= max then break end
  local id = ARGV[i]
  local a = read(board, id)
  if a and effective(a, now) == 'available' and a.call == '' then
    a.status, a.call, a.group, a['until'], a.stop = 'ringing', ARGV[1], ARGV[5], '0', ''
    write(board, id, a)
    got[#got + 1] = id
  end
end
"""

#: KEYS: loaded marker, the call's key, the group's key, the board's hash.
#: ARGV: call SID, max agents, claim TTL ms, now ms, group id, then the candidates' ids.
#: Returns ``{-1}`` when the board is not loaded, else the claimed agents' ids.
CLAIM = _AGENTS + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local existing = redis.call('SMEMBERS', KEYS[2])
if #existing > 0 then return existing end
local now, max, got, board = tonumber(ARGV[4]), tonumber(ARGV[2]), {}, KEYS[4]
""" + CLAIM_LOOP + """
if #got > 0 then
  redis.call('SADD', KEYS[2], unpack(got))
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
  redis.call('HSET', KEYS[3], 'last', got[#got])
end
return got
"""

#: KEYS: the board's hash, the call's key. ARGV: call SID, new status, until ms, now ms, talk
#: ms to add, day, whether the call ended a conversation ("1": the idle clock restarts),
#: agent id. Frees the agent from the call; 0 when the agent is not claimed for it (nothing
#: changes).
RELEASE = _AGENTS + """
local a = read(KEYS[1], ARGV[8])
if not a or a.call ~= ARGV[1] then return 0 end
a.status, a.call, a['until'], a.stop = ARGV[2], '', ARGV[3], ''
if ARGV[7] == '1' then a.idle = ARGV[4] end
local add = tonumber(ARGV[5])
if add > 0 then
  if a.day ~= ARGV[6] then a.day, a.talk = ARGV[6], '0' end
  a.talk = string.format('%d', (tonumber(a.talk) or 0) + add)
end
write(KEYS[1], ARGV[8], a)
redis.call('SREM', KEYS[2], ARGV[8])
return 1
"""

#: KEYS: the board's hash, the call's key. ARGV: call SID, status, agent id, "1" to take a
#: free agent for a call they make themselves. The agent's call moves on (answered, held,
#: resumed); 0 when the agent belongs to another call.
OCCUPY = _AGENTS + """
local a = read(KEYS[1], ARGV[3]) or {}
local call = a.call
if call == ARGV[1] or (ARGV[4] == '1' and (not call or call == '')) then
  a.status, a.call, a['until'], a.stop = ARGV[2], ARGV[1], '0', ''
  write(KEYS[1], ARGV[3], a)
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], 86400000)
  return 1
end
return 0
"""

#: KEYS: the loaded marker, the board's hash. ARGV: status, stop id, now ms, "1" to force,
#: agent id. A status the agent (or a supervisor) chose. Refused while the agent is claimed
#: for a call (returns the current status) unless forced — a supervisor, or the device is gone.
CHOOSE = _AGENTS + """
if redis.call('EXISTS', KEYS[1]) == 0 then return '-1' end
local a = read(KEYS[2], ARGV[5])
local current = effective(a, tonumber(ARGV[3]))
local call = a and a.call or ''
local busy = call ~= '' and (current == 'ringing' or current == 'on_call' or current == 'hold')
if busy and ARGV[4] ~= '1' then return current end
a = a or {}
a.status, a.stop, a['until'] = ARGV[1], ARGV[2], '0'
if ARGV[1] ~= 'offline' then a.chosen = ARGV[1] end
if ARGV[4] == '1' then a.call = '' end
if not a.idle or a.idle == '' then a.idle = ARGV[3] end
write(KEYS[2], ARGV[5], a)
return 'ok'
"""

#: KEYS: the board's hash, the placeholder's call key, the real call's key. ARGV: placeholder
#: SID, real SID, agent id, TTL ms. A claim made before the call exists (a campaign reserves
#: the agent, then places the call) moves to the call's real SID; 0 if the agent is no longer
#: claimed for the placeholder.
REKEY = _AGENTS + """
local a = read(KEYS[1], ARGV[3])
if not a or a.call ~= ARGV[1] then return 0 end
a.call = ARGV[2]
write(KEYS[1], ARGV[3], a)
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
return 1
"""

#: KEYS: the board's hash. ARGV: status, until ms, stop id, agent id. A timed status the
#: server sets on a free agent (auto-pause after ring-outs).
TIMED = _AGENTS + """
local a = read(KEYS[1], ARGV[4]) or {}
if a.call and a.call ~= '' then return 0 end
a.status, a['until'], a.stop = ARGV[1], ARGV[2], ARGV[3]
write(KEYS[1], ARGV[4], a)
return 1
"""

#: KEYS: the loaded marker, the board's hash. ARGV: 9 values per agent (see
#: :meth:`AgentBoard.load`).
LOAD = _AGENTS + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV, 9 do
  write(KEYS[2], ARGV[i], {status = ARGV[i + 1], stop = ARGV[i + 2], call = ARGV[i + 3],
                           ['until'] = ARGV[i + 4], chosen = ARGV[i + 5], idle = ARGV[i + 6],
                           group = ARGV[i + 7], day = '', talk = ARGV[i + 8]})
end
redis.call('SET', KEYS[1], '1')
return 1
"""

# The members' live state for a routing decision: one HMGET of the board's hash — a single
# command however large the group, where reading one hash per agent had cost Redis about
# 1.8 µs per member inside the script (bench/routing.py). The packed values go back as they
# are; :meth:`AgentBoard.live` applies a lapsed timed status and the day's talk reset in
# Python, by the same rule as ``effective`` (a split is cheaper there than in Lua). With the
# group's key and the caller's tried set as well (:meth:`AgentBoard.group_view`), the same
# round trip answers the member rung last (round robin) and who already rang for this caller
# — one consistent view instead of three commands.
#: KEYS: loaded marker, the board's hash[, the group's key, the caller's tried set].
#: ARGV: the agents' ids. Returns -1 when the board is not loaded, else each agent's packed
#: value (nil: never seen)[, then the group's last rung agent and the tried agents].
LIVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local rows = {}
if #ARGV > 0 and #ARGV <= 1000 then
  rows = redis.call('HMGET', KEYS[2], unpack(ARGV))
elseif #ARGV > 0 then  -- unpack is bounded by Lua's C stack: larger lists go in slices
  for i = 1, #ARGV, 1000 do
    local part = redis.call('HMGET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    for j = 1, #part do rows[#rows + 1] = part[j] end
  end
end
if #KEYS == 2 then return rows end
return {rows, redis.call('HGET', KEYS[3], 'last'), redis.call('SMEMBERS', KEYS[4])}
"""


#: Redis answers statuses as bytes; the known ones are looked up instead of decoded each time.
_STATUS_TEXT = {s.encode(): s for s in PRESENCE_STATUSES}


class NotLoaded(Exception):
    """The board is empty (Redis restarted); load it from the database and try again."""


class LiveAgent(NamedTuple):
    """One agent as the board sees them (for the ring strategies).

    A named tuple rather than a frozen dataclass: a decision builds one per member, and a
    tuple is made about three times faster (bench/routing.py).
    """

    agent_id: int
    status: str  # effective: a lapsed 後処理 already counts as the chosen status
    call_sid: str
    idle_since_ms: int
    talk_ms_today: int

    @property
    def free(self) -> bool:
        return self.status == "available" and not self.call_sid


@dataclass(frozen=True)
class GroupView:
    """What a routing decision reads of the board for one caller (:meth:`AgentBoard.group_view`)."""

    members: list[LiveAgent]  # in member order
    last_rung: int | None  # the member rung last for the group (round robin)
    tried: set[int]  # agents already rung for this caller


@dataclass(frozen=True)
class Snapshot:
    """What a load writes for one agent."""

    agent_id: int
    status: str
    stop_status_id: int | None
    call_sid: str
    until_ms: int
    chosen: str
    idle_since_ms: int
    group_id: int | None
    talk_ms_today: int = 0


class AgentBoard:
    """The board of one deployment; ``prefix`` separates deployments sharing a Redis."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        self._claim = client.register_script(CLAIM)
        self._release = client.register_script(RELEASE)
        self._occupy = client.register_script(OCCUPY)
        self._choose = client.register_script(CHOOSE)
        self._timed = client.register_script(TIMED)
        self._rekey = client.register_script(REKEY)
        self._load = client.register_script(LOAD)
        self._live = client.register_script(LIVE)

    # -- keys --
    @property
    def agents_key(self) -> str:
        """The hash of every agent's packed state (field: the agent's id)."""
        return f"{self.prefix}agents"

    def call_key(self, call_sid: str) -> str:
        return f"{self.prefix}call:{call_sid}"

    def group_key(self, group_id: int | None) -> str:
        return f"{self.prefix}group:{group_id or 0}"

    @property
    def loaded_key(self) -> str:
        # Not the "<prefix>loaded" of the one-hash-per-agent layout: a Redis that an older
        # release filled has no packed hash yet, so it must count as empty and be loaded
        # from the database, not read as a board on which every agent is signed out.
        return f"{self.prefix}agents:loaded"

    # -- decisions --
    def claim(self, call_sid: str, candidates: Sequence[int], *, max_agents: int, ttl_ms: int,
              now_ms: int, group_id: int | None = None) -> list[int]:
        """Claim up to ``max_agents`` free agents of ``candidates`` (in that order) for the call.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        keys = [self.loaded_key, self.call_key(_sid(call_sid)), self.group_key(group_id),
                self.agents_key]
        args = [call_sid, max_agents, max(ttl_ms, 1000), now_ms, group_id or "", *candidates]
        got = run_script(self._claim, keys, args)  # the ringing path: one bare round trip
        if got and int(got[0]) == -1:
            raise NotLoaded()
        return [int(a) for a in got]

    def release(self, agent_id: int, call_sid: str, *, status: str, until_ms: int = 0,
                now_ms: int, talk_ms: int = 0, day: str = "", conversation: bool = False) -> bool:
        """Free the agent from the call (``status`` next); False if not claimed for it."""
        return bool(self._release(
            keys=[self.agents_key, self.call_key(call_sid)],
            args=[call_sid, status, until_ms, now_ms, talk_ms, day, "1" if conversation else "0",
                  agent_id]))

    def occupy(self, agent_id: int, call_sid: str, status: str, *, take_free: bool = False
               ) -> bool:
        """Move the agent's call on (``on_call``, ``hold``); False if it is not their call."""
        return bool(self._occupy(keys=[self.agents_key, self.call_key(_sid(call_sid))],
                                 args=[call_sid, status, agent_id, "1" if take_free else "0"]))

    def rekey(self, agent_id: int, old_sid: str, new_sid: str, ttl_ms: int) -> bool:
        """Move the agent's claim from ``old_sid`` to ``new_sid`` (:data:`REKEY`)."""
        return bool(self._rekey(keys=[self.agents_key, self.call_key(old_sid),
                                      self.call_key(_sid(new_sid))],
                                args=[old_sid, new_sid, agent_id, ttl_ms]))

    def choose(self, agent_id: int, status: str, stop_status_id: int | None, *, now_ms: int,
               force: bool = False) -> str:
        """Set a chosen status; returns "ok", or the call status that refused it.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        answer = self._choose(keys=[self.loaded_key, self.agents_key],
                              args=[status, stop_status_id or "", now_ms, "1" if force else "0",
                                    agent_id])
        answer = answer.decode() if isinstance(answer, bytes) else str(answer)
        if answer == "-1":
            raise NotLoaded()
        return answer

    def timed(self, agent_id: int, status: str, until_ms: int,
              stop_status_id: int | None = None) -> bool:
        """A server-set status that lapses at ``until_ms`` (to the chosen status)."""
        return bool(self._timed(keys=[self.agents_key],
                                args=[status, until_ms, stop_status_id or "", agent_id]))

    # -- reading --
    def live(self, agent_ids: Iterable[int], now_ms: int) -> list[LiveAgent]:
        """The agents' live state (one round trip, one HMGET), in the given order.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        ids = list(agent_ids)
        got = self._live(keys=[self.loaded_key, self.agents_key], args=ids)
        if got == -1:
            raise NotLoaded()
        return _agents(ids, got, now_ms)

    def group_view(self, member_ids: Sequence[int], now_ms: int, *, group_id: int | None,
                   tried_key: str) -> GroupView:
        """A group's members (as :meth:`live`), the member rung last and the agents in the
        set ``tried_key`` (those already rung for the caller), in one round trip.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        ids = list(member_ids)
        got = run_script(self._live, [self.loaded_key, self.agents_key,
                                      self.group_key(group_id), tried_key], ids)
        if got == -1:
            raise NotLoaded()
        rows, last, tried = got
        return GroupView(_agents(ids, rows, now_ms), int(last) if last else None,
                         {int(a) for a in tried})

    def claimed_for(self, call_sid: str) -> list[int]:
        return sorted(int(a) for a in self.redis.smembers(self.call_key(call_sid)))

    def last_rung(self, group_id: int | None) -> int | None:
        value = self.redis.hget(self.group_key(group_id), "last")
        return int(value) if value else None

    def is_loaded(self) -> bool:
        return bool(self.redis.exists(self.loaded_key))

    def load(self, agents: Iterable[Snapshot]) -> bool:
        """Fill an empty board; False when another process loaded it first."""
        args: list[object] = []
        for a in agents:
            args += [a.agent_id, a.status, a.stop_status_id or "", _sid(a.call_sid), a.until_ms,
                     a.chosen, a.idle_since_ms, a.group_id or "", a.talk_ms_today]
        return bool(self._load(keys=[self.loaded_key, self.agents_key], args=args))

    def forget(self) -> None:
        """Drop the whole board (tests; an operator's reset). It is loaded again on demand."""
        keys = list(self.redis.scan_iter(match=f"{self.prefix}*", count=500))
        if keys:
            self.redis.delete(*keys)


def _agents(ids: list[int], rows: list[bytes | None], now_ms: int) -> list[LiveAgent]:
    """The agents' packed values as :class:`LiveAgent` (the order of :data:`FIELDS`)."""
    today, statuses = day_of(now_ms).encode(), _STATUS_TEXT
    agents = []
    for agent_id, raw in zip(ids, rows, strict=True):
        if raw is None:  # never seen: signed out
            agents.append(LiveAgent(agent_id, "offline", "", 0, 0))
            continue
        status, _, call, _, until, chosen, idle, day, talk = raw.split(b"|")
        if until != b"0" and until and int(until) <= now_ms:  # as the scripts' effective
            status = chosen or b"available"
        agents.append(LiveAgent(agent_id, statuses.get(status) or status.decode(),
                                call.decode() if call else "", int(idle or 0),
                                int(talk or 0) if day == today else 0))
    return agents


def _sid(call_sid: str) -> str:
    """A call SID as the board stores it: "|" separates the packed values, so it is refused
    (Twilio's SIDs are letters and digits; a forged one must not shift an agent's fields).

    Raises:
        ValueError: The SID contains "|".
    """
    if "|" in call_sid:
        raise ValueError(f"call_sid: must not contain '|' ({call_sid[:40]!r})")
    return call_sid


def day_of(now_ms: int) -> str:
    """The calendar day (Japan time, where the centre works) a millisecond time falls on."""
    # Days change at midnight JST (UTC+9); "least talk time today" restarts then.
    return str((now_ms // 1000 + 9 * 3600) // 86400)
