"""docs/kintone.md stays true: its configuration example parses and covers every setting."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from crm_adapters.kintone import CallHistoryFields, KintoneApp, KintoneSettings
from crm_adapters.settings import parse_settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "kintone.md"


def example() -> str:
    (block,) = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return block


def test_the_example_configuration_parses() -> None:
    table = tomllib.loads(example())["crm"]["kintone"]
    environ = {name: f"value-of-{name}" for name in re.findall(r'env = "(\w+)"', example())}
    settings = parse_settings(KintoneSettings, table, where="crm.kintone", environ=environ)
    assert [a.kind for a in settings.apps] == ["crm", "call_history", "general"]
    assert settings.app("call_history").fields.call_sid == "CallSid"


def test_every_setting_is_documented() -> None:
    text = example()
    for cls in (KintoneSettings, KintoneApp, CallHistoryFields):
        for field in dataclasses.fields(cls):
            assert re.search(rf"^#? ?{field.name} =", text, re.M) or \
                f"[crm.kintone.{field.name}]" in text or \
                f"[crm.kintone.apps.{field.name}]" in text or \
                f"[[crm.kintone.{field.name}]]" in text, f"{cls.__name__}.{field.name}"
