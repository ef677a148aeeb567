"""A discrete-event simulator of Twilio Programmable Voice, for tests and ``cti simulate``.

See ``docs/simulator.md``. The public API is re-exported here.
"""

from voice.simulator.engine import NumberConfig, Simulator
from voice.simulator.kernel import Clock, RealTimeClock, SimulationLimitError, VirtualClock
from voice.simulator.parties import (
    CallerScript,
    Endpoint,
    GatherPrompt,
    Party,
    Press,
    RecordInput,
    RingingCall,
    ScriptedEndpoint,
    Speech,
    answers,
    busy,
    no_answer,
    reject,
)
from voice.simulator.tariff import Tariff
from voice.simulator.transcript import Transcript
from voice.simulator.transport import HTTPTransport, Transport, TransportResponse, WSGITransport
from voice.simulator.twiml import TwimlError

__all__ = [
    "CallerScript", "Clock", "Endpoint", "GatherPrompt", "HTTPTransport", "NumberConfig",
    "Party", "Press", "RealTimeClock", "RecordInput", "RingingCall", "ScriptedEndpoint",
    "SimulationLimitError", "Simulator", "Speech", "Tariff", "Transcript", "Transport",
    "TransportResponse", "TwimlError", "VirtualClock", "WSGITransport", "answers", "busy",
    "no_answer", "reject",
]
