"""Browser-free checks of the plugin's JavaScript (the headless-Chromium test comes with the
softphone): syntax, the ES2019 promise, and the protocol and settings names it relies on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[3] / "kintone-plugin"
SCRIPTS = sorted(PLUGIN.glob("js/*.js"))


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_javascript_parses(script: Path) -> None:
    result = subprocess.run([node(), "--check", str(script)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_syntax_newer_than_es2019(script: Path) -> None:
    code = re.sub(r"'(?:\\.|[^'\\])*'", "''", script.read_text(encoding="utf-8"))
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
    assert "?." not in code and "??" not in code  # optional chaining, nullish coalescing


def test_scripts_are_the_ones_the_manifest_loads() -> None:
    manifest = json.loads((PLUGIN / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["desktop"]["js"] == ["js/desktop.js"]
    assert manifest["config"]["js"] == ["js/config.js"]
    assert sorted(p.relative_to(PLUGIN).as_posix() for p in SCRIPTS) == ["js/config.js",
                                                                         "js/desktop.js"]


def test_settings_keys_agree_between_config_and_desktop() -> None:
    manifest = json.loads((PLUGIN / "manifest.json").read_text(encoding="utf-8"))
    config_js = (PLUGIN / "js" / "config.js").read_text(encoding="utf-8")
    desktop_js = (PLUGIN / "js" / "desktop.js").read_text(encoding="utf-8")
    for key in manifest["config"]["required_params"] + ["nameFields"]:
        assert f"{key}:" in config_js and f"raw.{key}" in desktop_js, key


def test_protocol_messages_and_window() -> None:
    desktop_js = (PLUGIN / "js" / "desktop.js").read_text(encoding="utf-8")
    for fragment in ("type: 'cti:dial'", "'cti:ready'", "const PROTOCOL_VERSION = 1;",
                     "const WINDOW_NAME = 'cti-softphone';",
                     "const WINDOW_FEATURES = 'popup,width=380,height=680';",
                     "'/softphone/?crm=kintone'", "event.origin !== config.origin",
                     "postMessage(message, config.origin)", "setAttribute('aria-label', '発信')",
                     "'app.record.detail.show'", "'app.record.index.show'"):
        assert fragment in desktop_js, fragment
