"""Transfer, agent, speech menus, variables, visit limits and SSML breaks, through webhooks."""

from __future__ import annotations

from voice.flows import render
from voice.flows.engine import Gather, Prompt
from voice.simulator import CallerScript, Speech, answers
from voice.twiml import Speaker

from ..voice.conftest import CALLER, MAIN, NUMBER

FLOW = """
[flow]
name = "misc"
entry = "who"

[nodes.who]
kind = "set"
values = { dept = "サポート" }
next = "menu"

[nodes.menu]
kind = "menu"
say = "{dept}です。担当者は1を、外部窓口は2を押すか、お話しください。"
keys = { 1 = "agent", 2 = "outside", 9 = "again" }
speech = { "外部" = "outside" }
retries = 0

[nodes.again]
kind = "announcement"
say = "メニューに戻ります。"
next = "menu"

[nodes.agent]
kind = "agent"
agent = "sato"
next = "bye"

[nodes.outside]
kind = "transfer"
number = "03-5555-0000"
caller_id = "{caller_id}"
next = "bye"

[nodes.bye]
kind = "hangup"
say = "ありがとうございました。"
"""


def setup(env, caller_id: str = "called"):
    env.add_agent("sato")
    env.add_number(MAIN, "none", label="本社")
    env.import_flow(FLOW.replace("{caller_id}", caller_id))
    env.add_number(NUMBER, "flow:misc")


def place(env, **script):
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(**script))
    env.sim.run_until_idle()
    return call


def test_variables_merge_and_agent_node(env):
    setup(env)
    env.sim.on_client("sato", answers(after=2, hangup_after=5))
    call = place(env, digits=["1"])
    assert call.heard[0] == "サポートです。担当者は1を、外部窓口は2を押すか、お話しください。"
    assert call.answered_by == "client:sato"


def test_transfer_shows_the_called_number(env):
    setup(env)
    outside = env.sim.on_number("+81355550000", answers(after=2, hangup_after=5))
    call = place(env, digits=["2"])
    assert call.answered_by == "+81355550000"
    assert outside.rung[0].from_ == NUMBER


def test_transfer_with_another_of_our_numbers(env):
    setup(env, caller_id="03-1234-5678")
    outside = env.sim.on_number("+81355550000", answers(after=2, hangup_after=5))
    place(env, digits=["2"])
    assert outside.rung[0].from_ == MAIN


def test_speech_picks_a_node(env):
    setup(env)
    outside = env.sim.on_number("+81355550000", answers(after=2, hangup_after=5))
    call = place(env, digits=[None], speech=[Speech("外部の窓口をお願いします")])
    assert call.answered_by == "+81355550000" and outside.rung


def test_key_press_loop_returns_to_the_menu(env):
    setup(env)
    env.sim.on_client("sato", answers(after=2, hangup_after=5))
    call = place(env, digits=["9", "1"])
    assert call.heard[1] == "メニューに戻ります。" and call.answered_by == "client:sato"


def test_no_answer_and_no_retries_hangs_up(env):
    setup(env)
    call = place(env, digits=["5"])
    assert call.heard == ["サポートです。担当者は1を、外部窓口は2を押すか、お話しください。"]
    assert call.final_status == "completed"


def test_ssml_breaks_become_break_elements():
    document = render.gather(
        [Prompt(text="お電話<break time=\"500ms\"/>ありがとうございます。")],
        Gather("m", Prompt(text="1を押してください。"), 5, False), "https://x/flow/gather",
        Speaker(), lambda name: name)
    assert ('<Say language="ja-JP" voice="Polly.Mizuki">お電話<break time="500ms" />'
            'ありがとうございます。</Say>') in document
    assert 'actionOnEmptyResult="true"' in document and 'numDigits="1"' in document
