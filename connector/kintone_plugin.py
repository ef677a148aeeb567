"""Build the kintone plugin package (``plugin.zip``) from ``kintone-plugin/``, reproducibly.

The format is the one ``@kintone/plugin-packer`` writes (kintone/js-sdk
``packages/plugin-packer``):

* ``contents.zip`` — ``manifest.json`` and every file it references;
* ``PUBKEY`` — the RSA public key, DER ``SubjectPublicKeyInfo``;
* ``SIGNATURE`` — RSA PKCS#1 v1.5 with SHA-1 over the bytes of ``contents.zip``.

The plugin id is the first 32 hex digits of SHA-256(``PUBKEY``) with ``0-9a-f`` mapped to
``a-p``, so the *key* is the plugin's identity: keep it (``var/kintone-plugin.ppk`` by default,
never in git) to ship updates of the same plugin. Keys are 1024-bit RSA in PKCS#1 PEM, as the
packer makes them.

The same sources and key always give the same bytes: entries are sorted and carry fixed
timestamps and permissions, and PKCS#1 v1.5 signatures are deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import assets

#: Where ``build_plugin`` looks for the signing key unless told otherwise (git-ignored).
DEFAULT_KEY_PATH = Path("var/kintone-plugin.ppk")

KEY_BITS = 1024
#: A fixed, valid DOS timestamp (zip cannot store earlier dates) for reproducible archives.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_RESOURCES = 30
NAME_LOCALES = ("ja", "en", "zh", "zh-TW", "es", "pt-BR", "th", "ms")
_HEX_TO_ID = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


class PluginError(ValueError):
    """The plugin sources or the key are not usable; the message says what to fix."""


@dataclass(frozen=True)
class PluginInfo:
    """A built package: kintone's plugin id, where it was written, and its SHA-256."""

    id: str
    path: Path
    sha256: str


# -- keys ------------------------------------------------------------------------------------------

def generate_key(path: str | os.PathLike[str] = DEFAULT_KEY_PATH, *,
                 overwrite: bool = False) -> Path:
    """Create a new signing key (1024-bit RSA, PKCS#1 PEM) readable by its owner only.

    Raises:
        PluginError: if ``path`` exists and ``overwrite`` is false — a new key is a new plugin.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise PluginError(f"{target} already exists; a new key makes a different plugin id, "
                          "so it is not replaced (pass overwrite=True to do so)")
    target.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    os.chmod(target, 0o600)  # also when overwriting a file that had looser permissions
    return target


def load_key(path: str | os.PathLike[str]) -> rsa.RSAPrivateKey:
    """Read a ``.ppk`` (PKCS#1 or PKCS#8 PEM RSA private key)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise PluginError(f"no signing key at {path}; create one with generate_key()") from None
    except (ValueError, TypeError) as exc:
        raise PluginError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PluginError(f"{path} is not an RSA key")
    return key


def public_key_der(key: rsa.RSAPrivateKey) -> bytes:
    """The ``PUBKEY`` entry: DER ``SubjectPublicKeyInfo``."""
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def plugin_id(pubkey_der: bytes) -> str:
    """kintone's plugin id for a public key: SHA-256 hex, first 32 digits, ``0-f`` → ``a-p``."""
    return hashlib.sha256(pubkey_der).hexdigest()[:32].translate(_HEX_TO_ID)


def sign(contents: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """The ``SIGNATURE`` entry: RSA PKCS#1 v1.5 with SHA-1 over ``contents``."""
    return key.sign(contents, padding.PKCS1v15(), hashes.SHA1())  # SHA-1: kintone's package format


# -- manifest --------------------------------------------------------------------------------------

def read_manifest(source_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(source_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginError(f"{path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise PluginError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise PluginError(f"{path} must hold a JSON object")
    return manifest


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """Local files the manifest names (URLs excluded), ``manifest.json`` included, sorted."""
    files = {"manifest.json"}
    if isinstance(manifest.get("icon"), str):
        files.add(manifest["icon"])
    for section in ("desktop", "mobile", "config"):
        part = manifest.get(section)
        if not isinstance(part, dict):
            continue
        for kind in ("js", "css"):
            files.update(f for f in part.get(kind) or [] if isinstance(f, str)
                         and not f.startswith("https://"))
        if section == "config" and isinstance(part.get("html"), str):
            files.add(part["html"])
    return sorted(files)


def validate_manifest(manifest: dict[str, Any], source_dir: str | os.PathLike[str]) -> list[str]:
    """Problems with ``manifest`` by the manifest schema's rules; ``[]`` when it is valid."""
    problems: list[str] = []
    if manifest.get("manifest_version") != 1:
        problems.append("manifest_version: must be 1")
    version = manifest.get("version")
    if not ((isinstance(version, int) and not isinstance(version, bool) and version >= 1)
            or (isinstance(version, str) and _VERSION.match(version))):
        problems.append('version: must be a positive integer or "1.2.3"')
    if manifest.get("type") != "APP":
        problems.append('type: must be "APP"')
    problems += _localised(manifest, "name", 64, required=True)
    problems += _localised(manifest, "description", 200, required=False)
    if not isinstance(manifest.get("icon"), str) or not manifest["icon"]:
        problems.append("icon: required (a PNG in the package)")
    for section in ("desktop", "mobile", "config"):
        problems += _resources(manifest, section)
    config = manifest.get("config") or {}
    for i, param in enumerate(config.get("required_params") or []):
        if not isinstance(param, str) or not 1 <= len(param) <= 64:
            problems.append(f"config.required_params[{i}]: must be 1-64 characters")
    problems += _files(manifest, Path(source_dir))
    return problems


def _localised(manifest: dict[str, Any], key: str, limit: int, *, required: bool) -> list[str]:
    value = manifest.get(key)
    if value is None:
        return [f"{key}: required (an object by locale, with at least en)"] if required else []
    if not isinstance(value, dict) or "en" not in value:
        return [f"{key}: must be an object by locale with at least en"]
    problems = []
    for locale, text in value.items():
        if locale not in NAME_LOCALES:
            problems.append(f"{key}.{locale}: unknown locale (use {', '.join(NAME_LOCALES)})")
        elif not isinstance(text, str) or not 1 <= len(text) <= limit:
            problems.append(f"{key}.{locale}: must be 1-{limit} characters")
    return problems


def _resources(manifest: dict[str, Any], section: str) -> list[str]:
    part = manifest.get(section)
    if part is None:
        return []
    if not isinstance(part, dict):
        return [f"{section}: must be an object"]
    problems = []
    for kind in ("js", "css"):
        items = part.get(kind) or []
        if not isinstance(items, list):
            problems.append(f"{section}.{kind}: must be a list")
            continue
        if len(items) > MAX_RESOURCES:
            problems.append(f"{section}.{kind}: at most {MAX_RESOURCES} entries")
        if len(set(map(str, items))) != len(items):
            problems.append(f"{section}.{kind}: entries must be unique")
        for i, item in enumerate(items):
            if not isinstance(item, str) or item.startswith("http://"):
                problems.append(f"{section}.{kind}[{i}]: must be an https URL or a path")
    return problems


def _files(manifest: dict[str, Any], source_dir: Path) -> list[str]:
    problems = []
    root = source_dir.resolve()
    for name in referenced_files(manifest):
        path = (source_dir / name).resolve()
        if name.startswith("/") or not path.is_relative_to(root):
            problems.append(f"{name}: must be a relative path inside {source_dir}")
        elif not path.is_file():
            problems.append(f"{name}: referenced by manifest.json but missing in {source_dir}")
        elif path.stat().st_size > MAX_FILE_BYTES:
            problems.append(f"{name}: larger than 20 MB")
    return problems


# -- packing ---------------------------------------------------------------------------------------

def build_contents_zip(source_dir: str | os.PathLike[str]) -> bytes:
    """``contents.zip`` of a validated plugin directory.

    Raises:
        PluginError: listing every problem of the manifest.
    """
    manifest = read_manifest(source_dir)
    problems = validate_manifest(manifest, source_dir)
    if problems:
        raise PluginError("invalid plugin manifest:\n  " + "\n  ".join(problems))
    return _zip({name: (Path(source_dir) / name).read_bytes()
                 for name in referenced_files(manifest)})


def default_source_dir() -> Path:
    """The plugin sources shipped with cti-connector (the checkout's or the installed wheel's)."""
    return assets.directory(assets.KINTONE_PLUGIN)


def build_plugin(source_dir: str | os.PathLike[str] | None = None,
                 key_path: str | os.PathLike[str] = DEFAULT_KEY_PATH,
                 out_path: str | os.PathLike[str] = "var/kintone-plugin.zip") -> PluginInfo:
    """Sign and package ``source_dir`` (default: the shipped sources) with the key at
    ``key_path`` into ``out_path``."""
    if source_dir is None:
        source_dir = default_source_dir()
    key = load_key(key_path)
    contents = build_contents_zip(source_dir)
    pubkey = public_key_der(key)
    package = _zip({"contents.zip": contents, "PUBKEY": pubkey,
                    "SIGNATURE": sign(contents, key)})
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(package)
    return PluginInfo(id=plugin_id(pubkey), path=out,
                      sha256=hashlib.sha256(package).hexdigest())


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever system builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


# -- command line (the cti CLI wraps this) ---------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connector.kintone_plugin",
                                     description="Build the kintone click-to-call plugin.")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="create a signing key (once per plugin)")
    keygen.add_argument("--key", default=str(DEFAULT_KEY_PATH))
    build = sub.add_parser("build", help="build plugin.zip")
    build.add_argument("--source", help="plugin sources (default: the ones cti-connector ships)")
    build.add_argument("--key", default=str(DEFAULT_KEY_PATH))
    build.add_argument("--out", default="var/kintone-plugin.zip")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            path = generate_key(args.key)
            print(f"key written to {path}; plugin id {plugin_id(public_key_der(load_key(path)))}")
        else:
            info = build_plugin(args.source, args.key, args.out)
            print(f"{info.path}: plugin id {info.id}, sha256 {info.sha256}")
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
