"""TwiML for the softphone's call control: hold with music, resume, transfer (SPEC SP-4, SP-5).

The design needs no conferences (docs/softphone.md, "How hold and transfer work"):

* **Hold**: the customer's leg is redirected (REST) into a queue of its own, ``hold-<CallSid>``,
  whose ``waitUrl`` plays music; the agent's leg ends.
* **Resume**: the agent's browser connects again through the TwiML App with
  ``cti_action=resume`` and gets ``<Dial><Queue>hold-<CallSid></Queue></Dial>``.
* **Direct (cold) transfer**: the customer's leg is redirected to ``<Dial>`` the target (an
  agent's ``<Client>``, a group's routing, or a ``<Number>``); if nobody answers, the action
  puts the caller back on hold for the transferring agent.
* **Hold (warm) transfer**: hold, then the browser connects a consult call
  (``cti_action=consult``) that dials the target; "complete" redirects the target's leg to
  ``<Dial><Queue>hold-<CallSid></Queue></Dial>``, bridging target and caller.

Pure functions returning ``VoiceResponse``; no Flask. Twilio attribute facts: ecosystem.md §4.2.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import VoiceResponse

#: Prefix of the per-call hold queue; Twilio queue names are at most 64 characters.
HOLD_QUEUE_PREFIX = "hold-"
#: How long a transfer target rings before the caller goes back on hold.
TRANSFER_RING_SECONDS = 25
#: What callers hear on hold when no music URL is configured.
HOLD_MESSAGE_JA = "ただいま保留中です。そのままお待ちください。"
TRANSFER_FAILED_JA = "担当者につながりませんでした。そのままお待ちください。"
JA_VOICE = {"language": "ja-JP", "voice": "Polly.Mizuki"}
#: Seconds of silence between spoken hold messages (the waitUrl is then fetched again).
HOLD_MESSAGE_PAUSE = 15


def hold_queue_name(call_sid: str) -> str:
    return HOLD_QUEUE_PREFIX + call_sid


def hold(queue: str, wait_url: str, action_url: str) -> VoiceResponse:
    """The customer's leg waits in its hold queue; ``action_url`` hears how it left."""
    response = VoiceResponse()
    response.enqueue(queue, wait_url=wait_url, action=action_url)
    return response


def hold_music(music_url: str = "") -> VoiceResponse:
    """The hold queue's ``waitUrl`` document; Twilio fetches it again when it ends."""
    response = VoiceResponse()
    if music_url:
        response.play(music_url)
    else:
        response.say(HOLD_MESSAGE_JA, **JA_VOICE)
        response.pause(length=HOLD_MESSAGE_PAUSE)
    return response


def take_from_hold(queue: str) -> VoiceResponse:
    """Bridge the calling leg (the agent's browser, or a transfer target) to the held caller."""
    response = VoiceResponse()
    response.dial().queue(queue)
    return response


def dial_agent(identity: str, parameters: Mapping[str, str], *, action_url: str | None = None,
               timeout: int = TRANSFER_RING_SECONDS) -> VoiceResponse:
    """Ring an agent's softphone with the call's context as ``<Parameter>``\\ s."""
    response = VoiceResponse()
    client = response.dial(action=action_url, timeout=timeout).client()
    client.identity(identity)
    for name, value in parameters.items():
        client.parameter(name=name, value=value)
    return response


def dial_number(e164: str, caller_id: str, *, action_url: str | None = None,
                timeout: int = TRANSFER_RING_SECONDS) -> VoiceResponse:
    """Ring an outside number, showing ``caller_id`` (one of our numbers)."""
    response = VoiceResponse()
    response.dial(action=action_url, caller_id=caller_id, timeout=timeout).number(e164)
    return response


def redirect(url: str) -> VoiceResponse:
    """Continue with another document (a group's routing, for instance)."""
    response = VoiceResponse()
    response.redirect(url, method="POST")
    return response


def back_on_hold(queue: str, wait_url: str, action_url: str) -> VoiceResponse:
    """A transfer nobody answered: tell the caller, then hold again for the first agent."""
    response = VoiceResponse()
    response.say(TRANSFER_FAILED_JA, **JA_VOICE)
    response.enqueue(queue, wait_url=wait_url, action=action_url)
    return response


def hang_up() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def empty() -> VoiceResponse:
    """Nothing more to do (the call ends when its document does)."""
    return VoiceResponse()
