"""Helpers of ``make test-latest``.

``requirements FILE...`` prints, one a line, every requirement of pyproject.toml (runtime and
extras) and of requirements/*.in files with its version bounds removed, so that pip takes the
newest releases; it needs only the standard library, as it runs before anything is installed.
``compare LOCK`` prints how the running environment differs from the lock (it needs
``packaging``, which the test environment has).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

#: A requirement's name and extras: what is left once its version bounds go.
_NAME_AND_EXTRAS = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")


def normalise(name: str) -> str:
    """A distribution name as package indexes compare it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def unbounded(requirement: str) -> str:
    """``"flask>=3.1,<4"`` → ``"flask"``; extras stay (``"psycopg[binary]"``).

    Raises:
        ValueError: if ``requirement`` does not start with a distribution name.
    """
    match = _NAME_AND_EXTRAS.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return match.group(1) + (match.group(2) or "").replace(" ", "")


def declared(paths: Iterable[Path]) -> list[str]:
    """Every requirement in pyproject.toml files (dependencies and all extras) and ``.in`` files."""
    found: list[str] = []
    for path in paths:
        if path.suffix == ".toml":
            project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
            found += project.get("dependencies", [])
            for extra in project.get("optional-dependencies", {}).values():
                found += extra
        else:
            found += [line.split("#", 1)[0].strip()
                      for line in path.read_text(encoding="utf-8").splitlines()]
    names = [unbounded(r) for r in found if r]
    return sorted(set(names), key=str.lower)


def pins(lock: Path) -> dict[str, str]:
    """``{normalised name: version}`` of a lock file written by ``uv pip compile``, for this
    interpreter and platform (entries whose environment marker does not apply are left out)."""
    from packaging.markers import Marker  # compare runs in the test venv, which has packaging

    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match and (not match.group(3) or Marker(match.group(3)).evaluate()):
            found[normalise(match.group(1))] = match.group(2)
    return found


def installed() -> dict[str, str]:
    """``{normalised name: version}`` of the running environment."""
    return {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(locked: dict[str, str], present: dict[str, str],
                ignore: Iterable[str] = ()) -> list[str]:
    """One line per distribution whose version is not the locked one, sorted by name."""
    skip = {normalise(n) for n in ignore}
    lines = []
    for name in sorted((set(locked) | set(present)) - skip):
        old, new = locked.get(name), present.get(name)
        if old == new:
            continue
        if old is None:
            lines.append(f"  {name}: not in the lock, installed {new}")
        elif new is None:
            lines.append(f"  {name}: locked {old}, no longer installed")
        else:
            lines.append(f"  {name}: locked {old} -> latest {new}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="requirements/latest.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("requirements").add_argument("files", nargs="+", type=Path)
    sub.add_parser("compare").add_argument("lock", type=Path)
    args = parser.parse_args(argv)
    if args.command == "requirements":
        print("\n".join(declared(args.files)))
        return 0
    lines = differences(pins(args.lock), installed(), ignore=["cti-connector"])
    print(f"== versions that differ from {args.lock}: {len(lines)}")
    print("\n".join(lines) if lines else "  none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
