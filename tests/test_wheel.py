"""The wheel runs the product: built from this checkout, installed with requirements/app.lock into a
fresh virtualenv, it serves the softphone, the Voice SDK and the guides and builds the kintone
plugin from its own copies, with the checkout neither the working directory nor on ``sys.path``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path, env: dict[str, str], timeout: int = 240,
        stderr: bool = False) -> str:
    """Run ``command``, which must succeed; its standard output (and error, if ``stderr``)."""
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + (result.stderr if stderr else "")


def clean_env() -> dict[str, str]:
    """The environment without anything that could point Python or cti at the checkout."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CTI_CONFIG")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("CTI_")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv holding the locked runtime dependencies and the wheel; its bin/."""
    work = tmp_path_factory.mktemp("wheel")
    env = clean_env()
    # setuptools' build and egg-info directories go to the temporary directory, not the checkout.
    (work / "build.cfg").write_text(f"[build]\nbuild_base = {work / 'build'}\n"
                                    f"[egg_info]\negg_base = {work}\n", encoding="utf-8")
    build_log = run(sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", work / "dist", REPO, cwd=work,
                    env={**env, "DIST_EXTRA_CONFIG": str(work / "build.cfg")}, stderr=True)
    # setuptools' warnings (e.g. the old `project.license` table) mean the next release may fail.
    assert "deprecat" not in build_log.lower(), build_log
    [wheel] = (work / "dist").glob("cti_connector-*.whl")
    run(sys.executable, "-m", "venv", "--without-pip", work / "venv", cwd=work, env=env)
    venv_python = work / "venv" / "bin" / "python"
    # pip comes from this test's environment (locked), not from the internet or ensurepip.
    pip = [sys.executable, "-m", "pip", "--python", venv_python]
    run(*pip, "install", "--quiet", "--require-hashes", "-r", REPO / "requirements" / "app.lock",
        cwd=work, env=env)
    run(*pip, "install", "--quiet", "--no-deps", wheel, cwd=work, env=env)
    return work / "venv" / "bin"


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """An empty working directory outside the checkout."""
    cwd = tmp_path / "site"
    cwd.mkdir()
    assert not cwd.resolve().is_relative_to(REPO)
    return cwd


def test_the_installed_package_does_not_see_the_checkout(installed, elsewhere):
    probe = ("import json, sys, connector; from connector import assets; print(json.dumps("
             "{'path': sys.path, 'package': connector.__file__, 'wheel': "
             "assets.installed_from_wheel(), 'sdk': str(assets.voice_sdk_script())}))")
    seen = json.loads(run(installed / "python", "-c", probe, cwd=elsewhere, env=clean_env()))
    assert not any(Path(p).resolve().is_relative_to(REPO) for p in seen["path"] if p)
    site = installed.parent.resolve()
    assert Path(seen["package"]).resolve().is_relative_to(site) and seen["wheel"] is True
    assert Path(seen["sdk"]).is_relative_to(site) and Path(seen["sdk"]).is_file()


def test_cti_serve_from_the_wheel_serves_the_softphone_and_voice_sdk(installed, elsewhere):
    port = free_port()
    log = (elsewhere / "serve.log").open("w")
    server = subprocess.Popen([installed / "cti", "serve", "--no-worker", "--port", str(port)],
                              cwd=elsewhere, env=clean_env(), stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server, elsewhere / "serve.log")
        page = requests.get(f"{base}/softphone/", timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        assert page.text == (REPO / "static" / "softphone" / "index.html").read_text("utf-8")
        module = requests.get(f"{base}/softphone/js/main.js", timeout=10)
        assert module.status_code == 200
        assert module.headers["Content-Type"].startswith("text/javascript")
        assert module.content == (REPO / "static" / "softphone" / "js" / "main.js").read_bytes()
        sdk = requests.get(f"{base}/softphone/vendor/twilio.min.js", timeout=10)
        assert sdk.status_code == 200, sdk.text
        packaged = next(installed.parent.glob(
            "lib/python*/site-packages/connector/_assets/voice-sdk/dist/twilio.min.js"))
        assert sdk.content == packaged.read_bytes()
        chart = requests.get(f"{base}/console/vendor/chart.umd.min.js", timeout=10)
        assert chart.status_code == 200 and chart.content == (
            REPO / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js").read_bytes()
        login = requests.get(f"{base}/console/login", timeout=10)
        assert login.status_code == 200 and "signin-form" in login.text  # templates shipped
        guide = requests.get(f"{base}/docs/softphone", timeout=10)
        assert guide.status_code == 200 and "text/html" in guide.headers["Content-Type"]
        image = requests.get(f"{base}/docs/images/softphone-on-call.png", timeout=10)
        assert image.content == (REPO / "docs" / "images" / "softphone-on-call.png").read_bytes()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def test_kintone_plugin_builds_from_the_wheel(installed, elsewhere):
    out = run(installed / "cti", "kintone-plugin", "build", cwd=elsewhere, env=clean_env())
    assert "plugin id" in out
    with zipfile.ZipFile(elsewhere / "var" / "kintone-plugin.zip") as package:
        assert sorted(package.namelist()) == ["PUBKEY", "SIGNATURE", "contents.zip"]
        contents = zipfile.ZipFile(io.BytesIO(package.read("contents.zip")))
    manifest = json.loads(contents.read("manifest.json"))
    assert manifest == json.loads((REPO / "kintone-plugin" / "manifest.json").read_bytes())
    assert len(contents.namelist()) > 1


def test_a_build_without_the_voice_sdk_says_to_run_npm_ci(tmp_path):
    # A copy of the checkout's sources, as on a machine where `npm ci` has not run.
    outputs = {".git", "node_modules", "var", "build", "dist", "test-artifacts"}
    source = tmp_path / "checkout"
    shutil.copytree(REPO, source, ignore=lambda folder, names: [
        n for n in names if (Path(folder) == REPO and (n in outputs or n.startswith(".venv")))
        or n in ("__pycache__", ".pytest_cache", ".ruff_cache") or n.endswith(".egg-info")])
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "--no-build-isolation", "--wheel-dir", tmp_path / "dist", source],
                            cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                            timeout=240)
    assert result.returncode != 0 and not list((tmp_path / "dist").glob("*.whl"))
    assert ("node_modules/@twilio/voice-sdk/dist/twilio.min.js is missing; run `npm ci`"
            in result.stdout + result.stderr)


def wait_healthy(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"cti serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    pytest.fail(f"cti serve did not become healthy:\n{log.read_text()}")
