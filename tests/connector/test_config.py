"""Configuration: file + environment, validated with messages that name the key."""

from pathlib import Path

import pytest

from connector.config import ConfigError, load_settings, settings_from_mapping
from crm_adapters.settings import Secret


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cti.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(excinfo.value.problems)


def test_defaults_without_any_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/cti.toml here
    settings = load_settings(environ={})
    assert settings.source == "built-in defaults"
    assert settings.database_url == "sqlite:///var/cti.db"
    assert settings.embedded == {"database": True, "redis": True, "twilio_simulator": True}
    assert settings.twilio.edge == "tokyo"


def test_config_path_from_environment_and_default_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "cti.toml").write_text("[server]\nport = 7000\n")
    assert load_settings(environ={}).server.port == 7000
    other = write(tmp_path, "[server]\nport = 7001\n")
    assert load_settings(environ={"CTI_CONFIG": str(other)}).server.port == 7001


def test_unknown_key_is_named(tmp_path):
    path = write(tmp_path, "[server]\nprot = 8000\n")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path, environ={})
    assert "server.prot: unknown key" in problems_of(excinfo)
    assert str(path) in str(excinfo.value)


def test_unknown_section_is_named(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, "[sever]\nport = 1\n"), environ={})
    assert "sever: unknown section" in problems_of(excinfo)


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, '[server]\nport = "eighty"\n'), environ={})
    assert "server.port: expected an integer, got string 'eighty'" in problems_of(excinfo)


def test_all_problems_reported_at_once(tmp_path):
    text = '[server]\nport = "x"\n[auth]\nlockout_minutes = "y"\n[twilio]\nedge = "mars"\n'
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, text), environ={})
    found = problems_of(excinfo)
    assert "server.port" in found and "auth.lockout_minutes" in found and "twilio" in found


def test_invalid_toml_says_where(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, "[server\nport = 1\n"), environ={})
    assert "not valid TOML" in problems_of(excinfo)


def test_missing_file_named(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(tmp_path / "nope.toml", environ={})
    assert "nope.toml does not exist" in problems_of(excinfo)


TWILIO = """
[twilio]
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = { env = "TEST_TWILIO_TOKEN" }
api_key_sid = "SK0123456789abcdef0123456789abcdef"
api_key_secret = "key-secret-value"
twiml_app_sid = "AP0123456789abcdef0123456789abcdef"
"""


def test_secret_from_environment(tmp_path):
    settings = load_settings(write(tmp_path, TWILIO), environ={"TEST_TWILIO_TOKEN": "tok-123"})
    assert isinstance(settings.twilio.auth_token, Secret)
    assert settings.twilio.auth_token.reveal() == "tok-123"
    assert "tok-123" not in repr(settings)
    assert settings.twilio.configured


def test_missing_secret_names_key_and_variable(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, TWILIO), environ={})
    assert ("twilio.auth_token: secret: environment variable TEST_TWILIO_TOKEN is not set"
            in problems_of(excinfo))


def test_secret_from_file(tmp_path):
    (tmp_path / "token.txt").write_text("file-secret\n")
    text = TWILIO.replace('{ env = "TEST_TWILIO_TOKEN" }',
                          '{ file = "' + str(tmp_path / "token.txt") + '" }')
    settings = load_settings(write(tmp_path, text), environ={})
    assert settings.twilio.auth_token.reveal() == "file-secret"


def test_partial_twilio_credentials_rejected(tmp_path):
    text = '[twilio]\naccount_sid = "AC0123456789abcdef0123456789abcdef"\n'
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, text), environ={})
    assert "twilio: auth_token: required when account_sid is set" in problems_of(excinfo)


def test_sid_format_checked(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(write(tmp_path, '[twilio]\naccount_sid = "ACxyz"\n'), environ={})
    assert "account_sid: must be AC followed by 32 hex digits" in problems_of(excinfo)


def test_environment_overrides_with_types(tmp_path):
    environ = {"CTI_SERVER__PORT": "8123", "CTI_AUTH__FORBID_PASSWORD_REUSE": "false",
               "CTI_SERVER__FRAME_ANCESTORS": "https://acme.my.salesforce.com,'self'",
               "CTI_STORAGE__DATABASE_URL": "postgresql://cti@db/cti"}
    settings = load_settings(write(tmp_path, "[server]\nport = 1\n"), environ=environ)
    assert settings.server.port == 8123
    assert settings.auth.forbid_password_reuse is False
    assert settings.server.frame_ancestors == ["https://acme.my.salesforce.com", "'self'"]
    assert settings.database_url == "postgresql://cti@db/cti"


def test_environment_override_wrong_type_named(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"CTI_SERVER__PORT": "abc", "CTI_CONFIG": str(write(tmp_path, ""))})
    assert "server.port: expected an integer, got 'abc' (from the environment)" in problems_of(
        excinfo)


def test_environment_unknown_section_named():
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"CTI_NOPE__X": "1", "CTI_CONFIG": "/dev/null"})
    assert "CTI_NOPE__X: unknown section 'nope'" in problems_of(excinfo)


def test_secret_override_from_environment_is_secret(tmp_path):
    settings = load_settings(write(tmp_path, TWILIO), environ={
        "TEST_TWILIO_TOKEN": "a", "CTI_TWILIO__API_KEY_SECRET": "from-env"})
    assert settings.twilio.api_key_secret.reveal() == "from-env"
    assert settings.twilio.api_key_secret.source == "environment"


@pytest.mark.parametrize("source, fragment", [
    ("*", "must be 'self' or an https origin"),
    ("http://evil.example.com", "must be 'self' or an https origin"),
    ("https://acme.*.force.com", "a wildcard may only be the leftmost label"),
    ("https://acme.my.salesforce.com/path", "without a path"),
])
def test_frame_ancestors_validated(source, fragment):
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping({"server": {"frame_ancestors": [source]}}, environ={})
    assert "server: frame_ancestors[0]" in problems_of(excinfo)
    assert fragment in problems_of(excinfo)


def test_public_base_url_validated_and_normalised():
    settings = settings_from_mapping({"server": {"public_base_url": "https://x.example.com/"}})
    assert settings.server.public_base_url == "https://x.example.com"
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping({"server": {"public_base_url": "x.example.com"}})
    assert "public_base_url: must be an absolute http(s) URL" in problems_of(excinfo)


def test_token_ttl_capped_at_24_hours():
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping({"twilio": {"token_ttl": 90000}})
    assert "token_ttl: must be between 60 and 86400" in problems_of(excinfo)


def test_crm_tables_enable_adapters_and_stay_raw():
    settings = settings_from_mapping({"crm": {"kintone": {"base_url": "https://a.cybozu.com"}}})
    assert settings.crm.adapters == ["builtin", "kintone"]
    assert settings.crm.tables["kintone"] == {"base_url": "https://a.cybozu.com"}
    explicit = settings_from_mapping({"crm": {"adapters": ["salesforce"], "salesforce": {}}})
    assert explicit.crm.adapters == ["salesforce"]


def test_crm_table_must_be_a_table():
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping({"crm": {"kintone": "yes"}})
    assert "crm.kintone: expected a table" in problems_of(excinfo)


def test_example_config_is_valid_and_complete():
    """config/cti.example.toml documents every key and loads as is, with no environment: in
    simulated mode, on embedded defaults (a newcomer copies it and runs `cti serve`)."""
    example = Path(__file__).resolve().parents[2] / "config" / "cti.example.toml"
    settings = load_settings(example, environ={})
    assert settings.embedded == {"database": True, "redis": True, "twilio_simulator": True}
    assert settings.server.public_url_derived  # http://127.0.0.1:5000, where `cti serve` runs
    assert settings.logging.format == "auto"
    text = example.read_text(encoding="utf-8")
    import dataclasses

    def check_table(name: str, table: object) -> None:
        assert f"[{name}]" in text, f"section [{name}] not documented"
        for key in dataclasses.fields(table):
            if f"{name}.{key.name}" == "crm.tables":
                continue  # the [crm.<name>] tables, documented by each adapter
            value = getattr(table, key.name)
            if dataclasses.is_dataclass(value):
                check_table(f"{name}.{key.name}", value)  # a nested table, e.g. [auth.salesforce]
                continue
            assert f"\n{key.name} =" in text or f"\n# {key.name} =" in text, (
                f"{name}.{key.name} not documented in cti.example.toml")

    for section in dataclasses.fields(settings):
        if section.name != "source":
            check_table(section.name, getattr(settings, section.name))


def test_public_url_derived_from_address_only_when_not_configured():
    derived = settings_from_mapping({"server": {"host": "0.0.0.0", "port": 8080}}).server
    assert derived.public_base_url == "http://127.0.0.1:8080"
    assert derived.with_address(None, 9000).public_base_url == "http://127.0.0.1:9000"
    explicit = settings_from_mapping({"server": {"public_base_url": "https://cti.example.com"}})
    assert explicit.server.with_address(None, 9000).public_base_url == "https://cti.example.com"
