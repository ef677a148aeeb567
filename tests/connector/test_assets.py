"""connector.assets: a checkout reads its source tree, an installed wheel its own copies."""

from pathlib import Path

import pytest

from connector import assets, doctor, kintone_plugin
from connector.home import docs
from tests.connector.crm_fixtures import registered_worker
from tests.connector.test_integrations_cli import invoke

REPO = Path(__file__).resolve().parents[2]
TWILIO = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32, "api_key_sid": "SK" + "1" * 32,
          "api_key_secret": "s" * 32, "twiml_app_sid": "AP" + "1" * 32}


@pytest.fixture
def wheel_layout(tmp_path, monkeypatch):
    """Pretend the package runs from a wheel whose copies are in ``tmp_path/_assets``."""
    packaged = tmp_path / "_assets"
    (packaged / "softphone").mkdir(parents=True)
    monkeypatch.setattr(assets, "PACKAGED_DIR", packaged)
    return packaged


@pytest.fixture
def no_voice_sdk(tmp_path, monkeypatch):
    """A checkout where `npm ci` has not run."""
    monkeypatch.setattr(assets, "PACKAGED_DIR", tmp_path / "no-assets")
    monkeypatch.setattr(assets, "CHECKOUT_ROOT", tmp_path / "checkout")


def test_a_checkout_reads_its_source_tree():
    assert not assets.installed_from_wheel()
    assert assets.directory(assets.SOFTPHONE) == REPO / "static" / "softphone"
    assert assets.directory(assets.KINTONE_PLUGIN) == REPO / "kintone-plugin"
    assert assets.directory(assets.DOCS) == REPO / "docs"
    assert assets.voice_sdk_script() == (REPO / "node_modules" / "@twilio" / "voice-sdk" / "dist"
                                         / "twilio.min.js")
    assert assets.voice_sdk_problem() is None


def test_a_wheel_reads_its_own_copies(wheel_layout):
    assert assets.installed_from_wheel()
    assert assets.directory(assets.SOFTPHONE) == wheel_layout / "softphone"
    assert kintone_plugin.default_source_dir() == wheel_layout / "kintone-plugin"
    assert docs.docs_dir() == wheel_layout / "docs"
    assert assets.voice_sdk_script() == wheel_layout / "voice-sdk" / "dist" / "twilio.min.js"


def test_every_asset_a_wheel_ships_exists_in_the_checkout():
    for asset in assets.ALL:
        source = REPO / asset.source
        assert source.is_dir(), asset
        assert all((source / name).is_file() for name in asset.files), asset


def test_missing_voice_sdk_in_a_checkout_says_to_run_npm_ci(no_voice_sdk):
    problem = assets.voice_sdk_problem()
    assert problem is not None and "`npm ci`" in problem and "checkout" in problem


def test_missing_voice_sdk_in_a_wheel_says_to_reinstall(wheel_layout):
    problem = assets.voice_sdk_problem()
    assert problem is not None and "reinstall" in problem and "npm ci" in problem


def test_doctor_warns_about_a_missing_voice_sdk_in_simulated_mode(app, no_voice_sdk):
    verdict = doctor.voice_sdk_verdict(app)
    assert verdict.ok and verdict.severity == "warning"
    assert "`npm ci`" in verdict.message and str(assets.voice_sdk_script()) in verdict.message
    with registered_worker(app):  # without a worker, doctor would fail for that reason
        result = invoke(app, "doctor")
    assert result.exit_code == 0, result.output
    assert "!   softphone: Twilio Voice SDK: " in result.output


def test_doctor_fails_on_a_missing_voice_sdk_with_a_twilio_account(make_app, no_voice_sdk):
    app = make_app(twilio=TWILIO)
    verdict = doctor.voice_sdk_verdict(app)
    assert not verdict.ok and "`npm ci`" in verdict.message
    result = invoke(app, "doctor")
    assert result.exit_code == 1 and "NG  softphone: Twilio Voice SDK: " in result.output


def test_doctor_says_where_the_voice_sdk_is_served_from(app):
    verdict = doctor.voice_sdk_verdict(app)
    assert verdict.ok and verdict.severity == "error"
    assert verdict.message == f"served from {assets.voice_sdk_script()}"
