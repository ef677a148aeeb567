"""Parsing flows from TOML, canonical export, and what `cti flow check` rejects."""

from pathlib import Path

import pytest

from voice.flows import tomlio
from voice.flows.model import FlowError

EXAMPLE = (Path(__file__).resolve().parents[3] / "docs" / "examples" / "main-flow.toml")

HEAD = '[flow]\nname = "t"\nentry = "a"\n'


def problems(text: str, known=None) -> list[str]:
    with pytest.raises(FlowError) as info:
        tomlio.load(text, known)
    return [str(p) for p in info.value.problems]


def test_export_import_export_is_stable():
    flow = tomlio.load(EXAMPLE.read_text())
    text = tomlio.dump(flow)
    again = tomlio.load(text)
    assert again == flow
    assert tomlio.dump(again) == text


def test_every_kind_round_trips():
    text = HEAD + """
[nodes.a]
kind = "set"
values = { lang = "ja", who = "{name}" }
next = "b"

[nodes.b]
kind = "crm"
test = "field"
crm = "kintone"
field = "company"
contains = "商事"
then = "c"
else = "d"

[nodes.c]
kind = "menu"
audio = "menu.wav"
keys = { 1 = "e", "*" = "f", "#" = "d" }
speech = { "営業" = "e" }
retry_say = "もう一度お願いします。"
max_visits = 3
on_limit = "d"

[nodes.d]
kind = "hangup"
say = "ありがとうございました。"
voice = "Polly.Takumi"

[nodes.e]
kind = "transfer"
number = "03-1234-5678"
caller_id = "called"
next = "c"

[nodes.f]
kind = "agent"
agent = "sato"
next = "j"

[nodes.j]
kind = "group"
group = "vip"
priority = 5
next = "h"

[nodes.h]
kind = "lookup"
crm = "kintone"
app = "注文"
field = "電話番号"
save = { item = "商品名" }
then = "i"
else = "g"

[nodes.i]
kind = "update"
crm = "kintone"
app = "入電記録"
key_field = "電話番号"
key = "{caller_e164}"
values = { "件名" = "{item}" }
next = "k"

[nodes.k]
kind = "sms"
body = "{name}様、折り返しご連絡します。"
next = "g"

[nodes.g]
kind = "voicemail"
max_seconds = 120
box = "営業"
notify = ["sales@example.co.jp"]
"""
    flow = tomlio.load(text)
    assert tomlio.load(tomlio.dump(flow)) == flow
    assert flow.node("c").get("keys") == {"#": "d", "*": "f", "1": "e"}
    assert flow.node("j").get("priority") == 5


def test_missing_target_names_node_field_and_line():
    found = problems(HEAD + '\n[nodes.a]\nkind = "announcement"\nsay = "x"\nnext = "nowhere"\n')
    assert found == ["line 5: node 'a', next: no node 'nowhere'"]


def test_unreachable_node():
    found = problems(HEAD + '[nodes.a]\nkind = "hangup"\n[nodes.lost]\nkind = "hangup"\n')
    assert found == ["line 6: node 'lost': unreachable: no path from the entry 'a' leads here"]


def test_loop_without_key_press_is_rejected_with_its_nodes():
    text = HEAD + """[nodes.a]
kind = "announcement"
say = "x"
next = "b"
[nodes.b]
kind = "schedule"
default = "a"
"""
    assert problems(text) == ["line 4: node 'a': endless loop without a key press: a → b; "
                              "add max_visits (and on_limit) to one of these nodes"]


def test_loop_through_a_key_press_or_with_a_limit_is_fine():
    keyed = HEAD + """[nodes.a]
kind = "menu"
say = "1を押してください"
keys = { 1 = "b" }
[nodes.b]
kind = "announcement"
say = "x"
next = "a"
"""
    tomlio.load(keyed)
    silent = keyed.replace('keys = { 1 = "b" }', 'keys = { 1 = "b" }\ndefault = "a"')
    assert "endless loop" in problems(silent)[0]  # a menu falling back to itself on silence
    tomlio.load(silent.replace('kind = "menu"', 'kind = "menu"\nmax_visits = 3'))


@pytest.mark.parametrize(("body", "message"), [
    ('kind = "menu"\nkeys = { 1 = "a" }', "say: a menu needs say"),
    ('kind = "menu"\nsay = "x"\nkeys = { 11 = "a" }', "'11' is not a key"),
    ('kind = "announcement"\nsay = "' + "あ" * 501 + '"', "at most 500"),
    ('kind = "announcement"\nsay = "<speak>x</speak>"', "only SSML breaks"),
    ('kind = "announcement"\nsay = "x"\nvoice = "Polly.Joanna"', "not a Japanese voice"),
    ('kind = "announcement"\nsay = "x"\naudio = "a.wav"', "not both"),
    ('kind = "crm"\ntest = "field"\nthen = "a"\nelse = "a"', "field: needed"),
    ('kind = "teleport"', "'teleport' is not a node kind"),
    ('kind = "voicemail"\nnotify = ["not-an-address"]', "is not an e-mail address"),
    ('kind = "lookup"\ncrm = "kintone"\napp = "x"\nthen = "a"\nelse = "a"', "field: needed"),
    ('kind = "hangup"\ncolour = "red"', "colour: unknown field for a hangup node"),
    ('kind = "menu"\nsay = "x"\nkeys = { 1 = "a" }\ntimeout = 0', "from 1 to 30"),
    ('kind = "sms"\nnext = "a"', "template: give template (an SMS template's name) or body"),
    ('kind = "sms"\nbody = "' + "あ" * 671 + '"\nnext = "a"', "body: at most 670 characters"),
    ('kind = "group"\ngroup = "vip"\npriority = 10',
     "priority: must be a whole number from 0 to 9"),
    ('kind = "schedule"\ndefault = "a"\ntimezone = "Mars/Base"', "not a time zone"),
    ('kind = "schedule"\ndefault = "a"\n[[nodes.a.rules]]\ndays = ["x"]\ngoto = "a"',
     "rule 1: days"),
])
def test_bad_fields(body, message):
    found = problems(HEAD + "[nodes.a]\n" + body + "\n")
    assert any(message in p and "node 'a'" in p for p in found), found


def test_toml_syntax_error_names_the_line():
    found = problems(HEAD + "[nodes.a]\nkind = \n")
    assert found[0].startswith("line 5: flow: not valid TOML")


def test_flow_header_problems():
    assert "flow.name" in problems('[flow]\nname = "Bad Name"\nentry = "a"\n'
                                   '[nodes.a]\nkind = "hangup"\n')[0]
    assert problems('[flow]\nname = "t"\nentry = "zz"\n[nodes.a]\nkind = "hangup"\n')[0] \
        == "line 1: flow, flow.entry: no node 'zz'"


def test_references_are_checked_through_the_callback():
    def known(kind, value):
        return "no group named 'ghost'" if (kind, value) == ("group", "ghost") else ""

    text = HEAD + '[nodes.a]\nkind = "group"\ngroup = "ghost"\n'
    assert problems(text, known) == ["line 4: node 'a', group: no group named 'ghost'"]


def test_the_docs_show_the_example_file_in_full():
    docs = (EXAMPLE.parents[1] / "call-flows.md").read_text(encoding="utf-8")
    assert "```toml\n" + EXAMPLE.read_text(encoding="utf-8") + "```" in docs
