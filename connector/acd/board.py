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

Per agent, the hash ``<prefix>agent:<id>`` holds ``status``, ``stop`` (stop status id), ``call``
(the claimed call's SID), ``group``, ``until`` (ms; a timed status such as 後処理 ends then and
``chosen`` — the status the agent last chose — follows), ``idle`` (ms since the last call
ended, for longest-idle), ``day``/``talk`` (talk milliseconds on that day, for least talk).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis

from ..schema import PRESENCE_STATUSES

PREFIX = "cti:acd:"

_EFFECTIVE = """
local function effective(k, now)
  local st = redis.call('HGET', k, 'status')
  if not st then return 'offline' end
  local u = tonumber(redis.call('HGET', k, 'until') or '0') or 0
  if u > 0 and u <= now then return redis.call('HGET', k, 'chosen') or 'available' end
  return st
end
"""

#: KEYS: loaded marker, the call's key, the group's key, then one key per candidate.
#: ARGV: call SID, max agents, claim TTL ms, now ms, group id, then the candidates' ids.
#: Returns ``{-1}`` when the board is not loaded, else the claimed agents' ids.
#: The claim itself, shared with the queue's offer (:mod:`.waiting`): candidates' keys from
#: ``KEYS[first]``, their ids from ``ARGV[6]``; each free one (up to ``max``) becomes
#: ``ringing`` for call ``ARGV[1]`` of group ``ARGV[5]``.
CLAIM_LOOP = """
for i = first, #KEYS do
  if #got >= max then break end
  local k = KEYS[i]
  local call = redis.call('HGET', k, 'call')
  if effective(k, now) == 'available' and (not call or call == '') then
    redis.call('HSET', k, 'status', 'ringing', 'call', ARGV[1], 'group', ARGV[5], 'until', 0,
               'stop', '')
    got[#got + 1] = ARGV[i - first + 6]
  end
end
"""

CLAIM = _EFFECTIVE + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local existing = redis.call('SMEMBERS', KEYS[2])
if #existing > 0 then return existing end
local now, max, got = tonumber(ARGV[4]), tonumber(ARGV[2]), {}
local first = 4
""" + CLAIM_LOOP + """
if #got > 0 then
  redis.call('SADD', KEYS[2], unpack(got))
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
  redis.call('HSET', KEYS[3], 'last', got[#got])
end
return got
"""

#: KEYS: the agent's key, the call's key. ARGV: call SID, new status, until ms, now ms,
#: talk ms to add, day, whether the call ended a conversation ("1": the idle clock restarts).
#: Frees the agent from the call; 0 when the agent is not claimed for it (nothing changes).
RELEASE = """
if redis.call('HGET', KEYS[1], 'call') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'call', '', 'until', ARGV[3], 'stop', '')
if ARGV[7] == '1' then redis.call('HSET', KEYS[1], 'idle', ARGV[4]) end
local add = tonumber(ARGV[5])
if add > 0 then
  if redis.call('HGET', KEYS[1], 'day') ~= ARGV[6] then
    redis.call('HSET', KEYS[1], 'day', ARGV[6], 'talk', 0)
  end
  redis.call('HINCRBY', KEYS[1], 'talk', add)
end
redis.call('SREM', KEYS[2], ARGV[8])
return 1
"""

#: KEYS: the agent's key, the call's key. ARGV: call SID, status, agent id, "1" to take a free
#: agent for a call they make themselves. The agent's call moves on (answered, held, resumed);
#: 0 when the agent belongs to another call.
OCCUPY = """
local call = redis.call('HGET', KEYS[1], 'call')
if call == ARGV[1] or (ARGV[4] == '1' and (not call or call == '')) then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'call', ARGV[1], 'until', 0, 'stop', '')
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], 86400000)
  return 1
end
return 0
"""

#: KEYS: the loaded marker, the agent's key. ARGV: status, stop id, now ms, "1" to force.
#: A status the agent (or a supervisor) chose. Refused while the agent is claimed for a call
#: (returns the current status) unless forced — a supervisor, or the device is gone.
CHOOSE = _EFFECTIVE + """
if redis.call('EXISTS', KEYS[1]) == 0 then return '-1' end
local now = tonumber(ARGV[3])
local current = effective(KEYS[2], now)
local call = redis.call('HGET', KEYS[2], 'call')
local busy = call and call ~= '' and (current == 'ringing' or current == 'on_call'
                                      or current == 'hold')
if busy and ARGV[4] ~= '1' then return current end
redis.call('HSET', KEYS[2], 'status', ARGV[1], 'stop', ARGV[2], 'until', 0)
if ARGV[1] ~= 'offline' then redis.call('HSET', KEYS[2], 'chosen', ARGV[1]) end
if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'call', '') end
if not redis.call('HGET', KEYS[2], 'idle') then redis.call('HSET', KEYS[2], 'idle', now) end
return 'ok'
"""

# A claim made before the call exists (a campaign reserves the agent, then places the call)
# moves to the call's real SID; 0 if the agent is no longer claimed for the placeholder.
REKEY = """
if redis.call('HGET', KEYS[1], 'call') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'call', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
return 1
"""
#: KEYS: the agent's key. ARGV: status, until ms, stop id. A timed status the server sets on
#: a free agent (auto-pause after ring-outs).
TIMED = """
local call = redis.call('HGET', KEYS[1], 'call')
if call and call ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'until', ARGV[2], 'stop', ARGV[3])
return 1
"""

#: KEYS: the loaded marker. ARGV: 9 values per agent (see :meth:`AgentBoard.load`).
LOAD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV, 9 do
  redis.call('HSET', ARGV[i], 'status', ARGV[i + 1], 'stop', ARGV[i + 2], 'call', ARGV[i + 3],
             'until', ARGV[i + 4], 'chosen', ARGV[i + 5], 'idle', ARGV[i + 6],
             'group', ARGV[i + 7], 'day', '', 'talk', ARGV[i + 8])
end
redis.call('SET', KEYS[1], '1')
return 1
"""

# The members' live state in one command, decided where the data is: Redis applies a lapsed
# timed status (as ``effective`` does) and the day's talk-time reset, and answers four values
# per agent (two of them integers). Parsing seven strings per agent in Python had made the
# members' state cost more than the rest of a decision for a group of 25 (bench/routing.py).
#: KEYS: loaded marker, then one key per agent. ARGV: now ms, today (:func:`day_of`).
#: Returns -1 when the board is not loaded, else status, call, idle ms, talk ms per agent.
LIVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local now, today, out = tonumber(ARGV[1]), ARGV[2], {}
for i = 2, #KEYS do
  local row = redis.call('HMGET', KEYS[i], 'status', 'until', 'chosen', 'call', 'idle', 'day',
                         'talk')
  local status = row[1] or 'offline'
  local u = tonumber(row[2] or '0') or 0
  if row[1] and u > 0 and u <= now then status = row[3] or 'available' end
  local talk = 0
  if row[6] == today then talk = tonumber(row[7] or '0') or 0 end
  out[#out + 1] = status
  out[#out + 1] = row[4] or ''
  out[#out + 1] = tonumber(row[5] or '0') or 0
  out[#out + 1] = talk
end
return out
"""


#: Redis answers statuses as bytes; the known ones are looked up instead of decoded each time.
_STATUS_TEXT = {s.encode(): s for s in PRESENCE_STATUSES}


class NotLoaded(Exception):
    """The board is empty (Redis restarted); load it from the database and try again."""


@dataclass(frozen=True)
class LiveAgent:
    """One agent as the board sees them (for the ring strategies)."""

    agent_id: int
    status: str  # effective: a lapsed 後処理 already counts as the chosen status
    call_sid: str
    idle_since_ms: int
    talk_ms_today: int

    @property
    def free(self) -> bool:
        return self.status == "available" and not self.call_sid


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
    def agent_key(self, agent_id: int) -> str:
        return f"{self.prefix}agent:{agent_id}"

    def call_key(self, call_sid: str) -> str:
        return f"{self.prefix}call:{call_sid}"

    def group_key(self, group_id: int | None) -> str:
        return f"{self.prefix}group:{group_id or 0}"

    @property
    def loaded_key(self) -> str:
        return f"{self.prefix}loaded"

    # -- decisions --
    def claim(self, call_sid: str, candidates: Sequence[int], *, max_agents: int, ttl_ms: int,
              now_ms: int, group_id: int | None = None) -> list[int]:
        """Claim up to ``max_agents`` free agents of ``candidates`` (in that order) for the call.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        keys = [self.loaded_key, self.call_key(call_sid), self.group_key(group_id),
                *(self.agent_key(a) for a in candidates)]
        args = [call_sid, max_agents, max(ttl_ms, 1000), now_ms, group_id or "",
                *candidates]
        got = self._claim(keys=keys, args=args)
        if got and int(got[0]) == -1:
            raise NotLoaded()
        return [int(a) for a in got]

    def release(self, agent_id: int, call_sid: str, *, status: str, until_ms: int = 0,
                now_ms: int, talk_ms: int = 0, day: str = "", conversation: bool = False) -> bool:
        """Free the agent from the call (``status`` next); False if not claimed for it."""
        return bool(self._release(
            keys=[self.agent_key(agent_id), self.call_key(call_sid)],
            args=[call_sid, status, until_ms, now_ms, talk_ms, day, "1" if conversation else "0",
                  agent_id]))

    def occupy(self, agent_id: int, call_sid: str, status: str, *, take_free: bool = False
               ) -> bool:
        """Move the agent's call on (``on_call``, ``hold``); False if it is not their call."""
        return bool(self._occupy(keys=[self.agent_key(agent_id), self.call_key(call_sid)],
                                 args=[call_sid, status, agent_id, "1" if take_free else "0"]))

    def rekey(self, agent_id: int, old_sid: str, new_sid: str, ttl_ms: int) -> bool:
        """Move the agent's claim from ``old_sid`` to ``new_sid`` (:data:`REKEY`)."""
        return bool(self._rekey(keys=[self.agent_key(agent_id), self.call_key(old_sid),
                                      self.call_key(new_sid)],
                                args=[old_sid, new_sid, agent_id, ttl_ms]))

    def choose(self, agent_id: int, status: str, stop_status_id: int | None, *, now_ms: int,
               force: bool = False) -> str:
        """Set a chosen status; returns "ok", or the call status that refused it.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        answer = self._choose(keys=[self.loaded_key, self.agent_key(agent_id)],
                              args=[status, stop_status_id or "", now_ms, "1" if force else "0"])
        answer = answer.decode() if isinstance(answer, bytes) else str(answer)
        if answer == "-1":
            raise NotLoaded()
        return answer

    def timed(self, agent_id: int, status: str, until_ms: int,
              stop_status_id: int | None = None) -> bool:
        """A server-set status that lapses at ``until_ms`` (to the chosen status)."""
        return bool(self._timed(keys=[self.agent_key(agent_id)],
                                args=[status, until_ms, stop_status_id or ""]))

    # -- reading --
    def live(self, agent_ids: Iterable[int], now_ms: int) -> list[LiveAgent]:
        """The agents' live state (one round trip), in the given order.

        Raises:
            NotLoaded: The board must be loaded first.
        """
        ids = list(agent_ids)
        got = self._live(keys=[self.loaded_key, *(self.agent_key(a) for a in ids)],
                         args=[now_ms, _day(now_ms)])
        if got == -1:
            raise NotLoaded()
        statuses = _STATUS_TEXT
        return [LiveAgent(agent_id, statuses.get(got[n]) or got[n].decode(),
                          got[n + 1].decode(), got[n + 2], got[n + 3])
                for agent_id, n in zip(ids, range(0, 4 * len(ids), 4), strict=True)]

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
            args += [self.agent_key(a.agent_id), a.status, a.stop_status_id or "", a.call_sid,
                     a.until_ms, a.chosen, a.idle_since_ms, a.group_id or "", a.talk_ms_today]
        return bool(self._load(keys=[self.loaded_key], args=args))

    def forget(self) -> None:
        """Drop the whole board (tests; an operator's reset). It is loaded again on demand."""
        keys = list(self.redis.scan_iter(match=f"{self.prefix}*", count=500))
        if keys:
            self.redis.delete(*keys)


def _day(now_ms: int) -> str:
    return day_of(now_ms)


def day_of(now_ms: int) -> str:
    """The calendar day (Japan time, where the centre works) a millisecond time falls on."""
    # Days change at midnight JST (UTC+9); "least talk time today" restarts then.
    return str((now_ms // 1000 + 9 * 3600) // 86400)
