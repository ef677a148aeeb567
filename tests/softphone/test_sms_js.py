"""The softphone's SMS counter (``static/softphone/js/sms.js``) counts as the server does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from voice import sms_segments

SMS = Path(__file__).resolve().parents[2] / "static" / "softphone" / "js" / "sms.js"

SCRIPT = """
const sms = await import(process.argv[1]);
console.log(JSON.stringify(JSON.parse(process.argv[2]).map((text) => sms.segments(text))));
"""

TEXTS = ["", "a" * 160, "a" * 161, "a" * 306, "a" * 307, "{" * 80, "{" * 81, "€uro",
         "あ" * 70, "あ" * 71, "あ" * 134, "あ" * 135, "😀" * 35, "😀" * 36,
         "お電話ありがとうございました。", "Tel: 03-1234-5678 (9:00-18:00)", "é" * 160,
         "ｱｲｳ", "a\nb\r\nc"]


def test_the_counter_agrees_with_the_server():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is required (Node.js >= 20)")
        pytest.skip("node is not installed")
    # sms.js imports i18n.js, which needs no browser: it only defines texts.
    out = subprocess.run([node, "--input-type=module", "-e", SCRIPT, SMS.as_uri(),
                          json.dumps(TEXTS)], capture_output=True, text=True, timeout=30,
                         check=True)
    assert json.loads(out.stdout) == [sms_segments.count(text).to_dict() for text in TEXTS]
