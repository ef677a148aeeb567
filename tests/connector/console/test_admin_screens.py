"""Admin screens' API path (/console/api/...): the product's admin APIs behind the console's
cookie, CSRF token and permission table; every change in the audit log."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from connector import db
from connector.schema import audit_log

FLOW = """
[flow]
name = "desk"
entry = "hello"

[nodes.hello]
kind = "announcement"
say = "お電話ありがとうございます。"
"""

BAD_FLOW = """
[flow]
name = "desk"
entry = "hello"

[nodes.hello]
kind = "menu"
say = "1を押してください。"
keys = { 1 = "nowhere" }
"""


def call(user, method, path, **kw):
    if not user.csrf:
        user.get("/console/history")
    headers = {"X-CSRF-Token": user.csrf} if method != "GET" else {}
    return user.client.open(path, method=method, headers=headers, **kw)


def actions(app):
    with db.get_engine(app).connect() as conn:
        return [(r.action, r.actor, r.target) for r in conn.execute(
            select(audit_log).where(audit_log.c.action != "sign_in").order_by(audit_log.c.id))]


@pytest.fixture
def admin(app, console_user):
    return console_user(app, "admin1", "admin")


def test_numbers_are_created_changed_and_deleted_with_the_apis_checks(app, admin):
    created = call(admin, "POST", "/console/api/admin/numbers",
                   json={"e164": "050-1234-5678", "label": "代表", "route": "voicemail"})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    assert number["e164"] == "+815012345678"
    refused = call(admin, "PATCH", f"/console/api/admin/numbers/{number['id']}",
                   json={"route": "group:nobody"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"]["fields"] == {
        "route": "no group named 'nobody'"}
    changed = call(admin, "PATCH", f"/console/api/admin/numbers/{number['id']}",
                   json={"label": "サポート"})
    assert changed.get_json()["number"]["label"] == "サポート"
    listed = call(admin, "GET", "/console/api/admin/numbers").get_json()["numbers"]
    assert [n["label"] for n in listed] == ["サポート"]
    assert call(admin, "DELETE", f"/console/api/admin/numbers/{number['id']}").status_code == 204
    assert actions(app) == [("number.create", "admin1", "admin/numbers"),
                            ("number.update", "admin1", f"admin/numbers/{number['id']}"),
                            ("number.delete", "admin1", f"admin/numbers/{number['id']}")]


def test_a_change_needs_the_csrf_token(app, admin):
    admin.get("/console/history")
    answer = admin.client.post("/console/api/admin/numbers", json={"e164": "050-1234-5678"})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "csrf"
    assert actions(app) == []


def test_flow_files_are_checked_and_imported_with_their_problems(app, admin):
    checked = call(admin, "POST", "/console/api/admin/flows/check", data=BAD_FLOW)
    assert checked.status_code == 422
    (problem,) = checked.get_json()["error"]["details"]["problems"]
    assert problem["node"] == "hello" and problem["line"] == 6 and "nowhere" in problem["message"]
    assert call(admin, "POST", "/console/api/admin/flows/check", data=FLOW).get_json() == {
        "ok": True, "name": "desk", "nodes": 1}
    assert actions(app) == []  # a check changes nothing
    imported = call(admin, "PUT", "/console/api/admin/flows/desk", data=FLOW)
    assert imported.status_code == 200 and imported.get_json()["changed"] is True
    assert call(admin, "GET", "/console/api/admin/flows/desk").get_data(as_text=True).strip()
    (entry,) = actions(app)
    assert entry == ("flow.import", "admin1", "admin/flows/desk")


def test_audio_uploads_are_refused_with_the_reason(app, admin):
    answer = call(admin, "POST", "/console/api/admin/flow-audio",
                  data={"file": (io.BytesIO(b"not audio at all"), "closed.wav")},
                  content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_audio"
    assert actions(app) == []


def test_an_uploaded_audio_file_plays_back_for_admins_only(app, admin, console_user):
    from tests.connector.flows.test_crm_and_audio import wav_bytes

    data = wav_bytes(seconds=0.5)
    saved = call(admin, "POST", "/console/api/admin/flow-audio",
                 data={"file": (io.BytesIO(data), "closed.wav")},
                 content_type="multipart/form-data")
    assert saved.status_code == 201
    played = admin.get("/console/api/admin/flow-audio/closed.wav/content")
    assert played.status_code == 200 and played.data == data
    assert played.mimetype == saved.get_json()["audio"]["content_type"]
    assert admin.get("/console/api/admin/flow-audio/none.wav/content").status_code == 404
    supervisor = console_user(app, "sv1", "supervisor")
    assert supervisor.get("/console/api/admin/flow-audio/closed.wav/content").status_code == 403
    assert [a[0] for a in actions(app)] == ["audio.upload"]  # listening is not a change


def test_block_list_csv_import_reports_rejected_rows(app, admin):
    csv = "0120-123-456,営業電話\nabc,\n0570*,ナビダイヤル\n".encode()
    answer = call(admin, "POST", "/console/api/admin/number-lists/block/import",
                  data={"file": (io.BytesIO(csv), "block.csv")},
                  content_type="multipart/form-data")
    report = answer.get_json()
    assert answer.status_code == 200 and report["added"] == 2
    assert [(e["row"], e["value"]) for e in report["errors"]] == [(2, "abc")]
    (entry,) = actions(app)
    assert entry[0] == "number_list.import"


def test_a_block_list_preview_reports_without_adding_or_auditing(app, admin):
    csv = "0120-123-456,営業電話\nabc,\n0570*,ナビダイヤル\n".encode("cp932")
    path = "/console/api/admin/number-lists/block/import"
    preview = call(admin, "POST", path + "?dry_run=1",
                   data={"file": (io.BytesIO(csv), "block.csv")},
                   content_type="multipart/form-data")
    found = preview.get_json()
    assert preview.status_code == 200
    assert (found["dry_run"], found["added"], found["existing"]) == (True, 2, 0)
    assert [(e["row"], e["value"]) for e in found["errors"]] == [(2, "abc")]
    assert call(admin, "GET", "/console/api/admin/number-lists/block").get_json()["rules"] == []
    assert actions(app) == []  # a preview changes nothing, so nothing is audited
    bad = call(admin, "POST", path + "?dry_run=maybe",
               data={"file": (io.BytesIO(csv), "block.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "dry_run" in bad.get_json()["error"]["message"]
    done = call(admin, "POST", path, data={"file": (io.BytesIO(csv), "block.csv")},
                content_type="multipart/form-data").get_json()
    assert (done["dry_run"], done["added"]) == (False, 2)
    again = call(admin, "POST", path + "?dry_run=1",
                 data={"file": (io.BytesIO(csv), "block.csv")},
                 content_type="multipart/form-data").get_json()
    assert (again["added"], again["existing"]) == (0, 2)
    assert [a[0] for a in actions(app)] == ["number_list.import"]


def test_supervisors_are_kept_out_of_admin_apis_but_reach_voicemail(app, console_user):
    supervisor = console_user(app, "sv1", "supervisor")
    for path in ("/console/api/admin/numbers", "/console/api/admin/flows",
                 "/console/api/admin/flow-audio", "/console/api/admin/number-lists/block"):
        answer = call(supervisor, "GET", path)
        assert answer.status_code == 403, path
        assert answer.get_json()["error"]["code"] == "not_permitted"
    assert call(supervisor, "GET", "/console/api/voicemail").status_code == 200
    for page in ("/console/admin/numbers", "/console/admin/flows", "/console/admin/audio",
                 "/console/admin/number-lists", "/console/admin/crm"):
        assert supervisor.get(page).status_code == 403, page
    assert supervisor.get("/console/voicemail").status_code == 200
    # Agents: tests/connector/console/test_access.py tries every console route, these too.


def test_only_listed_apis_are_reachable(app, admin):
    assert call(admin, "GET", "/console/api/admin/doctor").status_code == 404
    assert call(admin, "GET", "/console/api/admin/no-such-thing").status_code == 404


def test_every_admin_page_opens(app, admin):
    for path in ("/console/admin/numbers", "/console/admin/flows", "/console/admin/audio",
                 "/console/admin/number-lists", "/console/admin/crm",
                 "/console/admin/crm?run=1", "/console/voicemail"):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        assert "data-csrf" in answer.get_data(as_text=True)
