"""The kintone plugin packer: package structure, signature, plugin id, reproducibility and
manifest validation; and, when it is installed, agreement with Cybozu's own packer."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from connector.kintone_plugin import (
    PluginError,
    build_plugin,
    generate_key,
    plugin_id,
    referenced_files,
)

REPO = Path(__file__).resolve().parents[3]
SOURCES = REPO / "kintone-plugin"
NPM_PACKER = REPO / "node_modules" / ".bin" / "kintone-plugin-packer"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_key(tmp_path_factory.mktemp("key") / "plugin.ppk")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SOURCES, tmp_path / "src"))


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_generated_key_is_private_1024_bit_pkcs1(tmp_path: Path) -> None:
    path = generate_key(tmp_path / "var" / "new.ppk")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")  # PKCS#1, like the npm packer
    loaded = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size == 1024


def test_an_existing_key_is_never_replaced_silently(key: Path) -> None:
    before = key.read_bytes()
    with pytest.raises(PluginError, match="different plugin id"):
        generate_key(key)
    assert key.read_bytes() == before


def test_package_structure(key: Path, sources: Path, tmp_path: Path) -> None:
    info = build_plugin(sources, key, tmp_path / "out" / "plugin.zip")
    package = entries(info.path.read_bytes())
    assert sorted(package) == ["PUBKEY", "SIGNATURE", "contents.zip"]
    contents = entries(package["contents.zip"])
    manifest = json.loads((sources / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(contents) == referenced_files(manifest)
    assert {"manifest.json", "js/desktop.js", "js/config.js", "html/config.html",
            "css/desktop.css", "css/config.css", "image/icon.png"} == set(contents)
    for name, data in contents.items():
        assert data == (sources / name).read_bytes(), name
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()


def test_signature_verifies_with_the_packaged_public_key(key: Path, sources: Path,
                                                        tmp_path: Path) -> None:
    package = entries(build_plugin(sources, key, tmp_path / "p.zip").path.read_bytes())
    public = serialization.load_der_public_key(package["PUBKEY"])
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(package["SIGNATURE"], package["contents.zip"], padding.PKCS1v15(),
                  hashes.SHA1())
    with pytest.raises(InvalidSignature):
        public.verify(package["SIGNATURE"], package["contents.zip"] + b"x",
                      padding.PKCS1v15(), hashes.SHA1())


def test_plugin_id_is_derived_as_documented(key: Path, sources: Path, tmp_path: Path) -> None:
    info = build_plugin(sources, key, tmp_path / "p.zip")
    pubkey = entries(info.path.read_bytes())["PUBKEY"]
    digest = hashlib.sha256(pubkey).hexdigest()[:32]
    expected = "".join("abcdefghijklmnop"["0123456789abcdef".index(c)] for c in digest)
    assert info.id == expected == plugin_id(pubkey)
    # SHA-256 of 32 zero bytes is 66687aadf862bd776c8fc18b8e9f8e20089714856ee2...
    assert plugin_id(bytes(32)) == "gggihkknpigclnhhgmipmbiliojpioca"


def test_same_sources_and_key_give_identical_bytes(key: Path, sources: Path,
                                                   tmp_path: Path) -> None:
    first = build_plugin(sources, key, tmp_path / "a.zip")
    for path in sources.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))  # later mtimes must not matter
    second = build_plugin(sources, key, tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert (first.id, first.sha256) == (second.id, second.sha256)


def test_a_different_key_is_a_different_plugin(key: Path, sources: Path,
                                               tmp_path: Path) -> None:
    other = generate_key(tmp_path / "other.ppk")
    assert build_plugin(sources, key, tmp_path / "a.zip").id != \
        build_plugin(sources, other, tmp_path / "b.zip").id


def test_missing_referenced_file_is_a_clear_error(key: Path, sources: Path,
                                                  tmp_path: Path) -> None:
    (sources / "js" / "config.js").unlink()
    with pytest.raises(PluginError) as caught:
        build_plugin(sources, key, tmp_path / "p.zip")
    assert "js/config.js: referenced by manifest.json but missing" in str(caught.value)
    assert not (tmp_path / "p.zip").exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"name": {"ja": "名" * 65, "en": "x"}}, "name.ja: must be 1-64 characters"),
    ({"name": {"ja": "名前だけ"}}, "name: must be an object by locale with at least en"),
    ({"type": "SPACE"}, 'type: must be "APP"'),
    ({"manifest_version": 2}, "manifest_version: must be 1"),
    ({"version": 0}, "version: must be a positive integer"),
    ({"desktop": {"js": ["http://cdn.example/x.js"]}}, "desktop.js[0]: must be an https URL"),
    ({"desktop": {"js": ["../outside.js"]}}, "../outside.js: must be a relative path inside"),
    ({"config": {"html": "html/config.html", "required_params": [""]}},
     "config.required_params[0]: must be 1-64 characters"),
])
def test_manifest_rules(key: Path, sources: Path, tmp_path: Path, change: dict[str, object],
                        message: str) -> None:
    manifest = json.loads((sources / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(change)
    (sources / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "outside.js").write_text("//", encoding="utf-8")
    with pytest.raises(PluginError, match="invalid plugin manifest") as caught:
        build_plugin(sources, key, tmp_path / "p.zip")
    assert message in str(caught.value)


def test_https_resources_are_allowed_and_not_packed(key: Path, sources: Path,
                                                    tmp_path: Path) -> None:
    manifest = json.loads((sources / "manifest.json").read_text(encoding="utf-8"))
    manifest["desktop"]["js"].insert(0, "https://cdn.example/lib.js")
    (sources / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    contents = entries(entries(build_plugin(sources, key, tmp_path / "p.zip")
                               .path.read_bytes())["contents.zip"])
    assert not any("cdn.example" in name for name in contents)


def test_missing_key_says_how_to_make_one(sources: Path, tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="generate_key"):
        build_plugin(sources, tmp_path / "none.ppk", tmp_path / "p.zip")


def test_same_plugin_id_as_cybozus_packer(key: Path, sources: Path, tmp_path: Path) -> None:
    if not NPM_PACKER.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("@kintone/plugin-packer is not installed (run npm ci)")
        pytest.skip("@kintone/plugin-packer is not installed (npm ci installs it)")
    out = tmp_path / "npm-plugin.zip"
    subprocess.run([str(NPM_PACKER), "--ppk", str(key), "--out", str(out), str(sources)],
                   check=True, capture_output=True, timeout=120)
    theirs = entries(out.read_bytes())
    ours = entries(build_plugin(sources, key, tmp_path / "ours.zip").path.read_bytes())
    assert plugin_id(theirs["PUBKEY"]) == plugin_id(ours["PUBKEY"])
    assert theirs["PUBKEY"] == ours["PUBKEY"]
    assert sorted(entries(theirs["contents.zip"])) == sorted(entries(ours["contents.zip"]))
    public = serialization.load_der_public_key(theirs["PUBKEY"])
    assert isinstance(public, rsa.RSAPublicKey)
    # Both sign with PKCS#1 v1.5 + SHA-1: our signature of their contents equals theirs.
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.sign(theirs["contents.zip"], padding.PKCS1v15(), hashes.SHA1()) == \
        theirs["SIGNATURE"]
