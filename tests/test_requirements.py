"""The lock files agree with pyproject.toml and with each other; ``make test-latest``'s helpers."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
LOCKS = REPO / "requirements"


def load_latest():
    spec = importlib.util.spec_from_file_location("latest", LOCKS / "latest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


latest = load_latest()


def all_pins(lock: Path) -> dict[str, str]:
    """Every pin of a lock, whatever its environment marker."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[latest.normalise(match.group(1))] = match.group(2)
    return pins


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def tools() -> list[str]:
    lines = (LOCKS / "tools.in").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("lock, requirements", [
    ("app.lock", project()["dependencies"]),
    ("dev.lock", [*project()["dependencies"], *project()["optional-dependencies"]["dev"],
                  *tools()]),
    ("build.lock", tools()),
])
def test_each_lock_pins_what_it_covers_within_the_declared_ranges(lock, requirements):
    pins = all_pins(LOCKS / lock)
    for text in requirements:
        requirement = Requirement(text)
        version = pins.get(latest.normalise(requirement.name))
        assert version is not None, f"{lock} does not pin {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {requirement.name}=={version} outside {requirement.specifier}: "
            "run `make lock`")


def test_the_locks_agree_with_each_other():
    dev = all_pins(LOCKS / "dev.lock")
    for lock in ("app.lock", "build.lock"):
        pins = all_pins(LOCKS / lock)
        assert pins and {name: dev.get(name) for name in pins} == pins, lock


@pytest.mark.parametrize("lock", ["app.lock", "dev.lock", "build.lock"])
def test_every_pin_has_a_hash(lock):
    # A package's entry runs from its `name==version` line to the next one.
    entries = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text(encoding="utf-8"))
    pinned = [entry for entry in entries if "==" in entry.split("\n", 1)[0]]
    assert pinned and all("--hash=sha256:" in entry for entry in pinned)


def test_unbounded_keeps_the_name_and_extras_only():
    assert latest.unbounded("flask>=3.1,<4") == "flask"
    assert latest.unbounded("psycopg[binary]>=3.1,<4") == "psycopg[binary]"
    assert latest.unbounded("redis>=5.0.1,<8.2") == "redis"
    with pytest.raises(ValueError, match="not a requirement"):
        latest.unbounded(">=1.0")


def test_declared_reads_pyproject_and_in_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["flask>=3.1,<4", "rq>=2.8"]\n'
        '[project.optional-dependencies]\ndev = ["pytest>=8,<10"]\n', encoding="utf-8")
    (tmp_path / "tools.in").write_text("# tools\npip>=25\n\nuv  # comment\n", encoding="utf-8")
    assert latest.declared([tmp_path / "pyproject.toml", tmp_path / "tools.in"]) == [
        "flask", "pip", "pytest", "rq", "uv"]


def test_pins_skip_entries_for_other_platforms(tmp_path):
    lock = tmp_path / "x.lock"
    lock.write_text("flask==3.1.3 \\\n    --hash=sha256:aa\n"
                    "colorama==0.4.6 ; sys_platform == 'nonexistent' \\\n    --hash=sha256:bb\n",
                    encoding="utf-8")
    assert latest.pins(lock) == {"flask": "3.1.3"}


def test_differences_name_every_changed_version():
    locked = {"flask": "3.1.3", "redis": "8.1.0", "gone": "1.0"}
    present = {"flask": "3.1.3", "redis": "8.2.0", "new-dep": "2.0", "cti-connector": "0.1.0"}
    assert latest.differences(locked, present, ignore=["cti_connector"]) == [
        "  gone: locked 1.0, no longer installed",
        "  new-dep: not in the lock, installed 2.0",
        "  redis: locked 8.1.0 -> latest 8.2.0",
    ]
