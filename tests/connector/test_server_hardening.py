"""Real servers as documented (issue 17): `cti serve` (threaded werkzeug) and gunicorn (two
processes of four threads, `--access-logfile`), both on one real Redis and one SQLite file.

Sign-in abuse is raced: each race sends 50 requests released together by a barrier. Their
access logs must not show a phone number in any notation. The client address is set with
``X-Forwarded-For`` behind ``[server] proxy_hops = 1``, so one test plays many addresses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from connector import db
from connector.auth import accounts
from connector.config import settings_from_mapping
from tests.conftest import TEST_SECRET_KEY
from tests.connector.test_cli import _free_port

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PASSWORD = "Correct-horse-42"
WRONG = "Wrong-password-1"
RACERS = 50
HANG_GUARD = 60


def _config(tmp_path: Path, redis_url: str, port: int) -> Path:
    path = tmp_path / "cti.toml"
    path.write_text(f"""
[server]
public_base_url = "http://127.0.0.1:{port}"
secret_key = "{TEST_SECRET_KEY}"
data_dir = "{tmp_path / 'var'}"
proxy_hops = 1
[storage]
database_url = "sqlite:///{tmp_path / 'cti.db'}"
[queue]
redis_url = "{redis_url}"
[crm]
adapters = []
[auth]
max_failed_attempts = 3
lockout_minutes = 15
[auth.throttle]
per_account_address = "5/minute;10/hour"
per_address = "200/minute"
""")
    return path


def _prepare(config: Path) -> None:
    """Migrate and create the agent the way `cti db upgrade` and `cti user add` would."""
    settings = settings_from_mapping(__import__("tomllib").loads(config.read_text()))
    engine = db.make_engine(settings.storage.database_url)
    db.upgrade(engine)
    from datetime import UTC, datetime

    with engine.begin() as conn:
        for name in ("agent1", "agent2"):
            accounts.create_agent(conn, username=name, display_name=name, password=PASSWORD,
                                  policy=settings.auth, now=datetime.now(UTC))
    engine.dispose()


@pytest.fixture(params=["cti-serve", "gunicorn"])
def server(request, tmp_path, redis_url):
    port = _free_port()
    config = _config(tmp_path, redis_url, port)
    _prepare(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTI_", "TWILIO_"))}
    env["CTI_CONFIG"] = str(config)
    if request.param == "cti-serve":
        command = [sys.executable, "-m", "connector.cli", "serve", "--port", str(port),
                   "--no-worker", "--no-demo"]
    else:
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
                   "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
                   "connector.wsgi:create_wsgi_app()"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + HANG_GUARD
    while True:
        try:
            requests.get(base + "/healthz", timeout=10)
            break
        except (requests.ConnectionError, requests.Timeout):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.2)
    yield base, tmp_path / "server.log"
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def _login(base, username, password, address):
    return requests.post(f"{base}/api/auth/login",
                         json={"username": username, "password": password},
                         headers={"X-Forwarded-For": address}, timeout=HANG_GUARD)


def _race(count, send):
    barrier = threading.Barrier(count)

    def one(index):
        barrier.wait(timeout=HANG_GUARD)
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_fifty_concurrent_guesses_from_one_address(server):
    server, _log = server
    responses = _race(RACERS, lambda i: _login(server, "agent1", WRONG, "203.0.113.5"))
    counts = Counter(r.status_code for r in responses)
    assert counts == {401: 5, 429: RACERS - 5}  # exactly the window's 5 were checked
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "too_many_attempts"
    # The right password from that address is refused too: no check happens now …
    assert _login(server, "agent1", PASSWORD, "203.0.113.5").status_code == 429
    # … and the agent, elsewhere, was neither locked nor slowed by it.
    assert _login(server, "agent1", PASSWORD, "198.51.100.20").status_code == 200


def test_fifty_addresses_lock_the_account_when_the_policy_asks(server):
    server, _log = server
    responses = _race(RACERS, lambda i: _login(server, "agent2", WRONG, f"203.0.113.{i + 1}"))
    assert Counter(r.status_code for r in responses) == {401: RACERS}
    # max_failed_attempts = 3 from more than one address: locked, even for the right password.
    assert _login(server, "agent2", PASSWORD, "198.51.100.30").status_code == 401
    assert _login(server, "agent1", PASSWORD, "198.51.100.30").status_code == 200


def test_fifty_concurrent_refreshes_of_one_token_one_wins(server):
    server, _log = server
    signed_in = _login(server, "agent1", PASSWORD, "198.51.100.40").json()
    token = signed_in["refresh_token"]
    responses = _race(RACERS, lambda i: requests.post(
        f"{server}/api/auth/refresh", json={"refresh_token": token},
        headers={"X-Forwarded-For": f"198.51.100.{100 + i}"}, timeout=HANG_GUARD))
    counts = Counter(r.status_code for r in responses)
    assert counts == {200: 1, 401: RACERS - 1}  # exactly one rotation
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 401} == {
        "invalid_session"}
    # Racers that came after the rotation presented a used token — a replay — so the
    # session may have been ended; the old token never works again either way.
    again = requests.post(f"{server}/api/auth/refresh", json={"refresh_token": token},
                          headers={"X-Forwarded-For": "198.51.100.41"}, timeout=HANG_GUARD)
    assert again.status_code == 401


def test_fifty_concurrent_password_changes_with_wrong_passwords(server):
    server, _log = server
    def change(_index):
        return requests.post(f"{server}/api/auth/password",
                             json={"username": "agent1", "current_password": WRONG,
                                   "new_password": "Another-horse-43"},
                             headers={"X-Forwarded-For": "203.0.113.77"}, timeout=HANG_GUARD)

    counts = Counter(r.status_code for r in _race(RACERS, change))
    assert counts == {401: 5, 429: RACERS - 5}
    assert _login(server, "agent1", PASSWORD, "198.51.100.50").status_code == 200


#: Query strings as browsers and the CRM search page send them, one notation each.
NOTATIONS = ["q=090+1234+5678", "q=090%201234%205678", "q=81-90-1234-5678",
             "q=090.1234.5678", "q=090%E3%83%BB1234%E3%83%BB5678", "q=%2B819012345678",
             "q=09012345678", "q=090-1234-5678"]


def test_access_log_masks_every_notation(server):
    base, log = server
    for query in NOTATIONS:
        requests.get(f"{base}/api/crm/customers?{query}", timeout=HANG_GUARD)
    requests.get(f"{base}/healthz?marker=done", timeout=HANG_GUARD)
    deadline = time.monotonic() + HANG_GUARD
    while "marker=done" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # the access line is written after the response
    text = log.read_text()
    lines = [line for line in text.splitlines() if "/api/crm/customers?" in line]
    assert len(lines) == len(NOTATIONS), text
    for line in lines:
        digits = "".join(ch for ch in line.split("?", 1)[1].split()[0]
                         .replace("%20", " ").replace("%E3%83%BB", " ").replace("%2B", "+")
                         if ch.isdigit())
        assert "1234" not in digits and "12345678" not in digits, line
        assert "****" in line, line
