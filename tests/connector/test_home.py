"""``GET /`` (the landing page) and ``/docs/`` (the guides of docs/, rendered read-only)."""

from __future__ import annotations

import re
from pathlib import Path

from connector.home import docs

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_landing_page_links_the_softphone_crm_docs_and_health(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html and "ソフトフォン" in html and "模擬モード" in html
    for path in ("/softphone/", "/crm/customers", "/docs/", "/healthz"):
        assert path in _links(html)
    assert "?lang=en" in _links(html)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Softphone" in english
    assert "/docs/?lang=en" in _links(english)
    assert client.get("/?lang=xx").get_data(as_text=True) == html  # unknown: Japanese


def test_landing_page_says_nothing_of_simulated_mode_with_twilio(make_app):
    twilio = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32,
              "api_key_sid": "SK" + "1" * 32, "api_key_secret": "s" * 32,
              "twiml_app_sid": "AP" + "1" * 32}
    html = make_app(twilio=twilio).test_client().get("/").get_data(as_text=True)
    assert "模擬モード" not in html


def test_docs_index_lists_every_guide(client):
    html = client.get("/docs/").get_data(as_text=True)
    names = sorted(p.stem for p in DOCS.glob("*.md"))
    assert names and [f"/docs/{n}" for n in names] == [
        link for link in _links(html) if link.startswith("/docs/") and link != "/docs/"]
    assert "Phone numbers, dialling rules and number lists" in html


def test_a_guide_is_rendered_with_links_for_the_app(client):
    response = client.get("/docs/numbering")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="phone-numbers-dialling-rules-and-number-lists">' in html
    assert "<table>" in html and "<code>0120*</code>" in html
    assert client.get("/docs/numbering.md").get_data(as_text=True) == html
    for link in _links(html):
        if link.startswith("/docs/") and "#" not in link:
            assert client.get(link).status_code == 200, link


def test_every_guide_renders_and_its_images_are_served(client):
    for path in DOCS.glob("*.md"):
        html = client.get(f"/docs/{path.stem}").get_data(as_text=True)
        for src in re.findall(r'<img src="([^"]+)"', html):
            with client.get(src) as image:  # a file response: close it
                assert image.status_code == 200 and image.mimetype == "image/png", src
                assert image.get_data()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_rewrites_links_and_never_passes_html_through():
    title, html = docs.render(
        "# T\n\n[v](voice.md#speed) [r](../README.md) [w](https://example.com) "
        "![s](images/a.png)\n\n<script>alert(1)</script>\n")
    assert title == "T"
    assert '<a href="/docs/voice#speed">v</a>' in html
    assert '<span class="source-path" title="../README.md">r</span>' in html
    assert '<a href="https://example.com">w</a>' in html
    assert '<img src="/docs/images/a.png" alt="s" />' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_unknown_guides_and_paths_are_json_404s(client):
    for path in ("/docs/nope", "/docs/..%2Fpyproject", "/docs/images/../../pyproject.toml",
                 "/docs/UPPER"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get("/docs/nope").get_json()["error"]["code"] == "not_found"


def test_missing_docs_directory_is_reported(app, tmp_path):
    app.extensions["cti.docs_dir"] = tmp_path / "gone"
    error = app.test_client().get("/docs/").get_json()["error"]
    assert error["code"] == "docs_not_installed" and str(tmp_path / "gone") in error["message"]


def test_docs_dir_is_the_source_trees_docs():
    assert docs.docs_dir() == DOCS
