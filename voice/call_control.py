"""TwiML for the softphone's call control: hold with music, resume, transfer (SPEC SP-4, SP-5).

The design needs no conferences (docs/softphone.md, "How hold and transfer work"):

* **Hold**: the customer's leg is redirected (REST) into a queue of its own, ``hold-<CallSid>``,
  whose ``waitUrl`` plays music; the agent's leg ends.
* **Resume**: the agent's browser connects again through the TwiML App with
  ``cti_action=resume`` and gets ``<Dial><Queue>hold-<CallSid></Queue></Dial>``.
* **Direct (cold) transfer**: the customer's leg is redirected to ``<Dial>`` the target (agents'
  ``<Client>``\\ s or a ``<Number>``); if nobody answers, the action puts the caller back on
  hold for the transferring agent.
* **Hold (warm) transfer**: hold, then the browser connects a consult call
  (``cti_action=consult``) that dials the target; "complete" redirects the target's leg to
  ``<Dial><Queue>hold-<CallSid></Queue></Dial>``, bridging target and caller.

Pure functions returning the TwiML document as a string, like :mod:`voice.twiml`; no Flask.
Twilio attribute facts: ecosystem.md §4.2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.twiml.voice_response import VoiceResponse

from voice.twiml import CHILD_STATUS_EVENTS, MAX_DIAL_PARTIES, Speaker

#: Prefix of the per-call hold queue; Twilio queue names are at most 64 characters.
HOLD_QUEUE_PREFIX = "hold-"
#: How long a transfer target rings before the caller goes back on hold.
TRANSFER_RING_SECONDS = 25
#: What callers on hold hear when no music URL is configured, and after a failed transfer.
HOLD_MESSAGE_JA = "ただいま保留中です。そのままお待ちください。"
TRANSFER_FAILED_JA = "担当者につながりませんでした。そのままお待ちください。"
#: Seconds of silence between spoken hold messages (the waitUrl is then fetched again).
HOLD_MESSAGE_PAUSE = 15
DEFAULT_SPEAKER = Speaker()


def hold_queue_name(call_sid: str) -> str:
    return HOLD_QUEUE_PREFIX + call_sid


def hold(queue: str, wait_url: str, action_url: str) -> str:
    """The customer's leg waits in its hold queue; ``action_url`` hears how it left."""
    response = VoiceResponse()
    response.enqueue(queue, wait_url=wait_url, action=action_url)
    return str(response)


def hold_music(music_url: str = "", speaker: Speaker = DEFAULT_SPEAKER) -> str:
    """The hold queue's ``waitUrl`` document; Twilio fetches it again when it ends."""
    response = VoiceResponse()
    if music_url:
        response.play(music_url)
    else:
        response.say(HOLD_MESSAGE_JA, voice=speaker.voice, language=speaker.language)
        response.pause(length=HOLD_MESSAGE_PAUSE)
    return str(response)


def take_from_hold(queue: str) -> str:
    """Bridge the calling leg (the agent's browser, or a transfer target) to the held caller."""
    response = VoiceResponse()
    response.dial().queue(queue)
    return str(response)


def dial_agents(identities: Sequence[str], parameters: Mapping[str, str], *,
                action_url: str | None = None, status_callback: str | None = None,
                timeout: int = TRANSFER_RING_SECONDS) -> str:
    """Ring agents' softphones at once with the call's context as ``<Parameter>``\\ s.

    Args:
        identities: Client identities, at most ten (Twilio rings ten nouns at once).
        parameters: What each softphone receives.
        action_url: The ``<Dial>`` action (how the transfer ended).
        status_callback: Where the rung legs report (so the call record learns of them).
        timeout: Seconds to ring.

    Raises:
        ValueError: No identity, or more than Twilio rings at once.
    """
    if not 1 <= len(identities) <= MAX_DIAL_PARTIES:
        raise ValueError(f"ring between 1 and {MAX_DIAL_PARTIES} agents, got {len(identities)}")
    response = VoiceResponse()
    dial = response.dial(action=action_url, timeout=timeout)
    for identity in identities:
        client = dial.client(status_callback=status_callback,
                             status_callback_event=CHILD_STATUS_EVENTS if status_callback
                             else None)
        client.identity(identity)
        for name, value in parameters.items():
            client.parameter(name=name, value=value)
    return str(response)


def dial_number(e164: str, caller_id: str, *, action_url: str | None = None,
                status_callback: str | None = None,
                timeout: int = TRANSFER_RING_SECONDS) -> str:
    """Ring an outside number, showing ``caller_id`` (one of our numbers)."""
    response = VoiceResponse()
    response.dial(action=action_url, caller_id=caller_id, timeout=timeout).number(
        e164, status_callback=status_callback,
        status_callback_event=CHILD_STATUS_EVENTS if status_callback else None)
    return str(response)


def back_on_hold(queue: str, wait_url: str, action_url: str,
                 speaker: Speaker = DEFAULT_SPEAKER) -> str:
    """A transfer nobody answered: tell the caller, then hold again for the first agent."""
    response = VoiceResponse()
    response.say(TRANSFER_FAILED_JA, voice=speaker.voice, language=speaker.language)
    response.enqueue(queue, wait_url=wait_url, action=action_url)
    return str(response)
