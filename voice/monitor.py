"""Supervisor monitoring (SPEC CF-11): the conference bridge and the supervisor's three modes.

A call of a group with ``bridge = "conference"`` is connected through a Twilio conference named
by the caller's CallSid (:func:`conference_name`): the agent's browser is rung with
``<Dial><Client>`` as for every group; once it answers, the agent's leg is given
:func:`agent_joins` (the group's whisper, then the conference) and the caller's ``<Dial>``
action answers :func:`caller_joins`. Either leaving ends the conference (``endConferenceOnExit``),
so hang-ups, hold and transfer end the other leg exactly as a ``<Dial>`` bridge does.

A supervisor is added with the REST Participant resource; the mode decides what Twilio does
with their audio (twilio.com/docs/voice/api/conference-participant):

* ``monitor`` — ``muted``: they hear both, nobody hears them;
* ``whisper`` — ``coaching`` with ``callSidToCoach`` = the agent's leg: only the agent hears them;
* ``barge`` — a full participant: both hear them.

Pure functions, no Flask; TwiML as exact strings like :mod:`voice.twiml`.
"""

from __future__ import annotations

from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from voice.twiml import Speaker

MODES = ("monitor", "whisper", "barge")
BRIDGES = ("dial", "conference")
#: Shown as the supervisor's participant label (REST ``Label``).
SUPERVISOR_LABEL = "supervisor"


def conference_name(call_sid: str) -> str:
    """The conference of one caller: their CallSid (unique, and known to every webhook)."""
    return call_sid


def _join(response: VoiceResponse, call_sid: str, action_url: str | None,
          recording_callback: str = "") -> None:
    # beep="false": a tone when the other party joins would sound like a fault to the caller.
    dial = response.dial(action=action_url) if action_url else response.dial()
    record: dict[str, str] = {}
    if recording_callback:
        record = {"record": "record-from-start", "recording_status_callback": recording_callback}
    dial.conference(conference_name(call_sid), beep=False, start_conference_on_enter=True,
                    end_conference_on_exit=True, **record)


def caller_joins(call_sid: str, action_url: str, recording_callback: str = "") -> str:
    """The caller's TwiML once their agent has answered: into the call's conference; the
    ``<Dial>`` action hears how it ended, as it would of a ``<Dial><Client>``.

    Args:
        call_sid: The caller's CallSid (the conference's name).
        action_url: The ``<Dial action>``.
        recording_callback: For a recorded number: record the conference (CF-10) and report
            to this URL — it should name the call itself, as the callback of a conference
            recording is about the conference.
    """
    response = VoiceResponse()
    _join(response, call_sid, action_url, recording_callback)
    return str(response)


def agent_joins(call_sid: str, whisper: str = "", speaker: Speaker | None = None) -> str:
    """The agent's leg after answering: the group's whisper (heard by the agent only), then
    the conference."""
    response = VoiceResponse()
    if whisper:
        speaker = speaker or Speaker()
        response.say(whisper, voice=speaker.voice, language=speaker.language)
    _join(response, call_sid, None)
    return str(response)


def participant_options(mode: str, agent_call_sid: str) -> dict[str, Any]:
    """twilio-python keyword arguments of a supervisor's participant in ``mode`` (create and
    update alike: every mode sets all three, so a switch never inherits the last mode's).

    Raises:
        ValueError: An unknown mode, or whisper without the agent's leg.
    """
    if mode not in MODES:
        raise ValueError(f"mode: one of {', '.join(MODES)}, got {mode!r}")
    if mode == "whisper":
        if not agent_call_sid:
            raise ValueError("whisper needs the agent's CallSid")
        return {"muted": False, "coaching": True, "call_sid_to_coach": agent_call_sid}
    return {"muted": mode == "monitor", "coaching": False}


def join_options(mode: str, agent_call_sid: str) -> dict[str, Any]:
    """Everything of a new supervisor participant besides ``from_``/``to``: silent entry,
    and leaving does not end the call."""
    return {**participant_options(mode, agent_call_sid), "beep": "false",
            "start_conference_on_enter": True, "end_conference_on_exit": False,
            "label": SUPERVISOR_LABEL}
