"""Twilio's side of the webhooks: signed requests, TwiML retrieval, errors and fallback.

* Every request carries Twilio's form parameters and an ``X-Twilio-Signature`` over the exact
  absolute URL requested (GET: parameters in the query string, URL signed alone).
* A TwiML fetch that fails — no connection (11205), no answer within 15 s (11205), a non-2xx
  status (11200), a body that is not XML (12100) or not valid TwiML (12102, 12200, 13xxx) —
  is logged in the transcript with its code. If the leg has a fallback URL, that URL is then
  requested with ``ErrorCode`` and ``ErrorUrl``; otherwise (or if the fallback fails too) the
  engine plays Twilio's generic error message and ends the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from voice.signature import SIGNATURE_HEADER, compute_signature
from voice.simulator import facts
from voice.simulator.calls import Fetch, Leg
from voice.simulator.kernel import ProcessGen
from voice.simulator.transcript import ErrorEvent, WebhookRequest
from voice.simulator.transport import TransportResponse
from voice.simulator.twiml import TwimlError, parse

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

Params = Sequence[tuple[str, str]]


class Webhooks:
    """Sends the simulator's requests through the transport and records them."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def send(self, leg: Leg, purpose: str, url: str, method: str,
             params: Params) -> TransportResponse:
        """Send one signed request now and record it in the leg's transcript."""
        method = method.upper()
        params = list(params)
        if method == "GET":
            url = _with_query(url, params)
            params = []
        headers = {
            SIGNATURE_HEADER: compute_signature(url, params or None, self.sim.signing_key()),
            "User-Agent": facts.USER_AGENT,
            "I-Twilio-Idempotency-Token": self.sim.new_idempotency_token(),
        }
        if method == "POST":
            headers["Content-Type"] = facts.FORM_CONTENT_TYPE
        response = self.sim.transport.request(method, url, params, headers)
        elapsed = min(response.elapsed, facts.HTTP_TOTAL_TIMEOUT)
        late = response.timed_out or response.elapsed > facts.HTTP_TOTAL_TIMEOUT
        status = None if late else response.status
        leg.transcript.add(WebhookRequest(
            self.sim.kernel.now(), leg.sid, purpose, method, url, tuple(params), status,
            response.body if status is not None else "", elapsed,
        ))
        return response

    def notify(self, leg: Leg, purpose: str, url: str, method: str, params: Params) -> None:
        """A fire-and-forget callback (status, recording): its answer is not TwiML."""
        failure = _failure(self.send(leg, purpose, url, method, params))
        if failure is not None:
            self._error(leg, facts.ERR_STATUS_CALLBACK_RESPONSE, f"{purpose}: {failure[1]}", url)

    def fetch(self, leg: Leg, fetch: Fetch) -> ProcessGen:
        """Get and validate a TwiML document (generator; returns a ``(Verb, url)`` or None)."""
        document = yield from self._fetch_once(leg, fetch)
        if not isinstance(document, TwimlError):
            return document
        self._error(leg, document.code, document.message, fetch.url)
        fallback = leg.fallback
        if fallback is None or fetch.purpose == "fallback":
            return None
        retry = Fetch(fallback.url, fallback.method,
                      (("ErrorCode", str(document.code)), ("ErrorUrl", fetch.url)),
                      purpose="fallback")
        second = yield from self._fetch_once(leg, retry)
        if isinstance(second, TwimlError):
            self._error(leg, second.code, second.message, retry.url)
            return None
        return second

    def _fetch_once(self, leg: Leg, fetch: Fetch) -> ProcessGen:
        if fetch.twiml is not None:
            try:
                return parse(fetch.twiml), fetch.url
            except TwimlError as exc:
                return exc
        response = self.send(leg, fetch.purpose, fetch.url, fetch.method,
                             leg.params() + list(fetch.params))
        yield self.sim.kernel.timeout(min(response.elapsed, facts.HTTP_TOTAL_TIMEOUT))
        failure = _failure(response)
        if failure is not None:
            return TwimlError(*failure)
        try:
            return parse(response.body), fetch.url
        except TwimlError as exc:
            return exc

    def _error(self, leg: Leg, code: int | None, message: str, url: str) -> None:
        leg.transcript.add(ErrorEvent(self.sim.kernel.now(), leg.sid, code, message, url))


def _failure(response: TransportResponse) -> tuple[int, str] | None:
    if response.timed_out or response.elapsed > facts.HTTP_TOTAL_TIMEOUT:
        return facts.ERR_HTTP_CONNECTION, (
            f"no response within {facts.HTTP_TOTAL_TIMEOUT:.0f} s")
    if response.status is None:
        return facts.ERR_HTTP_CONNECTION, f"HTTP connection failure: {response.error}"
    if not 200 <= response.status < 300:
        return facts.ERR_HTTP_STATUS, f"HTTP retrieval failure: status {response.status}"
    return None


def _with_query(url: str, params: Params) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(list(params))) if q)
    return urlunsplit(parts._replace(query=query))


def resolve(base: str, url: str) -> str:
    """Resolve a TwiML URL against the current document's URL, as Twilio does."""
    return urljoin(base, url.strip())
