"""`cti simulate` against a real HTTP server, and the real-time clock."""

import io
import threading

from tests.fakes.server import LiveServer
from voice.simulator.cli import main
from voice.simulator.kernel import Kernel, RealTimeClock

from .conftest import TOKEN, TwimlServer, twiml


def test_cli_places_an_inbound_call_and_prints_the_transcript():
    server = TwimlServer()
    server.routes["/voice/incoming"] = twiml(
        '<Gather numDigits="1" action="/voice/menu"><Say language="ja-JP">1を押してください'
        '</Say></Gather>')
    server.routes["/voice/menu"] = twiml('<Dial action="/voice/done"><Client>agent_1</Client>'
                                         '</Dial>')
    with LiveServer(server.app()) as live:
        out = io.StringIO()
        status = main(["--voice-url", f"{live.url}/voice/incoming", "--to", "+815012345678",
                       "--digits", "1", "--agent", "agent_1:3:45", "--auth-token", TOKEN],
                      out=out)
    text = out.getvalue()
    assert status == 0, text
    assert "1を押してください" in text and "presses 1" in text
    assert "answered by client:agent_1" in text
    assert all(valid for *_, valid in server.seen)  # signed for the real URL and port


def test_cli_reports_errors_with_a_failing_status():
    server = TwimlServer()
    server.routes["/voice/client"] = lambda v: ("broken", 500)
    with LiveServer(server.app()) as live:
        out = io.StringIO()
        status = main(["--app-url", f"{live.url}/voice/client", "--client", "agent_9",
                       "--param", "To=+81312345678", "--auth-token", TOKEN], out=out)
    assert status == 1
    assert "ERROR 11200" in out.getvalue()
    assert server.seen[0][2]["To"] == "+81312345678"
    assert server.seen[0][2]["From"] == "client:agent_9"


def test_real_time_clock_runs_posted_work_from_other_threads():
    kernel = Kernel(RealTimeClock())
    ran: list[str] = []
    kernel.schedule(0.3, lambda: ran.append("timer"))
    threading.Timer(0.05, lambda: kernel.post(lambda: ran.append("posted"))).start()
    kernel.run()
    assert ran == ["posted", "timer"]
