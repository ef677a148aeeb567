"""``cti number``, ``cti group``, ``cti numbers`` and ``cti simulate`` as users run them."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from connector import create_app, db, presence
from connector.auth import accounts
from connector.cli import cli
from connector.config import load_settings

CTI = [sys.executable, "-m", "connector.cli"]
PASSWORD = "Correct-horse-42"


def write_config(tmp_path: Path, port: int = 5000) -> Path:
    path = tmp_path / "cti.toml"
    path.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
port = {port}
secret_key = "{'s' * 40}"

[storage]
database_url = "sqlite:///{tmp_path / 'var' / 'cti.db'}"

[crm]
adapters = []
""", encoding="utf-8")
    return path


@pytest.fixture
def run(tmp_path):
    config = write_config(tmp_path)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, ["--config", str(config), *args], input=input,
                             catch_exceptions=False)

    invoke("db", "upgrade")
    for user in ("sato", "ito"):
        assert invoke("user", "add", user, "--name", user, "--password-stdin",
                      input=PASSWORD + "\n").exit_code == 0
    return invoke


def test_number_commands(run):
    added = run("number", "add", "050-1234-5678", "--label", "サポート", "--route", "agent:sato",
                "--fallback", "voicemail", "--recording")
    assert added.exit_code == 0, added.output
    assert added.output == "added 050-1234-5678 (サポート) → agent:sato  [fallback voicemail, " \
                           "recorded]\n"
    assert run("number", "add", "+815012345678").exit_code == 1  # exists
    changed = run("number", "set", "050-1234-5678", "--route", "external:03-1234-5678")
    assert "→ external:+81312345678" in changed.output
    refused = run("number", "set", "050-1234-5678", "--route", "external:0570-000-111")
    assert refused.exit_code == 1 and "route: Calls from a 050 number" in refused.output
    assert run("number", "set", "03-0000-0000", "--label", "x").exit_code == 1
    bad = run("number", "add", "03-1111-2222", "--route", "queue:x")
    assert bad.exit_code == 2 and "unknown route" in bad.output
    granted = run("number", "grant", "050-1234-5678", "sato", "ito", "--default")
    assert granted.exit_code == 0 and "(default)" in granted.output
    assert run("number", "grant", "050-1234-5678", "ghost").exit_code == 1
    assert run("number", "revoke", "050-1234-5678", "ito").exit_code == 0
    listed = run("number", "list", "--json")
    assert '"e164": "+815012345678"' in listed.output
    assert run("number", "remove", "050-1234-5678").output == "removed 050-1234-5678\n"
    assert run("number", "remove", "050-1234-5678").exit_code == 1


def test_group_commands(run):
    added = run("group", "add", "support", "--name", "サポート", "--members", "sato,ito")
    assert added.output == "added group support: sato, ito\n"
    assert run("group", "add", "support").exit_code == 1
    assert "ghost" in run("group", "set", "support", "--members", "ghost").output
    assert run("group", "set", "support", "--members", "ito").exit_code == 0
    listed = run("group", "list").output.splitlines()
    assert listed[1].split() == ["support", "ring_all", "サポート", "ito:1"]
    run("number", "add", "050-1234-5678", "--route", "group:support")
    in_use = run("group", "remove", "support")
    assert in_use.exit_code == 1 and "+815012345678" in in_use.output
    run("number", "remove", "050-1234-5678")
    assert run("group", "remove", "support").exit_code == 0


def test_block_and_restrict_lists(run, tmp_path):
    assert run("numbers", "block", "add", "090-1234-5678", "--note", "迷惑").output == \
        "追加しました: +819012345678\n"
    assert "登録済みです" in run("numbers", "block", "add", "+819012345678").output
    assert run("numbers", "block", "add", "12*").exit_code == 1
    assert run("numbers", "block", "list").output == "+819012345678        迷惑\n"
    csv = tmp_path / "restrict.csv"
    csv.write_bytes("番号,メモ\n0570*,ナビダイヤル\nabc,x\n".encode("cp932"))
    imported = run("numbers", "restrict", "import", str(csv))
    assert imported.exit_code == 1  # a row was refused …
    assert "1件を追加、0件は登録済み、1件は取り込めませんでした" in imported.output
    assert "3行目:" in imported.output  # the refused row, in the same language
    assert run("numbers", "restrict", "list").output.startswith("+81570*")  # … the rest kept
    assert run("numbers", "block", "remove", "090-1234-5678").exit_code == 0
    assert run("numbers", "block", "remove", "090-1234-5678").exit_code == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cti_simulate_against_cti_serve(tmp_path):
    port = _free_port()
    config = write_config(tmp_path, port)
    runner = CliRunner()

    def cti(*args, input=None):
        result = runner.invoke(cli, ["--config", str(config), *args], input=input,
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    cti("db", "upgrade")
    cti("user", "add", "sato", "--name", "佐藤", "--password-stdin", input=PASSWORD + "\n")
    cti("number", "add", "050-1234-5678", "--route", "agent:sato", "--fallback", "voicemail")
    cti("number", "grant", "050-1234-5678", "sato", "--default")
    app = create_app(load_settings(config, environ={}))
    with db.get_engine(app).begin() as conn:
        sato = accounts.find_agent(conn, "sato")
        presence.set_status(conn, sato.id, "available", now=datetime.now(UTC))
    db.get_engine(app).dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTI_", "TWILIO_"))}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*CTI, "--config", str(config), "serve", "--no-worker"],
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        _wait_healthy(port, tmp_path)
        inbound = subprocess.run([*CTI, "--config", str(config), "simulate", "--agent",
                                  "sato:3:20"], env=env, capture_output=True, text=True,
                                 timeout=60)
        assert inbound.returncode == 0, inbound.stdout + inbound.stderr
        assert "answered by client:sato" in inbound.stdout
        assert f"http://127.0.0.1:{port}/twilio/voice/inbound -> 200" in inbound.stdout

        outbound = subprocess.run([*CTI, "--config", str(config), "simulate", "--client", "sato",
                                   "--param", "To=090-1111-2222", "--agent",
                                   "+819011112222:2:10"], env=env, capture_output=True,
                                  text=True, timeout=60)
        assert outbound.returncode == 0, outbound.stdout + outbound.stderr
        assert "answered by +819011112222" in outbound.stdout

        refused = subprocess.run([*CTI, "--config", str(config), "simulate", "--client", "sato",
                                  "--param", "To=0570-000-111"], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert "ナビダイヤル（0570）には発信できません" in refused.stdout

        login = requests.post(f"http://127.0.0.1:{port}/api/auth/login",
                              json={"username": "sato", "password": PASSWORD}, timeout=5)
        token = login.json()["access_token"]
        calls = requests.get(f"http://127.0.0.1:{port}/api/calls",
                             headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert [c["outcome"] for c in calls["calls"]] == ["refused", "answered", "answered"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()


def _wait_healthy(port: int, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError((tmp_path / "serve.log").read_text())


def test_simulate_defaults_come_from_the_configuration(run, tmp_path):
    from connector.cli import CliContext
    from connector.cli.simulate import with_defaults
    from connector.voice import webhook_auth_token

    run("number", "add", "050-1234-5678", "--route", "voicemail")
    ctx = CliContext(str(tmp_path / "cti.toml"))
    token = webhook_auth_token(ctx.app)
    hooks = "http://127.0.0.1:5000/twilio/voice"
    assert with_defaults(ctx, ["--agent", "sato:1"]) == [
        "--agent", "sato:1", "--voice-url", f"{hooks}/inbound", "--to", "+815012345678",
        f"--status-callback={hooks}/status", "--account-sid=AC" + "0" * 32,
        f"--auth-token={token}"]
    outbound = with_defaults(ctx, ["--client", "sato", "--param", "To=110"])
    assert outbound[4:6] == ["--app-url", f"{hooks}/outbound"] and "--to" not in outbound
    mine = with_defaults(ctx, ["--to=０５０-１２３４-５６７８", "--auth-token", "x"])
    assert mine[0] == "--to=+815012345678"
    assert [arg for arg in mine if arg.startswith("--auth-token")] == ["--auth-token"]


def test_simulate_passes_a_token_that_looks_like_an_option(run, tmp_path):
    """Generated tokens are URL-safe base64 and may start with "-"."""
    from connector.cli import CliContext
    from connector.cli.simulate import with_defaults
    from voice.simulator.cli import build_parser

    (tmp_path / "var").mkdir(exist_ok=True)
    (tmp_path / "var" / "twilio_simulator_token").write_text("-starts-with-a-dash\n")
    ctx = CliContext(str(tmp_path / "cti.toml"))
    args = build_parser().parse_args(with_defaults(ctx, ["--agent", "sato:1"]))
    assert args.auth_token == "-starts-with-a-dash"


def test_simulate_derived_urls_follow_the_given_voice_url(run, tmp_path):
    """A server on another port than public_base_url's gets every derived webhook too."""
    from connector.cli import CliContext
    from connector.cli.simulate import webhook_base, with_defaults

    run("number", "add", "050-1234-5678", "--route", "voicemail")
    ctx = CliContext(str(tmp_path / "cti.toml"))
    inbound = with_defaults(ctx, ["--voice-url", "http://127.0.0.1:5123/twilio/voice/inbound"])
    assert "--status-callback=http://127.0.0.1:5123/twilio/voice/status" in inbound
    outbound = with_defaults(ctx, ["--app-url=https://cti.example.jp/twilio/voice/outbound",
                                   "--client", "sato"])
    assert "--status-callback=https://cti.example.jp/twilio/voice/status" in outbound
    mine = with_defaults(ctx, ["--voice-url", "http://127.0.0.1:5123/twilio/voice/inbound",
                               "--status-callback", "http://elsewhere/status"])
    assert [arg for arg in mine if arg.startswith("--status-callback")] == ["--status-callback"]
    assert webhook_base("https://proxy.example.jp/cti/twilio/voice/inbound") == (
        "https://proxy.example.jp/cti/twilio/voice")
    assert webhook_base("http://127.0.0.1:5123/my-ivr") == "http://127.0.0.1:5123/twilio/voice"


def test_number_list_messages_follow_the_cli_language(run, tmp_path):
    """cti --lang en, else [cli] language, else Japanese — like `cti crm import`."""
    csv = tmp_path / "block.csv"
    csv.write_bytes("番号,メモ\n090-1234-5678,迷惑\nabc,x\n".encode("cp932"))
    english = run("--lang", "en", "numbers", "block", "import", str(csv))
    assert english.exit_code == 1
    assert "added 1, already listed 0, refused 1" in english.output
    assert "Row 3:" in english.output and "行目" not in english.output
    japanese = run("numbers", "block", "import", str(csv))
    assert "0件を追加、1件は登録済み、1件は取り込めませんでした" in japanese.output
    assert "3行目:" in japanese.output and "Row 3" not in japanese.output
    bad = run("--lang", "en", "numbers", "block", "add", "12*")
    assert bad.exit_code == 1 and "'12*'" in bad.output and "行" not in bad.output


def test_a_dry_run_import_reports_and_adds_nothing(run, tmp_path):
    csv = tmp_path / "block.csv"
    csv.write_bytes("090-1234-5678,迷惑\nabc,x\n".encode())
    preview = run("--lang", "en", "numbers", "block", "import", "--dry-run", str(csv))
    assert "dry run (nothing added): would add 1, already listed 0, would refuse 1" in (
        preview.output)
    assert preview.exit_code == 1  # a refused row fails the check, as it fails the import
    assert "090-1234-5678" not in run("numbers", "block", "list").output
    imported = run("--lang", "en", "numbers", "block", "import", str(csv))
    assert "added 1, already listed 0, refused 1" in imported.output


def test_cli_language_setting_and_lang_option(run, tmp_path):
    config = tmp_path / "cti.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[cli]\nlanguage = "en"\n',
                      encoding="utf-8")
    assert run("numbers", "block", "add", "090-1234-5678").output == "added +819012345678\n"
    assert run("--lang", "ja", "numbers", "block", "add", "090-1234-5678").output == \
        "登録済みです: +819012345678\n"  # --lang wins over [cli] language


def test_number_channel_limit_display_name_and_popups(run):
    added = run("number", "add", "050-1234-5678", "--route", "voicemail", "--max-channels", "2",
                "--overflow", "agent:sato", "--caller-id-name", "サポート窓口",
                "--ring-popup-url", "https://crm.example.jp/search?tel=@@@@")
    assert added.exit_code == 0, added.output
    assert added.output == (
        "added 050-1234-5678 → voicemail  [2 channel(s), over it agent:sato, shown as "
        "サポート窓口, ring pop-up https://crm.example.jp/search?tel=@@@@]\n")
    refused = run("number", "set", "050-1234-5678", "--max-channels", "-1",
                  "--answer-popup-url", "crm.example.jp/?n=@@@@")
    assert refused.exit_code == 1
    assert "max_channels: must be between 0" in refused.output
    assert "answer_popup_url: an http:// or https:// URL is required" in refused.output
    cleared = run("number", "set", "050-1234-5678", "--ring-popup-url", "", "--max-channels",
                  "0")
    assert cleared.output == "changed 050-1234-5678 → voicemail  [shown as サポート窓口]\n"
