"""Group ACD settings: validation with field names."""

import pytest

from voice.acd.settings import GroupSettings, SettingsError, Target, parse


def test_defaults_and_merge():
    settings = parse({"strategy": "skill", "ring_seconds": 15})
    assert settings.strategy == "skill" and settings.ring_seconds == 15
    merged = parse({"acw_seconds": 30}, settings)
    assert (merged.strategy, merged.acw_seconds) == ("skill", 30)
    assert parse(None) == GroupSettings()


def test_every_bad_field_is_named():
    with pytest.raises(SettingsError) as caught:
        parse({"strategy": "fifo", "ring_seconds": 1, "color": "red", "colour": "#000000",
               "leave_key": "12", "overflow": {"type": "external", "value": "03-1234"},
               "timeout": {"type": "moon"}, "queue_music": "ftp://x"})
    assert set(caught.value.problems) == {"strategy", "ring_seconds", "color", "colour",
                                          "leave_key", "overflow", "timeout", "queue_music"}
    assert "E.164" in caught.value.problems["overflow"]


def test_targets():
    settings = parse({"overflow": {"type": "voicemail"},
                      "timeout": {"type": "announcement", "value": "ただいま混み合っております"}})
    assert settings.overflow == Target("voicemail", "")
    assert settings.public()["timeout"] == {"type": "announcement",
                                            "value": "ただいま混み合っております"}
    with pytest.raises(SettingsError, match="overflow: value: required"):
        parse({"overflow": {"type": "group", "value": " "}})
