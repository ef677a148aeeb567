"""Where the product's non-Python files are: the softphone, the kintone plugin, the docs and the
Twilio Voice SDK.

In a checkout (and an editable install) they are read from the source tree: ``static/softphone/``,
``kintone-plugin/``, ``docs/`` and ``node_modules/@twilio/voice-sdk/`` (installed by ``npm ci``).
A wheel carries copies of them in ``connector/_assets/``, made at build time by ``setup.py``; the
installed package then needs no checkout. Every user of these files asks this module, so both
layouts behave the same.

This module imports nothing but the standard library: ``setup.py`` loads it by path to learn
what to copy, before any dependency is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The copies inside an installed wheel (absent in a checkout: never created in the source tree).
PACKAGED_DIR = Path(__file__).resolve().parent / "_assets"
#: The source tree around this file when it runs from a checkout.
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Asset:
    """One directory of files the product serves or packs.

    Attributes:
        name: its directory inside ``connector/_assets/`` in a wheel.
        source: its directory in a checkout, relative to the checkout's root.
        files: only these files of ``source`` are shipped (all of it when empty).
        install_step: what makes ``source`` exist in a checkout when it is not committed.
    """

    name: str
    source: str
    files: tuple[str, ...] = ()
    install_step: str = ""


SOFTPHONE = Asset("softphone", "static/softphone")
KINTONE_PLUGIN = Asset("kintone-plugin", "kintone-plugin")
DOCS = Asset("docs", "docs")
#: Only the minified build is served (``/softphone/vendor/twilio.min.js``); its licence travels
#: with it.
VOICE_SDK = Asset("voice-sdk", "node_modules/@twilio/voice-sdk",
                  files=("dist/twilio.min.js", "LICENSE.md"), install_step="npm ci")
VOICE_SDK_SCRIPT = "dist/twilio.min.js"
#: Chart.js for the console's charts (``/console/vendor/chart.umd.min.js``), with its licence.
CHART_JS = Asset("chart-js", "node_modules/chart.js",
                 files=("dist/chart.umd.min.js", "LICENSE.md"), install_step="npm ci")
CHART_JS_SCRIPT = "dist/chart.umd.min.js"

#: Everything a wheel carries, in the order ``setup.py`` copies it.
ALL = (SOFTPHONE, KINTONE_PLUGIN, DOCS, VOICE_SDK, CHART_JS)


def installed_from_wheel() -> bool:
    """True when this package runs from an installed wheel (it then carries its own copies)."""
    return PACKAGED_DIR.is_dir()


def directory(asset: Asset) -> Path:
    """The directory holding ``asset``: the wheel's copy, else the checkout's source."""
    if installed_from_wheel():
        return PACKAGED_DIR / asset.name
    return CHECKOUT_ROOT / asset.source


def voice_sdk_script() -> Path:
    """The Twilio Voice SDK's ``twilio.min.js`` (maybe missing: see :func:`voice_sdk_problem`)."""
    return directory(VOICE_SDK) / VOICE_SDK_SCRIPT


def voice_sdk_problem() -> str | None:
    """Why the Voice SDK cannot be served, saying what to run; ``None`` when it is there.

    No file-system path: the message is also an HTTP answer (``cti doctor`` adds the path).
    """
    if voice_sdk_script().is_file():
        return None
    if installed_from_wheel():
        return ("the Twilio Voice SDK is missing from the installed cti-connector package: "
                "reinstall it from a wheel built after `npm ci`")
    return (f"the Twilio Voice SDK is not installed: run `{VOICE_SDK.install_step}` (or "
            "`make setup`) in the cti-connector checkout")
