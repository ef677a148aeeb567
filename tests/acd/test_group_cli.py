"""``cti group`` against a real app and database (SQLite and PostgreSQL), and the admin API
that shares its rules."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from connector import db
from connector.auth import accounts
from connector.cli import CliContext, cli
from connector.voice import groups

PASSWORD = "Correct-horse-42"


@pytest.fixture
def run(any_db_app):
    ctx = CliContext(None)
    ctx._app, ctx._settings = any_db_app, any_db_app.config["CTI_SETTINGS"]
    with db.get_engine(any_db_app).begin() as conn:
        for name in ("sato", "ito", "suzuki"):
            accounts.create_agent(conn, username=name, display_name=name, password=PASSWORD,
                                  policy=ctx._settings.auth,
                                  now=any_db_app.extensions["cti.clock"]())

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    invoke.app = any_db_app
    return invoke


def _group(app, name):
    with db.get_engine(app).connect() as conn:
        return groups.get_group(conn, name)


def test_add_with_settings_and_show(run):
    added = run("group", "add", "support", "--name", "サポート", "--members", "sato,ito",
                "strategy=skill", "ring_seconds=15", "timeout=voicemail", "color=#1E88E5")
    assert added.exit_code == 0, added.output
    group = _group(run.app, "support")
    assert group.settings["strategy"] == "skill"
    assert group.settings["ring_seconds"] == 15
    assert group.settings["timeout"] == {"type": "voicemail", "value": ""}
    shown = run("group", "show", "support").output.splitlines()
    assert "strategy=skill" in shown and "timeout=voicemail" in shown
    assert "overflow=none" in shown and "members      sato:1, ito:1" in shown


def test_errors_name_the_field_and_exit_non_zero(run):
    run("group", "add", "support", "--members", "sato")
    bad = run("group", "set", "support", "strategy=loudest", "ring_seconds=2",
              "overflow=group:ghost", "nonsense=1")
    assert bad.exit_code == 1
    assert "settings.strategy: one of" in bad.output
    assert "settings.ring_seconds: a whole number from 5 to 120" in bad.output
    assert "settings.nonsense: unknown setting" in bad.output
    missing = run("group", "set", "support", "overflow=group:ghost")
    assert missing.exit_code == 1
    assert "settings.overflow: value: no group named 'ghost'" in missing.output
    assert "overflow" not in _group(run.app, "support").settings  # nothing was saved
    nobody = run("group", "set", "support", "timeout=agent:nobody")
    assert "settings.timeout: value: no agent with user ID 'nobody'" in nobody.output
    assert run("group", "set", "support", "oops").exit_code == 2  # not key=value
    assert run("group", "set", "ghost", "ring_seconds=10").exit_code == 1


def test_a_new_group_with_a_missing_target_is_not_created(run):
    refused = run("group", "add", "sales", "max_waiting=3", "overflow=group:ghost")
    assert refused.exit_code == 1 and "settings.overflow" in refused.output
    assert _group(run.app, "sales") is None


def test_members_and_skills(run):
    run("group", "add", "support", "--members", "sato")
    assert run("group", "member", "add", "support", "ito", "--skill", "2").exit_code == 0
    assert run("group", "member", "skill", "support", "sato", "3").exit_code == 0
    run("group", "member", "add", "support", "suzuki")
    group = _group(run.app, "support")
    assert dict(zip(group.members, group.skills, strict=True)) == {
        "sato": 3, "ito": 2, "suzuki": 1}
    run("group", "member", "remove", "support", "ito")
    group = _group(run.app, "support")  # the others keep their levels
    assert dict(zip(group.members, group.skills, strict=True)) == {"sato": 3, "suzuki": 1}
    bad = run("group", "member", "skill", "support", "sato", "12")
    assert bad.exit_code == 1 and "skills.sato: a skill level from 1 (best) to 9" in bad.output
    outsider = run("group", "member", "skill", "support", "ito", "1")
    assert "skills.ito: not a member of this group" in outsider.output
    assert run("group", "member", "remove", "support", "ito").exit_code == 1
    ghost = run("group", "member", "add", "support", "ghost")
    assert ghost.exit_code == 1 and "members: unknown user IDs: ghost" in ghost.output


def test_export_and_import_round_trip(run, tmp_path):
    run("group", "add", "sales", "--members", "suzuki")
    run("group", "add", "support", "--name", "サポート", "--members", "sato,ito",
        "strategy=round_robin", "max_waiting=2", "overflow=group:sales",
        "whisper=サポート窓口のお電話です")
    run("group", "member", "skill", "support", "ito", "4")
    path = tmp_path / "groups.toml"
    assert run("group", "export", "-o", str(path)).exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert "[groups.support.settings]" in text and "サポート窓口のお電話です" in text
    run("group", "set", "support", "strategy=random", "--members", "sato")
    run("group", "remove", "sales")
    imported = run("group", "import", str(path))
    assert imported.exit_code == 0, imported.output
    support = _group(run.app, "support")
    assert support.settings["strategy"] == "round_robin"
    assert support.settings["overflow"] == {"type": "group", "value": "sales"}
    assert dict(zip(support.members, support.skills, strict=True)) == {"sato": 1, "ito": 4}
    assert _group(run.app, "sales").members == ("suzuki",)


def test_a_bad_import_changes_nothing(run, tmp_path):
    run("group", "add", "support", "--members", "sato", "strategy=random")
    path = tmp_path / "bad.toml"
    path.write_text('[groups.support]\nmembers = ["sato"]\n[groups.support.settings]\n'
                    'strategy = "round_robin"\n'
                    '[groups.new]\nmembers = ["ito"]\n[groups.new.settings]\n'
                    'timeout = { type = "group", value = "ghost" }\n', encoding="utf-8")
    refused = run("group", "import", str(path))
    assert refused.exit_code == 1
    assert "groups.new.settings.timeout: value: no group named 'ghost'" in refused.output
    assert _group(run.app, "support").settings["strategy"] == "random"
    assert _group(run.app, "new") is None
    path.write_text('[groups.x]\ncolour = "red"\n', encoding="utf-8")
    assert "groups.x.colour: unknown key" in run("group", "import", str(path)).output


def test_the_admin_api_gives_the_same_answers(run):
    app = run.app
    with db.get_engine(app).begin() as conn:
        accounts.create_agent(conn, username="boss", display_name="boss", password=PASSWORD,
                              policy=app.config["CTI_SETTINGS"].auth, role="admin",
                              now=app.extensions["cti.clock"]())
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "boss", "password": PASSWORD}
                        ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/acd/groups", headers=headers, json={
        "name": "support", "members": ["sato"],
        "settings": {"max_waiting": 2, "overflow": {"type": "group", "value": "ghost"}}})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"]["fields"] == {
        "settings.overflow": "value: no group named 'ghost'"}
    created = client.post("/api/acd/groups", headers=headers, json={
        "name": "support", "display_name": "サポート", "members": ["sato", "ito"],
        "settings": {"strategy": "skill"}, "skills": {"ito": 2}})
    assert created.status_code == 201
    assert created.get_json()["group"]["skills"] == {"sato": 1, "ito": 2}
    changed = client.patch("/api/acd/groups/support", headers=headers,
                           json={"members": ["ito"], "settings": {"ring_seconds": 30}})
    assert changed.get_json()["group"]["settings"]["strategy"] == "skill"  # merged
    assert changed.get_json()["group"]["skills"] == {"ito": 2}
    listed = client.get("/api/acd/groups", headers=headers).get_json()["groups"]
    assert [g["name"] for g in listed] == ["support"]
