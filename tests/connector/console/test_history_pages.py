"""Call history (ST-1) and the statistics pages over HTTP: filters, CSV downloads, recordings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from connector import db
from connector.schema import calls
from tests.connector.console.seed import JST, seed_people


def _call(sid, start, **kw):
    row = {"call_sid": sid, "direction": "inbound", "leg": "customer", "status": "completed",
           "from_number": "+819011112222", "to_number": "+81312345678",
           "customer_number": "+819011112222", "our_number": "+81312345678",
           "started_at": start, "created_at": start, "updated_at": start, "outcome": "answered",
           "answered_at": start + timedelta(seconds=5), "ended_at": start + timedelta(minutes=2),
           "talk_seconds": 115, "disposition": "", "notes": "", "agent_id": None,
           "group_id": None, "recording_sid": None}
    row.update(kw)
    return row


def _seed(app, clock):
    with db.get_engine(app).begin() as conn:
        agent_ids, group_ids = seed_people(conn, clock.current, agent_count=2, group_count=1)
        base = clock.current - timedelta(hours=1)
        conn.execute(insert(calls), [
            _call("CA1", base, agent_id=agent_ids[0], group_id=group_ids[0],
                  recording_sid="RE1", notes="=HYPERLINK(\"http://evil\")"),
            _call("CA2", base + timedelta(minutes=5), customer_number="+815011113333",
                  from_number="+815011113333", outcome="missed", answered_at=None,
                  talk_seconds=0, group_id=group_ids[0]),
            _call("CA3", base + timedelta(minutes=9), direction="outbound",
                  to_number="+81612345678", customer_number="+81612345678",
                  from_number="client:seedagent1", agent_id=agent_ids[1], talk_seconds=30,
                  disposition="対応完了"),
            _call("CA4", base - timedelta(days=20)),
        ])
    return agent_ids, group_ids


def _sids(page):
    import re

    return re.findall(r'data-sid="(CA\d)"', page.get_data(as_text=True))


def test_history_filters(app, clock, console_user):
    agent_ids, group_ids = _seed(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    today = clock.current.astimezone(JST).date().isoformat()
    base = f"/console/history?from={today}&to={today}"
    assert _sids(sv.get(base)) == ["CA3", "CA2", "CA1"]
    assert _sids(sv.get(base + "&party=050-1111-3333")) == ["CA2"]
    assert _sids(sv.get(base + "&direction=outbound")) == ["CA3"]
    assert _sids(sv.get(base + f"&agent={agent_ids[0]}")) == ["CA1"]
    assert _sids(sv.get(base + f"&group={group_ids[0]}")) == ["CA2", "CA1"]
    assert _sids(sv.get(base + "&outcome=missed")) == ["CA2"]
    assert _sids(sv.get(base + "&min=100")) == ["CA1"]
    assert _sids(sv.get(base + "&max=50")) == ["CA3", "CA2"]
    assert _sids(sv.get(base + "&number=03-1234-5678")) == ["CA3", "CA2", "CA1"]
    assert "CA4" in _sids(sv.get("/console/history?from=2026-10-01&to=" + today))
    bad = sv.get(base + "&min=abc")
    assert bad.status_code == 422 and "min" in bad.get_data(as_text=True)


def test_history_csv_in_both_encodings_without_live_formulas(app, clock, console_user):
    _seed(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    today = clock.current.astimezone(JST).date().isoformat()
    for encoding, codec in (("", "utf-8-sig"), ("&encoding=cp932", "cp932")):
        response = sv.get(f"/console/history?from={today}&to={today}&format=csv{encoding}")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.data.decode(codec), newline="")))
        assert rows[0][1] == "開始 started" and len(rows) == 4
        assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
        disposition = rows[0].index("対応結果 disposition")
        assert any(row[disposition] == "対応完了" for row in rows)
    audit_page = console_user(app, "admin1", "admin").get("/console/audit")
    assert "history.csv" in audit_page.get_data(as_text=True)


def test_recordings_play_through_a_signed_link_for_allowed_roles_only(app, clock, console_user):
    _seed(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    today = clock.current.astimezone(JST).date().isoformat()
    assert "/console/history/CA1/recording" in sv.get(
        f"/console/history?from={today}&to={today}").get_data(as_text=True)
    link = sv.get("/console/history/CA1/recording")
    assert link.status_code == 302 and "/recordings/CA1?exp=" in link.headers["Location"]
    assert sv.get("/console/history/CA2/recording").status_code == 404
    admin = console_user(app, "admin1", "admin")
    admin.post("/console/permissions", data={"cell": []})  # supervisors lose everything
    assert sv.get("/console/history/CA1/recording").status_code == 403


def test_statistics_pages_render_and_download(app, clock, console_user):
    _seed(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    today = clock.current.astimezone(JST).date().isoformat()
    for path in (f"/console/stats?from={today}&to={today}",
                 f"/console/stats?by=hour&from={today}&to={today}",
                 f"/console/stats?by=agent&from={today}&to={today}",
                 f"/console/stats/numbers?from={today}&to={today}",
                 "/console/stats/status"):
        page = sv.get(path)
        assert page.status_code == 200, path
        assert 'id="chart-data"' in page.get_data(as_text=True)
        download = sv.get(path + ("&" if "?" in path else "?") + "format=csv&encoding=cp932")
        assert download.status_code == 200, path
        download.data.decode("cp932")
    text = sv.get(f"/console/stats?from={today}&to={today}&format=csv").data.decode("utf-8-sig")
    total = list(csv.reader(io.StringIO(text)))[-1]
    assert total[:4] == ["合計", "2", "1", "1"]  # calls, answered, abandoned
    assert sv.get("/console/stats?by=week").status_code == 422


def test_status_statistics_read_the_intervals_presence_records(app, console_user):
    """Status changes written by connector.presence appear, clipped to the hour asked for."""
    from connector import presence

    sv = console_user(app, "sv1", "supervisor")
    start = datetime(2026, 11, 20, 0, 15, tzinfo=UTC)  # 09:15 in Tokyo
    with db.get_engine(app).begin() as conn:
        presence.set_status(conn, sv.agent.id, "available", now=start)
        presence.set_status(conn, sv.agent.id, "away", now=start + timedelta(minutes=30))
        presence.set_status(conn, sv.agent.id, "offline", now=start + timedelta(minutes=70))
    page = sv.get("/console/stats/status?date=2026-11-20&hour=9&hours=1&show=seconds")
    text = page.get_data(as_text=True)
    assert 'id="no-intervals"' not in text
    assert "1800.0s" in text  # 待機 09:15–09:45
    assert "900.0s" in text  # 離席 09:45–10:00 of 09:45–10:25
