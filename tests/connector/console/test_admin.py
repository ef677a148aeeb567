"""Admin screens (AD-1, AD-2): users, stop statuses, permissions — each change audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, update

from connector import db
from connector.auth import accounts
from connector.schema import agent_group_members, agent_groups, agents, audit_log, stop_statuses
from tests.connector.test_auth import PASSWORD, add_agent, login

NEW_PASSWORD = "Another-pass-2026"


def _audit(app, action):
    with db.get_engine(app).connect() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.action == action).order_by(
            audit_log.c.id)).all()


def _group(app, clock, name):
    with db.get_engine(app).begin() as conn:
        return conn.execute(insert(agent_groups).values(
            name=name, created_at=clock.current, updated_at=clock.current)).inserted_primary_key[0]


def test_an_admin_creates_and_edits_every_field_of_a_user(app, clock, console_user):
    admin = console_user(app, "admin1", "admin")
    sales, support = _group(app, clock, "sales"), _group(app, clock, "support")
    created = admin.post("/console/users/new", data={
        "username": "Tanaka01", "password": PASSWORD, "display_name": "田中 一郎",
        "nickname": "たなか", "email": "tanaka@example.com", "extension": "201",
        "role": "agent", "language": "ja", "active": "on", "groups": [str(sales)]})
    assert created.status_code == 302, created.get_data(as_text=True)
    with db.get_engine(app).connect() as conn:
        person = accounts.find_agent(conn, "tanaka01")
    assert person is not None and person.nickname == "たなか" and person.extension == "201"
    edited = admin.post(f"/console/users/{person.id}", data={
        "display_name": "田中 次郎", "nickname": "じろう", "email": "jiro@example.com",
        "extension": "202", "role": "supervisor", "language": "en",
        "groups": [str(support)]})  # active unchecked: disabled
    assert edited.status_code == 302
    with db.get_engine(app).connect() as conn:
        after = accounts.get_agent(conn, person.id)
        groups = {r.group_id for r in conn.execute(select(agent_group_members.c.group_id).where(
            agent_group_members.c.agent_id == person.id))}
    assert (after.display_name, after.nickname, after.email, after.extension, after.role,
            after.language, after.active) == ("田中 次郎", "じろう", "jiro@example.com", "202",
                                              "supervisor", "en", False)
    assert groups == {support}
    entry = _audit(app, "user.update")[-1]
    assert entry.actor == "admin1" and entry.details["role"] == {"from": "agent",
                                                                 "to": "supervisor"}
    assert entry.details["groups"] == {"added": [support], "removed": [sales]}
    assert "田中 次郎" in admin.get(f"/console/users/{person.id}").get_data(as_text=True)


def test_skill_levels_caller_ids_and_the_change_history_on_the_user_editor(app, clock,
                                                                           console_user):
    from connector.voice import numbers
    from connector.voice.numbers import NumberChanges, Route

    admin = console_user(app, "admin1", "admin")
    sales, support = _group(app, clock, "sales"), _group(app, clock, "support")
    with db.get_engine(app).begin() as conn:
        for e164, label in (("+81312345678", "代表"), ("+815011112222", "営業直通")):
            numbers.save_number(conn, e164, NumberChanges(label=label,
                                                          route=Route.parse("voicemail")),
                                now=clock.current)
    agent_id = add_agent(app, username="agent7", display_name="佐藤").id
    form = {"display_name": "佐藤", "role": "agent", "language": "ja", "active": "on",
            "groups": [str(sales), str(support)], f"skill-{sales}": "1",
            f"skill-{support}": "3", "caller_ids": ["+81312345678"],
            "default_caller_id": "+815011112222"}
    assert admin.post(f"/console/users/{agent_id}", data=form).status_code == 302
    with db.get_engine(app).connect() as conn:
        skills = dict(conn.execute(select(agent_group_members.c.group_id,
                                          agent_group_members.c.skill).where(
            agent_group_members.c.agent_id == agent_id)).all())
        allowed = numbers.caller_ids(conn, agent_id)
    assert skills == {sales: 1, support: 3}
    # Choosing a default allows that number too; the default comes first.
    assert [(c.e164, c.default) for c in allowed] == [("+815011112222", True),
                                                      ("+81312345678", False)]
    first = _audit(app, "user.update")[-1].details
    assert first["groups"] == {"added": [sales, support]}
    assert first["caller_ids"]["to"] == {"+81312345678": False, "+815011112222": True}

    form.update({f"skill-{support}": "2", "groups": [str(support)], "caller_ids": [],
                 "default_caller_id": ""})
    assert admin.post(f"/console/users/{agent_id}", data=form).status_code == 302
    second = _audit(app, "user.update")[-1].details
    assert second["groups"] == {"removed": [sales], "skills": {str(support): 2}}
    assert second["caller_ids"]["to"] == {}
    page = admin.get(f"/console/users/{agent_id}").get_data(as_text=True)
    assert 'id="user-history"' in page and page.count("user.update") == 2
    assert f'name="skill-{support}" id="skill-{support}"><option value="1">1</option>' \
           '<option value="2" selected>2</option>' in page

    bad = admin.post(f"/console/users/{agent_id}", data={**form, f"skill-{support}": "12"})
    assert bad.status_code == 422 and "a skill level from 1 (best) to 9" in bad.get_data(
        as_text=True)
    unknown = admin.post(f"/console/users/{agent_id}", data={
        **form, "caller_ids": ["+81399998888"]})
    assert unknown.status_code == 422 and "caller_ids" in unknown.get_data(as_text=True)


def test_bad_input_names_the_field_and_keeps_what_was_typed(app, console_user):
    admin = console_user(app, "admin1", "admin")
    page = admin.post("/console/users/new", data={
        "username": "x", "password": "short", "display_name": "山田", "role": "boss",
        "language": "ja", "email": "not-mail"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "role" in text and "email" in text and 'value="山田"' in text


def test_unlock_reset_password_and_the_last_admin(app, clock, console_user):
    admin = console_user(app, "admin1", "admin")
    user = console_user(app, "agent9", "agent").agent
    with db.get_engine(app).begin() as conn:
        conn.execute(update(agents).where(agents.c.id == user.id).values(
            failed_attempts=5, locked_until=clock.current + timedelta(minutes=10)))
    assert 'id="unlock"' in admin.get(f"/console/users/{user.id}").get_data(as_text=True)
    assert admin.post(f"/console/users/{user.id}/unlock").status_code == 302
    with db.get_engine(app).connect() as conn:
        assert accounts.get_agent(conn, user.id).locked_until is None
    weak = admin.post(f"/console/users/{user.id}/password", data={"new_password": "abc"})
    assert weak.status_code == 422 and "new_password" in weak.get_data(as_text=True)
    assert admin.post(f"/console/users/{user.id}/password",
                      data={"new_password": NEW_PASSWORD}).status_code == 302
    assert login(app.test_client(), "agent9", NEW_PASSWORD).status_code == 200
    entry = _audit(app, "user.password_reset")[-1]
    assert NEW_PASSWORD not in str(entry.details)
    demote = admin.post(f"/console/users/{admin.agent.id}", data={
        "display_name": "x", "role": "agent", "language": "ja", "active": "on"})
    assert demote.status_code == 422 and "last active admin" in demote.get_data(as_text=True)


def test_a_pin_is_set_checked_and_cleared_but_never_shown(app, clock, console_user):
    from connector.auth import pins

    admin = console_user(app, "admin1", "admin")
    user = console_user(app, "agent9", "agent").agent
    page = admin.get(f"/console/users/{user.id}").get_data(as_text=True)
    assert 'id="pin-state">未設定' in page
    for bad in ("12a4", "123", "123456789", "0000", "4321"):
        refused = admin.post(f"/console/users/{user.id}/pin", data={"pin": bad})
        assert refused.status_code == 422, bad
        assert 'id="pin-error"' in refused.get_data(as_text=True), bad
    assert admin.post(f"/console/users/{user.id}/pin", data={"pin": "2580"}).status_code == 302
    page = admin.get(f"/console/users/{user.id}").get_data(as_text=True)
    assert 'id="pin-state">設定済み' in page and "2580" not in page
    with db.get_engine(app).begin() as conn:
        stored = conn.execute(select(agents.c.pin_hash).where(
            agents.c.id == user.id)).scalar_one()
        assert "2580" not in stored
        assert pins.verify_pin(conn, user.id, "2580", clock.current)
        assert not pins.verify_pin(conn, user.id, "2581", clock.current)
        assert accounts.get_agent(conn, user.id).failed_attempts == 1  # a wrong PIN counts
    entry = _audit(app, "user.pin_set")[-1]
    assert entry.details == {"pin": "***"} and entry.actor == "admin1"  # a secret field
    assert admin.post(f"/console/users/{user.id}/pin", data={"clear": "1"}).status_code == 302
    with db.get_engine(app).begin() as conn:
        assert not pins.has_pin(conn, user.id)
        assert not pins.verify_pin(conn, user.id, "2580", clock.current)
    assert _audit(app, "user.pin_clear")
    supervisor = console_user(app, "sv1", "supervisor")  # may view users, not change them
    assert supervisor.post(f"/console/users/{user.id}/pin",
                           data={"pin": "2580"}).status_code == 403


def test_a_locked_or_disabled_user_pin_never_matches(app, clock, console_user):
    from connector.auth import pins

    user = console_user(app, "agent9", "agent").agent
    with db.get_engine(app).begin() as conn:
        pins.set_pin(conn, user.id, "9071", clock.current)
        conn.execute(update(agents).where(agents.c.id == user.id).values(
            locked_until=clock.current + timedelta(minutes=5)))
        assert not pins.verify_pin(conn, user.id, "9071", clock.current)
        conn.execute(update(agents).where(agents.c.id == user.id).values(
            locked_until=None, active=False))
        assert not pins.verify_pin(conn, user.id, "9071", clock.current)


def test_stop_statuses_are_created_and_changed(app, console_user):
    admin = console_user(app, "admin1", "admin")
    assert admin.post("/console/stop-statuses", data={
        "name": "昼休憩", "icon": "🍱", "color": "#1E88E5", "sort_order": "1"}).status_code == 302
    bad = admin.post("/console/stop-statuses", data={"name": "研修", "color": "blue"})
    assert bad.status_code == 422 and "color" in bad.get_data(as_text=True)
    with db.get_engine(app).connect() as conn:
        row = conn.execute(select(stop_statuses)).one()
    assert admin.post("/console/stop-statuses", data={
        "id": str(row.id), "name": "昼食", "color": "", "sort_order": "2",
        "active": "off"}).status_code == 302
    with db.get_engine(app).connect() as conn:
        row = conn.execute(select(stop_statuses)).one()
    assert (row.name, row.active) == ("昼食", False)
    assert len(_audit(app, "stop_status.create")) == 1
    assert len(_audit(app, "stop_status.update")) == 1


def test_permissions_are_editable_per_role_screen_and_action(app, console_user):
    admin = console_user(app, "admin1", "admin")
    sv = console_user(app, "sv1", "supervisor")
    assert sv.get("/console/stats?format=csv").status_code == 200
    page = admin.get("/console/permissions").get_data(as_text=True)
    cells = [c for c in __import__("re").findall(r'value="([a-z_]+:[a-z_]+:[a-z]+)"[^>]*checked',
                                                 page)]
    assert "supervisor:stats:download" in cells and "admin:security:update" in cells
    keep = [c for c in cells if c != "supervisor:stats:download"] + ["supervisor:audit:view"]
    assert admin.post("/console/permissions", data={"cell": keep}).status_code == 302
    assert sv.get("/console/stats?format=csv").status_code == 403
    assert sv.get("/console/stats").status_code == 200
    assert sv.get("/console/audit").status_code == 200
    entry = _audit(app, "permissions.update")[-1]
    assert set(entry.details["changes"]) == {"supervisor/stats/download=off",
                                             "supervisor/audit/view=on"}
    # Admins can never lose the permissions screen itself.
    assert admin.post("/console/permissions", data={"cell": []}).status_code == 302
    assert admin.get("/console/permissions").status_code == 200


def test_the_checks_screen_runs_doctor_and_shows_the_login_policy(app, console_user):
    admin = console_user(app, "admin1", "admin")
    page = admin.get("/console/checks").get_data(as_text=True)
    assert 'id="checks-table"' not in page and "max_failed_attempts" in page
    ran = admin.get("/console/checks?run=1").get_data(as_text=True)
    assert 'id="checks-table"' in ran and "database" in ran
    assert _audit(app, "checks.run")
    assert console_user(app, "sv1", "supervisor").get("/console/checks").status_code == 403
