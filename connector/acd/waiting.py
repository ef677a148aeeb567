"""The waiting callers of each group, in Redis next to the agent board (:mod:`.board`).

Per group, the sorted set ``<prefix>queue:<group id>`` holds the SIDs of the callers waiting,
scored by their priority and when they started waiting: a caller of higher priority (0–9, set
by a call flow's group node, :meth:`WaitingQueues.set_priority`) is always offered before one
of lower priority, and among equals the longest waiting goes first — the lowest score first.
Per caller, the hash ``<prefix>waiter:<call SID>`` keeps ``state`` (``waiting`` → ``offered``
while agents ring for them → back to ``waiting`` if nobody answers; ``leaving`` with a
``reason`` — ``voicemail``, ``timeout`` — or ``gone`` when they hung up), ``score``, ``since``
(when they joined, ms), ``priority``, ``group``, ``number`` and ``step`` (where the call came
from, for the number's fallback), ``announced`` (the queue time of the last announcement) and
``hops`` (overflow / timeout moves, bounded).

Why one script per step: an offer (:data:`OFFER`) checks that the caller still waits, claims
the agents exactly as a routing decision does (:data:`.board.CLAIM_LOOP`) and takes the
caller out of the queue, with nothing else running in between. Two processes that see one
agent become free can therefore never give them two callers, nor one caller two offers; a
caller who hung up (:data:`LEAVE`) is no longer in the set, so no agent is rung for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .board import _AGENTS, CLAIM_LOOP, AgentBoard, NotLoaded

#: How long a caller's hash outlives its last change (a lost hang-up cleans up by itself).
WAITER_TTL_SECONDS = 6 * 3600
#: Priorities a caller may have; higher is offered first.
PRIORITIES = range(0, 10)
#: One priority step in the score, in ms: more than any wait (about 31 years), so priority is
#: strict; scores stay exact integers in Redis's doubles (below 2**53).
PRIORITY_STEP_MS = 10**12

#: KEYS: the queue, the caller's hash. ARGV: call SID, score, max waiting, TTL s, then
#: field/value pairs. Returns the caller's position (1 = next), 0 when the queue is full.
#: A caller already in the queue (a retried webhook) keeps their place.
JOIN = """
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank then return rank + 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'state', 'waiting', 'score', ARGV[2], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return redis.call('ZRANK', KEYS[1], ARGV[1]) + 1
"""

#: KEYS: loaded marker, the queue, the caller's hash, the caller's claim key, the group's
#: key, the board's agents hash. ARGV: call SID, max agents, claim TTL ms, now ms, group id,
#: then the candidates' ids. ``{-1}``: board not loaded; ``{-2}``: the caller no longer
#: waits; else the agents claimed (none: the caller keeps waiting).
OFFER = _AGENTS + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {-2} end
if redis.call('HGET', KEYS[3], 'state') ~= 'waiting' then return {-2} end
local now, max, got, board = tonumber(ARGV[4]), tonumber(ARGV[2]), {}, KEYS[6]
""" + CLAIM_LOOP + """
if #got > 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[3], 'state', 'offered')
  redis.call('SADD', KEYS[4], unpack(got))
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[3]))
  redis.call('HSET', KEYS[5], 'last', got[#got])
end
return got
"""

#: KEYS: the queue, the caller's hash. ARGV: call SID. An offer nobody took: the caller waits
#: again, in their old place. Returns the position, 0 when they are not offered any more.
REQUEUE = """
if redis.call('HGET', KEYS[2], 'state') ~= 'offered' then return 0 end
redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[2], 'score'), ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'waiting')
return redis.call('ZRANK', KEYS[1], ARGV[1]) + 1
"""

#: KEYS: the queue, the caller's hash. ARGV: call SID, new state, reason. Out of the queue;
#: returns the state before ("" when unknown). ``gone`` is final: nothing changes it again.
LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local before = redis.call('HGET', KEYS[2], 'state') or ''
if before == '' or before == 'gone' then return before end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'reason', ARGV[3])
return before
"""


@dataclass(frozen=True)
class Waiter:
    """One caller of the queue, as the hash keeps them."""

    call_sid: str
    state: str
    group_id: int
    score: int
    number: str = ""
    step: str = "route"
    reason: str = ""
    announced: int = -1
    hops: int = 0
    since: int = 0
    priority: int = 0

    @property
    def since_ms(self) -> int:
        """When the caller joined (their score, for hashes written before ``since`` was)."""
        return self.since or self.score


class WaitingQueues:
    """The queues of one deployment (on the board's Redis and key prefix)."""

    def __init__(self, board: AgentBoard) -> None:
        self.board = board
        self.redis = board.redis
        self.prefix = board.prefix
        self._join = self.redis.register_script(JOIN)
        self._offer = self.redis.register_script(OFFER)
        self._requeue = self.redis.register_script(REQUEUE)
        self._leave = self.redis.register_script(LEAVE)

    def queue_key(self, group_id: int) -> str:
        return f"{self.prefix}queue:{group_id}"

    def waiter_key(self, call_sid: str) -> str:
        return f"{self.prefix}waiter:{call_sid}"

    def priority_key(self, call_sid: str) -> str:
        return f"{self.prefix}priority:{call_sid}"

    # -- changes --
    def join(self, call_sid: str, group_id: int, *, now_ms: int, max_waiting: int,
             number: str, step: str, hops: int = 0, priority: int = 0) -> int:
        """Put the caller in the group's queue, behind callers of their priority or higher;
        their position, 0 when full."""
        score = now_ms - priority * PRIORITY_STEP_MS
        fields = ["group", group_id, "number", number, "step", step, "hops", hops,
                  "announced", -1, "reason", "", "since", now_ms, "priority", priority]
        return int(self._join(keys=[self.queue_key(group_id), self.waiter_key(call_sid)],
                              args=[call_sid, score, max_waiting, WAITER_TTL_SECONDS, *fields]))

    def offer(self, call_sid: str, group_id: int, candidates: list[int], *, max_agents: int,
              ttl_ms: int, now_ms: int) -> list[int] | None:
        """Claim agents for a waiting caller; ``None`` when the caller no longer waits.

        Raises:
            NotLoaded: The agent board must be loaded first.
        """
        board = self.board
        keys = [board.loaded_key, self.queue_key(group_id), self.waiter_key(call_sid),
                board.call_key(call_sid), board.group_key(group_id), board.agents_key]
        got = self._offer(keys=keys, args=[call_sid, max_agents, max(ttl_ms, 1000), now_ms,
                                           group_id, *candidates])
        if got and int(got[0]) == -1:
            raise NotLoaded()
        if got and int(got[0]) == -2:
            return None
        return [int(a) for a in got]

    def requeue(self, call_sid: str, group_id: int) -> int:
        return int(self._requeue(keys=[self.queue_key(group_id), self.waiter_key(call_sid)],
                                 args=[call_sid]))

    def leave(self, call_sid: str, group_id: int, state: str, reason: str = "") -> str:
        """Take the caller out (``leaving`` for a reason, or ``gone``); the state before."""
        before = self._leave(keys=[self.queue_key(group_id), self.waiter_key(call_sid)],
                             args=[call_sid, state, reason])
        return before.decode() if isinstance(before, bytes) else str(before or "")

    def set_priority(self, call_sid: str, priority: int) -> None:
        """The caller's priority in every queue they join from now on (a flow's group node
        sets it before routing; it follows the caller through overflow and time-out)."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority: must be 0–9, not {priority!r}")
        self.redis.set(self.priority_key(call_sid), priority, ex=WAITER_TTL_SECONDS)

    def priority_of(self, call_sid: str) -> int:
        value = self.redis.get(self.priority_key(call_sid))
        return int(value) if value else 0

    def note_announced(self, call_sid: str, queue_time: int) -> None:
        self.redis.hset(self.waiter_key(call_sid), "announced", queue_time)

    # -- reading --
    def waiter(self, call_sid: str) -> Waiter | None:
        raw = self.redis.hgetall(self.waiter_key(call_sid))
        if not raw:
            return None
        values = {k.decode(): v.decode() for k, v in raw.items()}
        return Waiter(call_sid, values.get("state", ""), int(values.get("group") or 0),
                      int(values.get("score") or 0), values.get("number", ""),
                      values.get("step", "route"), values.get("reason", ""),
                      int(values.get("announced") or -1), int(values.get("hops") or 0),
                      int(values.get("since") or 0), int(values.get("priority") or 0))

    def position(self, call_sid: str, group_id: int) -> int:
        """1 = the next to be offered; 0 when not waiting."""
        rank = self.redis.zrank(self.queue_key(group_id), call_sid)
        return int(rank) + 1 if rank is not None else 0

    def head(self, group_id: int, count: int = 1) -> list[str]:
        return [s.decode() for s in self.redis.zrange(self.queue_key(group_id), 0, count - 1)]

    def heads(self, group_ids: list[int]) -> dict[int, float]:
        """The score of each group's first caller (groups nobody waits in are left out)."""
        pipe = self.redis.pipeline(transaction=False)
        for group_id in group_ids:
            pipe.zrange(self.queue_key(group_id), 0, 0, withscores=True)
        found = {}
        for group_id, first in zip(group_ids, pipe.execute(), strict=True):
            if first:
                found[group_id] = float(first[0][1])
        return found

    def size(self, group_id: int) -> int:
        return int(self.redis.zcard(self.queue_key(group_id)))
