"""Build hook: a wheel carries the softphone, the kintone plugin, the docs and the Twilio Voice SDK.

Those live outside the Python packages in a checkout (``connector/assets.py`` lists them), so
``build_py`` copies them into ``connector/_assets/`` of the build. Editable installs copy
nothing: they read the checkout itself. Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent


def _load_asset_list():
    # By path: importing the ``connector`` package would import Flask, which a build need not have.
    spec = importlib.util.spec_from_file_location("_cti_assets", ROOT / "connector" / "assets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class BuildWithAssets(build_py):
    """``build_py`` that also copies the assets into ``connector/_assets/``."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_assets()

    def copy_assets(self) -> None:
        assets = _load_asset_list()
        target_root = Path(self.build_lib) / "connector" / assets.PACKAGED_DIR.name
        # A build directory survives between builds: start clean so a file deleted from the
        # sources is not shipped from an older build.
        shutil.rmtree(target_root, ignore_errors=True)
        for asset in assets.ALL:
            source = ROOT / asset.source
            target = target_root / asset.name
            if not asset.files:
                if not source.is_dir():
                    raise SetupError(f"building the wheel: {source} is missing")
                shutil.copytree(source, target)
                continue
            for name in asset.files:
                if not (source / name).is_file():
                    raise SetupError(
                        f"building the wheel: {source / name} is missing; run "
                        f"`{asset.install_step}` (or `make setup`) in {ROOT} first, then build "
                        "again")
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, target / name)


setup(cmdclass={"build_py": BuildWithAssets})
