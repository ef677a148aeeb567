"""Every ``cti`` command the documentation shows, run as a reader would run it.

The shell blocks (```sh, ```bash, ```console) of README.md and docs/*.md are read; each block
is one example and runs in a fresh directory of its own, with its own configuration on embedded
defaults (``CTI_CONFIG``), in the order written — later commands of a block may rely on earlier
ones, as a reader's would. A block with ``cti simulate`` runs against a real ``cti serve``
started in that directory (so with the demo accounts, customers and number of a fresh install);
the other blocks get ``cti db upgrade`` first. Commands run in-process through the CLI (the
server is a real process). Each must exit 0; a ``cti simulate`` must also send the call where
the docs say (:data:`EXPECTED`).

What the reader is told to do by hand (``# sign in as sato …``) is done through the API
(:data:`MANUAL_STEPS`); what a block assumes exists is created first (:data:`PREREQUISITES`);
files a command reads are written first (:data:`FILES`); ``127.0.0.1:5000`` becomes the test
server's address. Commands that need an account elsewhere or never end are listed in
:data:`SKIPPED` with the reason — and a command that is neither run nor skipped cannot exist:
new examples are run as soon as they are written.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from connector.cli import cli
from tests.softphone.browser.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_FENCE = re.compile(r"^\s*```(?:sh|bash|shell|console)\s*$")
PASSWORD = "Correct-horse-42"
_SHELL_SPECIAL = re.compile(r"[\s'\"\\$`*?;&|<>()#!]")
#: What is typed when a command asks (twice: the confirmation); ``user passwd`` needs a new one,
#: because the policy refuses the previous password; ``user pin`` asks for a PIN.
TYPED = {("user", "passwd"): "Battery-staple-77", ("user", "pin"): "2580"}

#: Commands not run, each with the reason (file, command as written without its comment).
SKIPPED: dict[tuple[str, str], str] = {
    ("README.md", "/opt/cti/bin/cti worker"):
        "runs until stopped; tests/connector/test_cli.py::test_worker_* run real workers",
}

#: Accounts and records a block takes for granted, created before it runs.
PREREQUISITES: dict[tuple[str, str], list[list[str]]] = {
    # "the agents sato, ito and kato exist already" (docs/voice.md, numbers and groups).
    ("docs/voice.md", "cti group add support --name サポート --members sato,ito,kato"): [
        ["user", "add", name, "--name", name, "--password-stdin"]
        for name in ("sato", "ito", "kato")],
}

#: Configuration a guide assumes of the deployment it talks about ([server] lines).
SERVER_CONFIG: dict[str, str] = {
    # The call-center file is for Salesforce, which loads the softphone only over https.
    "docs/salesforce.md": 'public_base_url = "https://cti.example.com"',
}

#: Files the examples read, written into the block's directory first.
FILES: dict[str, str] = {
    "顧客一覧.csv": "氏名,フリガナ,会社名,電話番号,携帯,タグ,備考\n"
                   "山田 太郎,ヤマダ タロウ,山田商事,03-1234-5678,090-1234-5678,VIP,初回\n",
    "restrict.csv": "number,note\n0570*,ナビダイヤル\n",
    # docs/call-flows.md shows this file in full (tests/voice/flows checks that it does).
    "main.toml": (ROOT / "docs" / "examples" / "main-flow.toml").read_text(encoding="utf-8"),
}

#: For each ``cti simulate`` example: text its transcript must contain (where the call went).
EXPECTED: dict[tuple[str, str], list[str]] = {
    ("docs/simulator.md", "cti simulate --agent agent1:3:60"): ["answered by client:agent1"],
    ("docs/simulator.md", "cti simulate --voice-url http://127.0.0.1:5000/twilio/voice/inbound "
                          "--to 050-1234-5678 --no-answer agent1"): ["/twilio/voice/voicemail"],
    ("docs/simulator.md", "cti simulate --app-url http://127.0.0.1:5000/twilio/voice/outbound "
                          "--client agent1 --param To=03-1234-5678 --agent +81312345678:2:30"):
        ["answered by +81312345678"],
    ("docs/voice.md", "cti simulate --agent sato:3:30"): ["answered by client:sato"],
    ("docs/call-flows.md", "cti simulate --at 2026-12-07T10:00+09:00 --digits 2 "
                      "--agent agent1:3:30"): ["answered by client:agent1"],
    ("docs/call-flows.md", "cti simulate --at 2026-12-31T10:00+09:00"):
        ["本日の営業は終了いたしました", "/twilio/voice/flow/voicemail"],
    ("docs/voice.md", "cti simulate --to 050-1234-5678 --no-answer sato"):
        ["/twilio/voice/voicemail"],
    ("docs/voice.md", "cti simulate --client sato --param To=090-1111-2222 "
                      "--agent +819011112222:2:20"): ["answered by +819011112222"],
    ("docs/voice.md", "cti simulate --client sato --param To=0570-000-111"):
        ["ナビダイヤル（0570）には発信できません"],
}


@dataclass
class Command:
    doc: str
    line: int
    text: str  # as written, continuation lines joined, the comment removed (:func:`_join`)
    argv: list[str]


@dataclass
class Block:
    doc: str
    line: int
    steps: list[Command | str] = field(default_factory=list)  # commands and comment lines

    @property
    def commands(self) -> list[Command]:
        return [step for step in self.steps if isinstance(step, Command)]

    @property
    def needs_server(self) -> bool:
        return any(c.argv[:1] == ["simulate"] for c in self.commands)


def read_blocks(path: Path) -> list[Block]:
    """The shell blocks of one document that show at least one ``cti`` command."""
    doc = str(path.relative_to(ROOT))
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        if not SHELL_FENCE.match(lines[index]):
            index += 1
            continue
        block = Block(doc, index + 1)
        index += 1
        while index < len(lines) and not lines[index].strip().startswith("```"):
            start, text = index, lines[index]
            while text.endswith("\\") and index + 1 < len(lines):
                index += 1
                text = text[:-1] + " " + lines[index].strip()
            _add_step(block, start + 1, text.strip())
            index += 1
        if block.commands:
            blocks.append(block)
        index += 1
    return blocks


def _add_step(block: Block, line: int, text: str) -> None:
    if text.startswith("#"):
        block.steps.append(text)
        return
    words = shlex.split(text, comments=True)
    # README.md's production deployment runs the wheel installed in /opt/cti.
    if words and words[0] in ("cti", ".venv/bin/cti", "/opt/cti/bin/cti"):
        block.steps.append(Command(block.doc, line, _join(words), words[1:]))


def _join(words: list[str]) -> str:
    """Like ``shlex.join``, but Japanese words stay unquoted (as the docs write them)."""
    return " ".join(shlex.quote(w) if _SHELL_SPECIAL.search(w) else w for w in words)


ALL_BLOCKS = [block for path in DOC_FILES for block in read_blocks(path)]


def _key(command: Command) -> tuple[str, str]:
    return command.doc, command.text


def _block_id(block: Block) -> str:
    return f"{block.doc}:{block.line}"


# -- what the examples expect of their surroundings ------------------------------------------

class Site:
    """A fresh directory with its configuration and, when the block needs one, a server."""

    def __init__(self, tmp_path: Path, port: int, server_config: str = "") -> None:
        self.dir = tmp_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config = tmp_path / "cti.toml"
        self.config.write_text(f'[server]\ndata_dir = "{tmp_path / "var"}"\nport = {port}\n'
                               f'secret_key = "{"s" * 40}"\n{server_config}\n',
                               encoding="utf-8")
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("CTI_", "TWILIO_"))}
        self.env["CTI_CONFIG"] = str(self.config)
        self.server: subprocess.Popen[bytes] | None = None

    def cti(self, argv: list[str], where: str) -> str:
        runner = CliRunner()
        typed = TYPED.get(tuple(argv[:2]), PASSWORD)
        cwd = os.getcwd()
        os.chdir(self.dir)
        try:
            result = runner.invoke(cli, argv, env={"CTI_CONFIG": str(self.config)},
                                   input=f"{typed}\n{typed}\n", catch_exceptions=True)
        finally:
            os.chdir(cwd)
        output = result.output
        assert result.exit_code == 0, f"{where}: cti {shlex.join(argv)} exited " \
                                      f"{result.exit_code}:\n{output}\n{result.exception!r}"
        return output

    def serve(self) -> None:
        with (self.dir / "serve.log").open("w") as log:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "connector.cli", "serve", "--no-worker"], cwd=self.dir,
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.dir / "serve.log").read_text()
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError((self.dir / "serve.log").read_text())

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)

    def make_available(self, username: str) -> None:
        """What "sign in as … in the softphone (status 待機)" does, through the API."""
        password = PASSWORD
        credentials = self.dir / "var" / "demo-credentials.txt"
        if credentials.is_file():
            for line in credentials.read_text(encoding="utf-8").splitlines():
                name, *rest = line.split()
                if name == username and rest:
                    password = rest[0]
        login = requests.post(f"{self.url}/api/auth/login", timeout=10,
                              json={"username": username, "password": password})
        assert login.ok, login.text
        token = login.json()["access_token"]
        status = requests.put(f"{self.url}/api/agents/me/status", json={"status": "available"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert status.ok, status.text


#: Comment lines that tell the reader to do something by hand, and how the test does it.
MANUAL_STEPS = {
    re.compile(r"sign in as (\w+) in the softphone"): Site.make_available,
}


def _manual_step(site: Site, comment: str) -> None:
    for pattern, action in MANUAL_STEPS.items():
        match = pattern.search(comment)
        if match:
            action(site, match.group(1))


def _argv(site: Site, command: Command) -> list[str]:
    """The command for this site: its port for 5000; the folders of ``--output`` exist, as in
    the checkout a reader runs it in (``sfdc-package/…``)."""
    argv = [arg.replace("127.0.0.1:5000", f"127.0.0.1:{site.port}") for arg in command.argv]
    if "--output" in argv[:-1]:
        (site.dir / argv[argv.index("--output") + 1]).parent.mkdir(parents=True, exist_ok=True)
    return argv


def _check_simulated_call(site: Site, command: Command, output: str) -> None:
    expected = EXPECTED.get(_key(command))
    assert expected is not None, (
        f"{command.doc}:{command.line}: say in EXPECTED where `{command.text}` sends the call")
    for option in ("--voice-url", "--app-url"):
        if option in command.argv:
            url = _argv(site, command)[command.argv.index(option) + 1]
            assert f"{url} -> 200" in output, f"{command.doc}:{command.line}:\n{output}"
    for text in expected:
        assert text in output, f"{command.doc}:{command.line}: no {text!r} in\n{output}"


# -- the tests --------------------------------------------------------------------------------

def test_the_docs_show_cti_examples():
    docs = {block.doc for block in ALL_BLOCKS}
    assert {"README.md", "docs/simulator.md", "docs/voice.md"} <= docs
    assert sum(len(block.commands) for block in ALL_BLOCKS) >= 30


def test_every_skipped_or_expected_example_is_still_in_the_docs():
    shown = {_key(command) for block in ALL_BLOCKS for command in block.commands}
    assert set(SKIPPED) - shown == set()
    assert set(EXPECTED) - shown == set()
    firsts = {(block.doc, block.commands[0].text) for block in ALL_BLOCKS}
    assert {(doc, text) for doc, text in PREREQUISITES
            if not any(f[0] == doc and f[1].startswith(text) for f in firsts)} == set()


@pytest.mark.slow
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=_block_id)
def test_doc_example(block: Block, tmp_path: Path):
    site = Site(tmp_path, free_port(), SERVER_CONFIG.get(block.doc, ""))
    for name, content in FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    try:
        if block.needs_server:
            site.serve()
        else:
            site.cti(["db", "upgrade"], "set-up")
        for (doc, first), argvs in PREREQUISITES.items():
            if doc == block.doc and block.commands[0].text.startswith(first):
                for argv in argvs:
                    site.cti(argv, f"prerequisite of {_block_id(block)}")
        for step in block.steps:
            if isinstance(step, str):
                _manual_step(site, step)
                continue
            if _key(step) in SKIPPED:
                continue
            output = site.cti(_argv(site, step), f"{step.doc}:{step.line}")
            if step.argv[:1] == ["simulate"]:
                _check_simulated_call(site, step, output)
    finally:
        site.stop()


TOML_FENCE = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_every_flow_the_docs_show_is_an_example_file_that_round_trips():
    """A flow shown in the docs is a file of docs/examples/ in full (so the commands above run
    it), is valid, and its canonical export loads back to the same flow."""
    from voice.flows import tomlio

    examples = {p.read_text(encoding="utf-8"): p for p in (ROOT / "docs" / "examples").glob(
        "*.toml")}
    shown = [(path, text) for path in DOC_FILES
             for text in TOML_FENCE.findall(path.read_text(encoding="utf-8"))
             if text.startswith("#") and "\n[flow]\n" in text]
    assert any(path.name == "call-flows.md" for path, _ in shown)
    for path, text in shown:
        assert text in examples, f"{path.name}: a flow that is not a file of docs/examples/"
        flow = tomlio.load(text)
        assert tomlio.load(tomlio.dump(flow)) == flow
        assert tomlio.dump(tomlio.load(tomlio.dump(flow))) == tomlio.dump(flow)
