"""The REST Conference and Participant resources of the simulator (mixed into its client).

* ``conferences.list(friendly_name=, status=)``, ``conferences(sid).fetch()``
* ``conferences(sid_or_name).participants.create(from_=, to=, muted=, beep=, coaching=,
  call_sid_to_coach=, start_conference_on_enter=, end_conference_on_exit=, label=,
  status_callback=, status_callback_event=, timeout=)`` — rings ``to`` and, once answered,
  joins it to the conference (as Twilio does: a new outbound-api call whose TwiML is the
  ``<Conference>``)
* ``participants.list()``, ``participants(call_sid).fetch()``, ``.update(muted=, coaching=,
  call_sid_to_coach=)`` and ``.delete()`` (the participant's call leaves the conference and ends)

Relied on (twilio.com/docs/voice/api/conference-participant): a participant may be added to a
conference by its friendly name; ``Coaching=true`` needs ``CallSidToCoach``, a participant of
the same conference; the coached participant is the only one who hears the coach.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from voice.simulator import facts
from voice.simulator.calls import CallbackConfig, Fetch

if TYPE_CHECKING:
    from voice.simulator.conference import Conference, Participant
    from voice.simulator.engine import Simulator

_ACCOUNT = r"/2010-04-01/Accounts/(?P<account>AC\w+)"
_CONF = _ACCOUNT + r"/Conferences/(?P<sid>[^/]+?)"
ROUTES = [
    ("GET", re.compile(_ACCOUNT + r"/Conferences\.json$"), "list_conferences"),
    ("GET", re.compile(_CONF + r"\.json$"), "fetch_conference"),
    ("POST", re.compile(_CONF + r"/Participants\.json$"), "create_participant"),
    ("GET", re.compile(_CONF + r"/Participants\.json$"), "list_participants"),
    ("GET", re.compile(_CONF + r"/Participants/(?P<call>CA\w+)\.json$"), "fetch_participant"),
    ("POST", re.compile(_CONF + r"/Participants/(?P<call>CA\w+)\.json$"), "update_participant"),
    ("DELETE", re.compile(_CONF + r"/Participants/(?P<call>CA\w+)\.json$"),
     "delete_participant"),
]
_BOOL = {"true": True, "false": False}


class ConferenceRoutes:
    """Handlers of :data:`ROUTES`; ``self`` is the simulator's ``SimulatorHttpClient``."""

    sim: Simulator

    def list_conferences(self, data: dict[str, Any]) -> dict[str, Any]:
        name, status = _one(data, "FriendlyName"), _one(data, "Status")
        items = [self._conference_json(c) for c in self.sim.conferences.by_name.values()
                 if (not name or c.name == name) and (not status or _status(c) == status)]
        return self._page("conferences", items, "Conferences")  # type: ignore[attr-defined]

    def fetch_conference(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        return self._conference_json(self._conference(sid))

    def create_participant(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        from voice.simulator.rest import RestError

        to, from_ = _one(data, "To"), _one(data, "From")
        if not to or not from_:
            raise RestError(facts.REST_MISSING_TO if not to else facts.REST_MISSING_FROM,
                            "Both 'To' and 'From' are required.")
        conf = self.sim.conferences.find(sid)
        if conf is None and sid.startswith("CF"):
            raise RestError(facts.REST_NOT_FOUND, f"Conference {sid} was not found")
        name = conf.name if conf is not None else sid
        coach = self._coach_of(conf, data)
        attrs = {"beep": _one(data, "Beep") or "true", "coach": coach,
                 "endConferenceOnExit": _flag(data, "EndConferenceOnExit", False),
                 "muted": _flag(data, "Muted", False),
                 "participantLabel": _one(data, "Label"),
                 "startConferenceOnEnter": _flag(data, "StartConferenceOnEnter", True)}
        noun = "".join(f" {k}={quoteattr(v)}" for k, v in sorted(attrs.items()) if v)
        twiml = f"<Response><Dial><Conference{noun}>{name}</Conference></Dial></Response>"
        callback = None
        if _one(data, "StatusCallback"):
            events = data.get("StatusCallbackEvent") or ["completed"]
            events = [events] if isinstance(events, str) else list(events)
            callback = CallbackConfig(_one(data, "StatusCallback"), "POST",
                                      frozenset(" ".join(events).split()))
        timeout = int(_one(data, "Timeout") or "60")
        leg = self.sim.create_call(from_, to, Fetch("", twiml=twiml), timeout, callback)
        return {**self._base_json(conf, name), "call_sid": leg.sid,
                "coaching": bool(coach), "call_sid_to_coach": coach or None,
                "muted": attrs["muted"] == "true", "label": attrs["participantLabel"] or None,
                "start_conference_on_enter": attrs["startConferenceOnEnter"] == "true",
                "end_conference_on_exit": attrs["endConferenceOnExit"] == "true",
                "status": "queued"}

    def list_participants(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        conf = self._conference(sid)
        items = [self._participant_json(conf, p) for p in conf.participants]
        return self._page("participants", items,  # type: ignore[attr-defined]
                          f"Conferences/{conf.sid}/Participants")

    def fetch_participant(self, data: dict[str, Any], sid: str, call: str) -> dict[str, Any]:
        conf = self._conference(sid)
        return self._participant_json(conf, self._participant(conf, call))

    def update_participant(self, data: dict[str, Any], sid: str, call: str) -> dict[str, Any]:
        conf = self._conference(sid)
        me = self._participant(conf, call)
        if "Muted" in data:
            me.muted = _one(data, "Muted").lower() == "true"
        if "Coaching" in data or "CallSidToCoach" in data:
            me.coach = self._coach_of(conf, data, current=me.coach)
        return self._participant_json(conf, me)

    def delete_participant(self, data: dict[str, Any], sid: str, call: str) -> None:
        conf = self._conference(sid)
        me = self._participant(conf, call)
        self.sim.kernel.post(lambda: self.sim.hang_up_call(me.leg))

    # --- helpers -------------------------------------------------------------------------
    def _coach_of(self, conf: Conference | None, data: dict[str, Any],
                  current: str = "") -> str:
        from voice.simulator.rest import RestError

        coaching = _one(data, "Coaching").lower()
        target = _one(data, "CallSidToCoach") or (current if coaching != "false" else "")
        if coaching == "false":
            return ""
        if coaching == "true" and not target:
            raise RestError(facts.REST_INVALID_PARAM,
                            "CallSidToCoach is required when Coaching is true.")
        if target and (conf is None or conf.participant(target) is None):
            raise RestError(facts.REST_INVALID_PARAM,
                            f"CallSidToCoach {target} is not a participant of this conference.")
        return target

    def _conference(self, sid: str) -> Conference:
        from voice.simulator.rest import RestError

        conf = self.sim.conferences.find(sid)
        if conf is None:
            raise RestError(facts.REST_NOT_FOUND, f"Conference {sid} was not found")
        return conf

    def _participant(self, conf: Conference, call: str) -> Participant:
        from voice.simulator.rest import RestError

        me = conf.participant(call) if not conf.ended.triggered else None
        if me is None:
            raise RestError(facts.REST_NOT_FOUND, f"Participant {call} was not found")
        return me

    def _base_json(self, conf: Conference | None, name: str) -> dict[str, Any]:
        sid = conf.sid if conf is not None else ""
        return {"account_sid": self.sim.account_sid, "conference_sid": sid or None,
                "hold": False, "date_created": None, "date_updated": None,
                "uri": self._uri(f"Conferences/{sid or name}/Participants.json")}  # type: ignore[attr-defined]

    def _participant_json(self, conf: Conference, p: Participant) -> dict[str, Any]:
        return {**self._base_json(conf, conf.name), "call_sid": p.leg.sid,
                "coaching": bool(p.coach), "call_sid_to_coach": p.coach or None,
                "muted": p.muted, "label": p.label or None,
                "start_conference_on_enter": p.start_on_enter,
                "end_conference_on_exit": p.end_on_exit, "status": "connected",
                "date_created": self._date(p.joined_at),  # type: ignore[attr-defined]
                "uri": self._uri(  # type: ignore[attr-defined]
                    f"Conferences/{conf.sid}/Participants/{p.leg.sid}.json")}

    def _conference_json(self, conf: Conference) -> dict[str, Any]:
        return {"account_sid": self.sim.account_sid, "friendly_name": conf.name,
                "sid": conf.sid, "status": _status(conf), "region": "jp1",
                "date_created": None, "date_updated": None,
                "uri": self._uri(f"Conferences/{conf.sid}.json")}  # type: ignore[attr-defined]


def _status(conf: Conference) -> str:
    if conf.ended.triggered:
        return "completed"
    return "in-progress" if conf.started else "init"


def _flag(data: dict[str, Any], key: str, default: bool) -> str:
    value = _one(data, key).lower()
    return "true" if _BOOL.get(value, default) else "false"


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "" if value is None else str(value)
