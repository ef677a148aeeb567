"""A fake kintone domain for browser tests: its REST API and the desktop screens the
click-to-call plugin runs in.

* ``/k/v1/…`` (and guest-space paths): the REST API of :class:`tests.fakes.kintone.FakeKintone`,
  which the connector's kintone adapter talks to;
* ``/k/<app>/`` (record list), ``/k/<app>/show#record=<id>`` (record detail; ``&mode=edit`` for
  the edit screen) and ``/k/<app>/edit`` (add record): pages with the fake ``kintone`` global
  (``fake_kintone.js``), the plugin's real ``desktop.js`` and ``desktop.css``, and the app's
  records as the fake holds them when the page loads;
* ``/plugin/…``: the plugin's files, as kintone serves them from the uploaded package.

Serve it on another origin than the connector (``http://localhost:<port>`` against the app's
``http://127.0.0.1:<port>``), as kintone and the connector are in real life.
"""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.kintone import FakeKintone, system_fields

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "kintone-plugin"
FAKE_KINTONE_JS = Path(__file__).with_name("fake_kintone.js")
#: Any id: kintone derives it from the signing key; the page hands it to the plugin.
PLUGIN_ID = "kjgkgmpjgdcnfeiepiomeekbhbbjmfnb"

_REST = re.compile(r"^/k/(?:guest/\d+/)?v1/")
_SCREEN = re.compile(r"^/k/(?:guest/\d+/)?(\d+)/(show|edit)?$")
_SCREENS = {None: "index", "show": "detail", "edit": "create"}

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>kintone</title>
<link rel="stylesheet" href="/plugin/css/desktop.css"></head>
<body>
<div id="header-menu-space"></div>
<div id="record-header-space"></div>
<main id="screen"></main>
<script>window.__KINTONE_PAGE__ = {page};</script>
<script src="/fake-kintone.js"></script>
<script src="/plugin/js/desktop.js"></script>
<script>window.__kintone.start();</script>
</body></html>
"""


class KintoneSite:
    """The WSGI app of the fake domain; ``plugin_config`` is what the plugin's settings hold."""

    def __init__(self, fake: FakeKintone, plugin_config: dict[str, str]) -> None:
        self.fake = fake
        self.plugin_config = plugin_config

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if _REST.match(request.path):
            return self.fake(environ, start_response)
        return self.page(request)(environ, start_response)

    def page(self, request: Request) -> Response:
        if request.path == "/fake-kintone.js":
            return _file(FAKE_KINTONE_JS)
        if request.path.startswith("/plugin/"):
            path = (PLUGIN_DIR / request.path.removeprefix("/plugin/")).resolve()
            if PLUGIN_DIR in path.parents and path.is_file():
                return _file(path)
        match = _SCREEN.match(request.path)
        if match and int(match.group(1)) in self.fake.apps:
            data = self.page_data(int(match.group(1)), _SCREENS[match.group(2)])
            body = PAGE.replace("{page}", json.dumps(data, ensure_ascii=False)
                                .replace("</", "<\\/"))
            return Response(body, content_type="text/html; charset=utf-8")
        return Response("not found", status=404)

    def page_data(self, app_id: int, screen: str) -> dict[str, Any]:
        app = self.fake.apps[app_id]
        types = app.types()
        fields = [code for code in app.properties if code not in system_fields()]
        records = {}
        for record in self.fake.records(app_id):
            wire = {code: {"type": types.get(code, "SINGLE_LINE_TEXT"), "value": value}
                    for code, value in record.items() if not code.startswith("$")}
            wire["$id"] = {"type": "__ID__", "value": record["$id"]}
            wire["$revision"] = {"type": "__REVISION__", "value": record["$revision"]}
            records[record["$id"]] = wire
        return {"appId": app_id, "screen": screen, "fields": fields, "records": records,
                "pluginId": PLUGIN_ID, "pluginConfig": self.plugin_config}


def _file(path: Path) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        mimetype = "text/javascript"
    return Response(path.read_bytes(), mimetype=mimetype)
