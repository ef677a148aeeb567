"""Request bodies: ``[server] max_request_bytes`` for webhooks and APIs, larger CSV uploads."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from connector.builtin_crm import csv_import
from connector.config import ConfigError, settings_from_mapping
from connector.request_size import MULTIPART_OVERHEAD
from connector.voice.admin import MAX_UPLOAD_BYTES
from tests.connector.test_auth import add_agent, bearer, login

MIB = 1024 * 1024


def _admin_headers(app):
    add_agent(app, username="admin", role="admin")
    response = login(app.test_client(), username="admin")
    return bearer(response.get_json()["access_token"])


def _post_multipart(client, path, headers, fields):
    """The body built in memory: the test client spools big ones to a file it never closes."""
    boundary, body = encode_multipart(fields)
    return client.post(path, headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _assert_too_large(response, limit):
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large"
    assert error["details"] == {"limit_bytes": limit}
    assert f"{limit:,} bytes" in error["message"]


def test_a_30_mb_webhook_body_is_refused_before_it_is_parsed(client):
    """Webhooks read at most 64 KiB (connector/voice/webhook.py); unsigned ones nothing (403)."""
    body = b"CallSid=CA" + b"1" * (30 * MIB)
    response = client.post("/twilio/voice/inbound", data=body,
                           headers={"X-Twilio-Signature": "A" * 27 + "="},
                           content_type="application/x-www-form-urlencoded")
    _assert_too_large(response, 64 * 1024)
    unsigned = client.post("/twilio/voice/inbound", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert unsigned.status_code == 403


def test_a_json_api_body_over_the_limit_is_refused(client):
    response = client.post("/api/auth/login", data=b'{"username": "' + b"a" * (2 * MIB) + b'"}',
                           content_type="application/json")
    _assert_too_large(response, MIB)


def test_the_limit_is_configurable_and_bodies_below_it_pass(make_app):
    app = make_app(server={"max_request_bytes": 20_000})
    client = app.test_client()
    _assert_too_large(client.post("/api/auth/login", json={"username": "a" * 30_000}), 20_000)
    below = client.post("/api/auth/login", json={"username": "a" * 10_000, "password": "x"})
    assert below.status_code != 413


def _streamed(client, path, body):
    """A chunked request: no Content-Length, the server terminates the stream."""
    environ = {"wsgi.input": io.BytesIO(body), "HTTP_TRANSFER_ENCODING": "chunked",
               "wsgi.input_terminated": True}
    return client.post(path, environ_overrides=environ,
                       content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("extra", [1, 30_000])
def test_a_streamed_body_over_the_limit_is_refused_not_cut(make_app, extra):
    client = make_app(server={"max_request_bytes": 20_000}).test_client()
    body = b"From=" + b"1" * (20_000 - 5 + extra)
    _assert_too_large(_streamed(client, "/twilio/voice/inbound", body), 20_000)


def test_a_streamed_body_at_the_limit_is_read_whole(make_app):
    client = make_app(server={"max_request_bytes": 20_000}).test_client()
    body = b'{"username": "' + b"a" * (20_000 - 16) + b'"}'
    assert len(body) == 20_000
    environ = {"wsgi.input": io.BytesIO(body), "HTTP_TRANSFER_ENCODING": "chunked",
               "wsgi.input_terminated": True}
    response = client.post("/api/auth/login", environ_overrides=environ,
                           content_type="application/json")
    # The whole JSON arrived (a cut one would be a 400 about malformed JSON).
    assert response.status_code in (401, 422), response.get_json()


def test_csv_uploads_may_exceed_the_general_limit(app):
    headers = _admin_headers(app)
    client = app.test_client()
    csv = "氏名,電話番号\n" + "山田 太郎,03-1234-5678\n" * (2 * MIB // 30)
    fields = MultiDict([("file", FileStorage(io.BytesIO(csv.encode()), "customers.csv")),
                        ("map", "name=氏名"), ("map", "phone=電話番号"), ("dry_run", "true")])
    response = _post_multipart(client, "/api/crm/import", headers, fields)
    assert response.status_code == 200, response.get_json()
    rules = "number,note\n" + "".join(f"03-1234-{i:04d},x\n" for i in range(10_000)) * 10
    assert MIB < len(rules.encode()) < MAX_UPLOAD_BYTES
    imported = client.post("/api/admin/number-lists/restrict/import", headers=headers,
                           data=rules.encode(), content_type="text/csv")
    assert imported.status_code == 200, imported.get_json()


def test_csv_uploads_have_their_own_limit(app):
    headers = _admin_headers(app)
    client = app.test_client()
    big = FileStorage(io.BytesIO(b"x" * (csv_import.MAX_BYTES + MULTIPART_OVERHEAD)), "a.csv")
    response = _post_multipart(client, "/api/crm/import", headers, {"file": big})
    _assert_too_large(response, csv_import.MAX_BYTES + MULTIPART_OVERHEAD)


def test_large_bodies_need_a_signed_in_admin_first(client):
    response = client.post("/api/crm/import", data=b"x" * (2 * MIB),
                           content_type="multipart/form-data; boundary=x")
    assert response.status_code == 401


def test_a_tiny_limit_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="server: max_request_bytes: must be at least 16384"):
        settings_from_mapping({"server": {"max_request_bytes": 100,
                                          "data_dir": str(tmp_path)}})
