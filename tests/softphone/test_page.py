"""The softphone page, its static files and the Twilio Voice SDK served by us (no CDN)."""

import re
from pathlib import Path

from connector import assets

STATIC = Path(__file__).resolve().parents[2] / "static" / "softphone"


def get(app, path):
    """GET a file response and close it (file responses hold the file open until closed)."""
    response = app.test_client().get(path)
    response.get_data()
    response.close()
    return response


def test_page_is_served_with_a_csp_for_twilio_and_crm_bridges(app):
    response = get(app, "/softphone/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    csp = dict(d.strip().split(" ", 1) for d in
               response.headers["Content-Security-Policy"].split(";"))
    assert "wss://*.twilio.com" in csp["connect-src"] and "'self'" in csp["connect-src"]
    assert "https://sdk.twilio.com" in csp["media-src"]
    # No foreign script unless Salesforce frames the page (tests/connector/test_salesforce_frame.py)
    assert csp["script-src"].split() == ["'self'"]
    assert "https://*.cybozu.com" in csp["frame-ancestors"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_other_pages_keep_the_strict_policy(app):
    csp = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "twilio" not in csp


def test_page_without_trailing_slash_redirects(app):
    response = app.test_client().get("/softphone")
    assert response.status_code == 308 and response.headers["Location"].endswith("/softphone/")


def test_boot_config_follows_the_settings(make_app):
    app = make_app(softphone={"dispositions": ["完了", "折り返し"], "acw_seconds": 0,
                              "default_language": "en"})
    body = app.test_client().get("/softphone/config.json").get_json()
    assert body["dispositions"] == ["完了", "折り返し"] and body["acw_seconds"] == 0
    assert body["default_language"] == "en" and body["edge"] == "tokyo"
    assert body["mode"] == "simulator" and body["simulator_controls"] is True
    assert "https://*.cybozu.com" in body["crm_origins"]


def test_voice_sdk_is_served_from_the_npm_package(app):
    response = get(app, "/softphone/vendor/twilio.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert b"Twilio" in response.get_data()[:5000] or b"twilio" in response.get_data()


def test_missing_voice_sdk_says_how_to_install_it(app, monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "CHECKOUT_ROOT", tmp_path)  # a checkout without node_modules
    response = app.test_client().get("/softphone/vendor/twilio.min.js")
    assert response.status_code == 404
    assert "npm ci" in response.get_json()["error"]["message"]


def test_static_modules_have_a_javascript_type_and_no_traversal(app):
    module = get(app, "/softphone/js/main.js")
    assert module.status_code == 200 and module.mimetype == "text/javascript"
    assert get(app, "/softphone/../connector/config.py").status_code == 404
    assert get(app, "/softphone/js/../../../pyproject.toml").status_code == 404


def test_no_third_party_script_or_style_is_loaded():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html)
    for script in (STATIC / "js").rglob("*.js"):
        assert "cdn" not in script.read_text(encoding="utf-8").lower(), script


def _dictionary_keys(source: str, name: str) -> set[str]:
    block = re.search(rf"const {name} = \{{(.*?)\n\}};", source, re.S)
    assert block, name
    return set(re.findall(r"^\s*'([\w.]+)':", block.group(1), re.M))


def test_japanese_and_english_dictionaries_match_and_cover_the_page():
    source = (STATIC / "js" / "i18n.js").read_text(encoding="utf-8")
    ja, en = _dictionary_keys(source, "ja"), _dictionary_keys(source, "en")
    assert ja == en, ja ^ en
    used = set()
    for path in [STATIC / "index.html", *(STATIC / "js").rglob("*.js")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n(?:-label|-placeholder)?="([\w.]+)"', text))
        used |= set(re.findall(r"\bt\('([\w.]+)'", text))
    assert used - ja == set()
