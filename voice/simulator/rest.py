"""Twilio's REST API, served in-process from the simulator (like twilio-python's "Holodeck").

``twilio.rest.Client(account_sid, auth_token, http_client=sim.http_client())`` then works
against the simulator for:

* ``calls.create(to=, from_=, url=|twiml=, method=, status_callback=, status_callback_event=,
  status_callback_method=, timeout=, fallback_url=)``
* ``calls(sid).update(url=|twiml=, method=, status="completed"|"canceled")``
* ``calls(sid).fetch()``, ``calls.list()`` — ``price`` is ``null`` until a while after the
  call completed, then the simulated tariff's (:mod:`voice.simulator.tariff`, UNVERIFIED rates)
* ``queues.list()``, ``queues(sid).fetch()``, ``queues(sid).members.list()``
* ``recordings(sid).delete()`` (204; an unknown SID 404, like Twilio)

Responses use Twilio's JSON shapes (snake_case fields, RFC 2822 dates, ``duration`` as a
string) and error format ``{"code", "message", "more_info", "status"}``. Changes take effect in
the engine loop (``Kernel.post``), so the API may be called from inside a webhook handler
that the simulator itself is waiting on — as a real application does.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

from voice.simulator import facts
from voice.simulator.calls import CallbackConfig, Fetch, Leg
from voice.simulator.messaging import MessagingError
from voice.simulator.rest_conferences import ROUTES as CONFERENCE_ROUTES
from voice.simulator.rest_conferences import ConferenceRoutes

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

_ACCOUNT = r"/2010-04-01/Accounts/(?P<account>AC\w+)"
ROUTES = [
    ("POST", re.compile(_ACCOUNT + r"/Calls\.json$"), "create_call"),
    ("GET", re.compile(_ACCOUNT + r"/Calls\.json$"), "list_calls"),
    ("GET", re.compile(_ACCOUNT + r"/Calls/(?P<sid>CA\w+)\.json$"), "fetch_call"),
    ("POST", re.compile(_ACCOUNT + r"/Calls/(?P<sid>CA\w+)\.json$"), "update_call"),
    ("GET", re.compile(_ACCOUNT + r"/Queues\.json$"), "list_queues"),
    ("GET", re.compile(_ACCOUNT + r"/Queues/(?P<sid>QU\w+)\.json$"), "fetch_queue"),
    ("GET", re.compile(_ACCOUNT + r"/Queues/(?P<sid>QU\w+)/Members\.json$"), "list_members"),
    ("POST", re.compile(_ACCOUNT + r"/Messages\.json$"), "create_message"),
    ("GET", re.compile(_ACCOUNT + r"/Messages\.json$"), "list_messages"),
    ("GET", re.compile(_ACCOUNT + r"/Messages/(?P<sid>[SM]M\w+)\.json$"), "fetch_message"),
    ("DELETE", re.compile(_ACCOUNT + r"/Recordings/(?P<sid>RE\w+)\.json$"), "delete_recording"),
    *CONFERENCE_ROUTES,
]


class RestError(Exception):
    def __init__(self, error: tuple[int, int], message: str) -> None:
        super().__init__(message)
        self.code, self.status = error
        self.message = message


class SimulatorHttpClient(ConferenceRoutes, HttpClient):
    """A twilio-python ``HttpClient`` answering from the simulator instead of the network."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.sim = sim

    def request(self, method: str, uri: str, params: Mapping[str, Any] | None = None,
                data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        path = urlsplit(uri).path
        try:
            if auth is None or not self.sim.checks_auth(*auth):
                raise RestError(facts.REST_AUTH_FAILED, "Authentication Error - invalid username")
            for route_method, pattern, handler in ROUTES:
                match = pattern.match(path)
                if match and route_method == method.upper():
                    if match["account"] != self.sim.account_sid:
                        raise RestError(facts.REST_NOT_FOUND, _not_found(path))
                    # GET filters come as query parameters, POST fields as the body.
                    fields = {**dict(params or {}), **dict(data or {})}
                    body = getattr(self, handler)(fields, **_sid(match))
                    if body is None:  # a DELETE
                        return Response(204, "")
                    status = 201 if handler.startswith("create_") else 200
                    return Response(status, json.dumps(body))
            raise RestError(facts.REST_NOT_FOUND, _not_found(path))
        except RestError as exc:
            return Response(exc.status, json.dumps({
                "code": exc.code, "message": exc.message, "status": exc.status,
                "more_info": facts.MORE_INFO_URL.format(code=exc.code)}))

    # --- calls ---------------------------------------------------------------------------
    def create_call(self, data: dict[str, Any]) -> dict[str, Any]:
        to, from_ = _one(data, "To"), _one(data, "From")
        if not to:
            raise RestError(facts.REST_MISSING_TO, "A 'To' phone number is required.")
        if not from_:
            raise RestError(facts.REST_MISSING_FROM, "A 'From' phone number is required.")
        fetch = _fetch(data)
        if fetch is None:
            raise RestError(facts.REST_MISSING_URL, "Either Url, Twiml or ApplicationSid is "
                                                    "required.")
        callback = None
        if _one(data, "StatusCallback"):
            events = data.get("StatusCallbackEvent") or ["completed"]
            events = [events] if isinstance(events, str) else list(events)
            callback = CallbackConfig(_one(data, "StatusCallback"),
                                      (_one(data, "StatusCallbackMethod") or "POST").upper(),
                                      frozenset(" ".join(events).split()))
        fallback = (Fetch(_one(data, "FallbackUrl"), purpose="fallback")
                    if _one(data, "FallbackUrl") else None)
        timeout = _one(data, "Timeout") or "60"
        if not str(timeout).isdigit():
            raise RestError(facts.REST_INVALID_PARAM, f"Invalid Timeout {timeout!r}")
        leg = self.sim.create_call(from_, to, fetch, int(timeout), callback, fallback)
        return self._call_json(leg)

    def update_call(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        leg = self._leg(sid)
        status = _one(data, "Status")
        fetch = _fetch(data)
        if status:
            if status not in ("completed", "canceled"):
                raise RestError(facts.REST_INVALID_PARAM, f"Invalid Status {status!r}")
            if leg.alive:
                self.sim.kernel.post(lambda: self.sim.hang_up_call(leg, status))
        elif fetch is not None:
            if not leg.alive:
                raise RestError(facts.REST_NOT_IN_PROGRESS,
                                "Call is not in-progress. Cannot redirect.")
            self.sim.kernel.post(lambda: self.sim.redirect(leg, fetch))
        return self._call_json(leg)

    def fetch_call(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        return self._call_json(self._leg(sid))

    def list_calls(self, data: dict[str, Any]) -> dict[str, Any]:
        calls = [self._call_json(leg) for leg in reversed(self.sim.legs.values())]
        return self._page("calls", calls, "Calls")

    def _leg(self, sid: str) -> Leg:
        leg = self.sim.legs.get(sid)
        if leg is None:
            raise RestError(facts.REST_NOT_FOUND, _not_found(self._uri(f"Calls/{sid}.json")))
        return leg

    def _call_json(self, leg: Leg) -> dict[str, Any]:
        uri = self._uri(f"Calls/{leg.sid}.json")
        return {
            "account_sid": self.sim.account_sid, "annotation": None, "answered_by": None,
            "api_version": facts.API_VERSION, "caller_name": leg.extra_params.get("CallerName"),
            "date_created": self._date(leg.created_at), "date_updated": self._date(
                leg.ended_at or leg.answered_at or leg.created_at),
            "direction": leg.direction, "duration": str(leg.duration) if not leg.alive else None,
            "end_time": self._date(leg.ended_at), "forwarded_from":
                leg.extra_params.get("ForwardedFrom"), "from": leg.from_,
            "from_formatted": leg.from_, "group_sid": None,
            "parent_call_sid": leg.parent.sid if leg.parent else None,
            "phone_number_sid": None,
            "price": self.sim.tariff.price(leg, self.sim.kernel.now()),
            "price_unit": self.sim.tariff.unit, "queue_time": "0",
            "sid": leg.sid, "start_time": self._date(leg.answered_at or leg.created_at),
            "status": leg.status if leg.status != facts.INITIATED_STATUS else "queued",
            "subresource_uris": {
                "recordings": uri.replace(".json", "/Recordings.json"),
                "notifications": uri.replace(".json", "/Notifications.json"),
            },
            "to": leg.to, "to_formatted": leg.to, "trunk_sid": None, "uri": uri,
        }

    # --- recordings (media: voice/simulator/recordings.py) ---------------------------------
    def delete_recording(self, data: dict[str, Any], sid: str) -> None:
        if not self.sim.delete_recording(sid):
            raise RestError(facts.REST_NOT_FOUND, _not_found(self._uri(f"Recordings/{sid}.json")))

    # --- messages (voice/simulator/messaging.py) ----------------------------------------
    def create_message(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            message = self.sim.messaging.create(_one(data, "To"), _one(data, "From"),
                                                _one(data, "Body"), _one(data, "StatusCallback"))
        except MessagingError as exc:
            raise RestError((exc.code, exc.status), exc.message) from None
        return self.sim.messaging.to_json(message)

    def fetch_message(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        message = self.sim.messaging.messages.get(sid)
        if message is None:
            raise RestError(facts.REST_NOT_FOUND, _not_found(self._uri(f"Messages/{sid}.json")))
        return self.sim.messaging.to_json(message)

    def list_messages(self, data: dict[str, Any]) -> dict[str, Any]:
        items = [self.sim.messaging.to_json(m)
                 for m in reversed(self.sim.messaging.messages.values())]
        return self._page("messages", items, "Messages")

    # --- queues --------------------------------------------------------------------------
    def list_queues(self, data: dict[str, Any]) -> dict[str, Any]:
        queues = [self._queue_json(q.sid) for q in self.sim.queues.by_name.values()]
        return self._page("queues", queues, "Queues")

    def fetch_queue(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        return self._queue_json(sid)

    def list_members(self, data: dict[str, Any], sid: str) -> dict[str, Any]:
        queue = self._queue(sid)
        now = self.sim.kernel.now()
        members = [{
            "call_sid": m.leg.sid, "date_enqueued": self._date(m.enqueued_at),
            "position": i + 1, "queue_sid": queue.sid, "wait_time": int(now - m.enqueued_at),
            "uri": self._uri(f"Queues/{queue.sid}/Members/{m.leg.sid}.json"),
        } for i, m in enumerate(queue.members)]
        return self._page("queue_members", members, f"Queues/{sid}/Members")

    def _queue(self, sid: str) -> Any:
        queue = self.sim.queues.by_sid(sid)
        if queue is None:
            raise RestError(facts.REST_NOT_FOUND, _not_found(self._uri(f"Queues/{sid}.json")))
        return queue

    def _queue_json(self, sid: str) -> dict[str, Any]:
        queue = self._queue(sid)
        return {
            "account_sid": self.sim.account_sid, "average_wait_time": queue.average_wait(),
            "current_size": len(queue.members), "date_created": self._date(queue.created_at),
            "date_updated": self._date(queue.created_at), "friendly_name": queue.name,
            "max_size": queue.max_size, "sid": queue.sid,
            "uri": self._uri(f"Queues/{queue.sid}.json"),
        }

    # --- helpers -------------------------------------------------------------------------
    def _uri(self, tail: str) -> str:
        return f"/{facts.API_VERSION}/Accounts/{self.sim.account_sid}/{tail}"

    def _date(self, seconds: float | None) -> str | None:
        if seconds is None:
            return None
        return self.sim.wall_time(seconds).strftime(facts.TIMESTAMP_FORMAT)

    def _page(self, key: str, items: list[dict[str, Any]], resource: str) -> dict[str, Any]:
        uri = self._uri(f"{resource}.json?PageSize=50&Page=0")
        return {key: items, "end": max(0, len(items) - 1), "first_page_uri": uri,
                "next_page_uri": None, "page": 0, "page_size": 50, "previous_page_uri": None,
                "start": 0, "uri": uri}


def _one(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _fetch(data: Mapping[str, Any]) -> Fetch | None:
    method = (_one(data, "Method") or "POST").upper()
    if _one(data, "Twiml"):
        return Fetch("", method, twiml=_one(data, "Twiml"))
    if _one(data, "Url"):
        return Fetch(_one(data, "Url"), method)
    return None


def _sid(match: re.Match[str]) -> dict[str, str]:
    return {k: v for k, v in match.groupdict().items() if k != "account"}


def _not_found(path: str) -> str:
    return f"The requested resource {path} was not found"
