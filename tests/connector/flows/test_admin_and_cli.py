"""``/api/admin/flows``, ``/api/admin/flow-audio`` and ``cti flow`` as admins use them."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

from connector import create_app, db
from connector.cli import cli
from connector.config import load_settings
from connector.flows import store
from tests.connector.voice.test_cli import run as cli_run
from tests.connector.voice.test_cli import write_config

from ..voice.conftest import NUMBER
from .conftest import EXAMPLE
from .test_crm_and_audio import wav_bytes

run = cli_run  # the `cti` fixture of the voice CLI tests (a configured, upgraded deployment)


@pytest.fixture
def admin(env):
    env.add_agent("boss", role="admin")
    env.add_agent("lead", role="supervisor")
    env.add_agent("sato")
    env.add_group("sales", ["sato"])
    env.add_group("support", ["sato"])
    return env, env.app.test_client(), {**env.login("boss"), "Accept-Language": "en"}


def test_import_export_and_number_route(admin):
    env, client, auth = admin
    text = EXAMPLE.read_text()
    put = client.put("/api/admin/flows/main", headers=auth, data=text.encode())
    assert put.status_code == 200 and put.get_json()["flow"]["version"] == 1
    again = client.put("/api/admin/flows/main", headers=auth, data=text.encode())
    assert again.get_json()["changed"] is False
    exported = client.get("/api/admin/flows/main", headers=auth)
    assert exported.mimetype == "application/toml"
    assert exported.get_data(as_text=True) == store.tomlio.dump(store.tomlio.load(text))
    number = client.post("/api/admin/numbers", headers=auth,
                         json={"e164": NUMBER, "route": "flow:main:welcome"})
    assert number.status_code == 201 and number.get_json()["number"]["route"] == \
        "flow:main:welcome"
    wrong = client.post("/api/admin/numbers", headers=auth,
                        json={"e164": "+81312345678", "route": "flow:nothing"})
    assert wrong.status_code == 422
    assert "no flow named 'nothing'" in wrong.get_json()["error"]["details"]["fields"]["route"]


def test_bad_flow_lists_problems_with_lines(admin):
    _, client, auth = admin
    bad = EXAMPLE.read_text().replace('group = "sales"', 'group = "ghost"')
    response = client.put("/api/admin/flows/main", headers=auth, data=bad.encode())
    assert response.status_code == 422
    problems = response.get_json()["error"]["details"]["problems"]
    assert problems == [{"line": 43, "node": "sales", "field": "group",
                         "message": "no group named 'ghost' (add it with `cti group add`)"}]


def test_supervisor_sets_an_override_in_one_step(admin):
    env, client, auth = admin
    client.put("/api/admin/flows/main", headers=auth, data=EXAMPLE.read_bytes())
    lead = {**env.login("lead"), "Accept-Language": "en"}
    made = client.put("/api/admin/flows/main/overrides/hours", headers=lead,
                      json={"goto": "closed", "minutes": 90, "note": "外出中"})
    assert made.status_code == 200 and made.get_json()["override"]["goto"] == "closed"
    refused = client.put("/api/admin/flows/main/overrides/welcome", headers=lead,
                         json={"goto": "nowhere", "minutes": 0})
    assert refused.status_code == 422
    assert client.delete("/api/admin/flows/main/overrides/hours", headers=lead).status_code \
        == 204
    agent = env.login("sato")
    assert client.put("/api/admin/flows/main/overrides/hours", headers=agent,
                      json={"goto": "closed", "minutes": 5}).status_code == 403


def test_audio_upload_refuses_a_bad_file_with_the_reason(admin):
    _, client, auth = admin
    bad = client.post("/api/admin/flow-audio", headers=auth, data={
        "file": (io.BytesIO(b"not audio at all"), "closed.wav")})
    assert bad.status_code == 422
    assert "not a WAV, MP3 or AIFF" in bad.get_json()["error"]["details"]["fields"]["file"]
    good = client.post("/api/admin/flow-audio", headers=auth, data={
        "file": (io.BytesIO(wav_bytes()), "closed.wav")})
    assert good.status_code == 201 and good.get_json()["recommended"] is True
    listed = client.get("/api/admin/flow-audio", headers=auth).get_json()["audio"]
    assert [a["name"] for a in listed] == ["closed.wav"]


def test_cli_check_import_export_on_another_database(run, tmp_path):
    for name in ("sales", "support"):
        assert run("group", "add", name, "--name", name).exit_code == 0
    checked = run("flow", "check", str(EXAMPLE))
    assert checked.exit_code == 0 and "flow 'main' is valid (8 nodes" in checked.output
    assert "version 1" in run("flow", "import", str(EXAMPLE)).output
    out = tmp_path / "exported.toml"
    assert run("flow", "export", "main", "-o", str(out)).exit_code == 0
    # A second database: import the export, export again — the same bytes.
    other = tmp_path / "other"
    other.mkdir()
    config = write_config(other)
    runner = CliRunner()

    def there(*args):
        return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    there("db", "upgrade")
    for name in ("sales", "support"):
        there("group", "add", name, "--name", name)
    assert there("flow", "import", str(out)).exit_code == 0
    assert there("flow", "export", "main").output == out.read_text()
    app = create_app(load_settings(config, environ={}))
    with db.get_engine(app).connect() as conn:
        assert store.latest(conn, "main").flow == store.tomlio.load(EXAMPLE.read_text())
    db.get_engine(app).dispose()


def test_cli_reports_bad_flow_and_override(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[flow]\nname = "x"\nentry = "a"\n[nodes.a]\nkind = "announcement"\n'
                   'say = "x"\nnext = "a"\n', encoding="utf-8")
    result = run("flow", "check", str(bad))
    assert result.exit_code == 1
    assert "line 4: node 'a': endless loop without a key press: a" in result.output
    for name in ("sales", "support"):
        run("group", "add", name, "--name", name)
    run("flow", "import", str(EXAMPLE))
    made = run("flow", "override", "main", "hours", "closed", "--for", "3h", "--note", "休業")
    assert made.exit_code == 0 and "go to closed until" in made.output
    assert "override hours → closed" in run("flow", "list").output
    assert "override cleared" in run("flow", "override", "main", "hours", "--clear").output
    wav = tmp_path / "closed.wav"
    wav.write_bytes(b"garbage")
    refused = run("flow", "audio", "add", str(wav))
    assert refused.exit_code == 1 and "not a WAV, MP3 or AIFF" in refused.output


def test_a_flow_a_number_routes_to_cannot_be_deleted(admin):
    _, client, auth = admin
    client.put("/api/admin/flows/main", headers=auth, data=EXAMPLE.read_bytes())
    client.post("/api/admin/numbers", headers=auth, json={"e164": NUMBER, "route": "flow:main"})
    refused = client.delete("/api/admin/flows/main", headers=auth)
    assert refused.status_code == 409 and NUMBER in refused.get_json()["error"]["message"]
    numbers = client.get("/api/admin/numbers", headers=auth).get_json()["numbers"]
    client.patch(f"/api/admin/numbers/{numbers[0]['id']}", headers=auth, json={"route": "none"})
    assert client.delete("/api/admin/flows/main", headers=auth).status_code == 204
    assert client.get("/api/admin/flows/main", headers=auth).status_code == 404
