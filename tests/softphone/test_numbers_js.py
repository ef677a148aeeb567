"""The softphone's number helpers (``static/softphone/js/numbers.js``), run in Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NUMBERS = Path(__file__).resolve().parents[2] / "static" / "softphone" / "js" / "numbers.js"

SCRIPT = """
const numbers = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify(cases.map(([fn, ...args]) => numbers[fn](...args))));
"""


def run_node(cases: list[list[object]]) -> list[object]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is required (Node.js >= 20)")
        pytest.skip("node is not installed")
    out = subprocess.run([node, "--input-type=module", "-e", SCRIPT, NUMBERS.as_uri(),
                          json.dumps(cases)], capture_output=True, text=True, timeout=30,
                         check=True)
    return json.loads(out.stdout)


def test_caller_id_prefixes_reach_the_server_and_show_on_the_call():
    assert run_node([
        ["cleanNumber", "１８４－０３－１２３４－５６７８"],
        ["cleanNumber", "186 090-1234-5678"],
        ["withCallerIdPrefix", "090-1234-5678", "186"],
        ["withCallerIdPrefix", "090-1234-5678", None],
    ]) == ["1840312345678", "18609012345678", "186 090-1234-5678", "090-1234-5678"]
