"""``/crm`` pages: data-free shells under the strict CSP; the data needs a bearer token."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "connector" / "builtin_crm" / "static"
PAGES = ["/crm/customers", "/crm/customers/new", "/crm/customers/7", "/crm/customers/7/edit",
         "/crm/import"]


@pytest.fixture
def crm_app(app):
    """The pages do not depend on the database: SQLite only (``add_customer`` uses this)."""
    return app


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_shells_without_data_or_inline_code(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert '<script type="module" src="/crm/static/main.js"></script>' in html
    assert '<link rel="stylesheet" href="/crm/static/crm.css">' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script
    assert " style=" not in html and "<style" not in html and " on" not in html.replace(
        " only", "")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp


def test_customer_page_names_its_customer_for_the_script(app, add_customer):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    html = app.test_client().get(f"/crm/customers/{customer_id}").get_data(as_text=True)
    assert f'data-page="customer" data-customer-id="{customer_id}"' in html
    assert "山田" not in html and "1234" not in html  # the data comes from the API only


def test_index_redirects_to_the_list(app):
    response = app.test_client().get("/crm/")
    assert response.status_code == 302 and response.headers["Location"] == "/crm/customers"


def test_non_numeric_customer_id_is_not_found(app):
    assert app.test_client().get("/crm/customers/abc").status_code == 404


SCRIPTS = sorted(STATIC.glob("*.js"))


@pytest.mark.parametrize(("name", "mimetype"), [*[(p.name, "text/javascript") for p in SCRIPTS],
                                                ("crm.css", "text/css")])
def test_static_files(app, name, mimetype):
    response = app.test_client().get(f"/crm/static/{name}")
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and response.mimetype == mimetype
    assert body == (STATIC / name).read_bytes()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_as_modules(script):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--input-type=module", "--check"], input=script.read_text(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_modules_import_only_each_other():
    for script in SCRIPTS:
        for target in re.findall(r"from '([^']+)'", script.read_text(encoding="utf-8")):
            assert target.startswith("./") and (STATIC / target[2:]).is_file(), (script, target)


def test_script_uses_the_documented_storage_keys_and_messages():
    script = "".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    docs = (ROOT / "docs" / "builtin-crm.md").read_text(encoding="utf-8")
    for fragment in ("cti.access_token", "cti.refresh_token", "cti:token-request", "cti:token",
                     "cti:dial"):
        assert f"'{fragment}'" in script, fragment
        assert f"{fragment}" in docs, fragment
    assert "innerHTML" not in script  # text only: customer data never becomes markup


@pytest.mark.parametrize(("phone", "shown", "problem"), [
    ("+81312345678", "03-1234-5678", ""),  # what the softphone sends for an unknown caller
    ("０９０－１１１１－２２２２", "090-1111-2222", ""),
    ("", "", ""),
    ("312345678", "312345678", "先頭の0"),  # kept as given, with the reason
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;", "登録できません"),  # text only, never markup
])
def test_new_customer_form_takes_the_callers_number(app, phone, shown, problem):
    html = app.test_client().get("/crm/customers/new", query_string={"phone": phone}).get_data(
        as_text=True)
    prefill = re.search(r'<div id="prefill" data-phone="([^"]*)" data-problem="([^"]*)" hidden>',
                        html)
    assert prefill is not None
    assert prefill.group(1) == shown
    assert (problem in prefill.group(2)) if problem else prefill.group(2) == ""
