"""Settings: every bad input is one line naming the file, the line and the fix."""

from pathlib import Path

import pytest

from readiness.config import DEFAULT_DATATYPES, load_settings, parse_crm_address
from readiness.errors import ConfigError

BASE = {"CRM_URL": "https://crm.example.com/1crm", "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "pw-123456"}


def load(env=None, env_file=None):
    return load_settings({**BASE, **(env or {})} if env is not False else {}, env_file=env_file)


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_from_a_minimal_environment():
    settings = load()
    assert settings.crm.base == "https://crm.example.com/1crm"
    assert settings.threads == 3 and settings.mode == "full" and not settings.read_only
    assert settings.datatypes == DEFAULT_DATATYPES
    assert settings.timeout == 15.0 and not settings.uses_oauth


def test_missing_crm_url_points_to_env_example_and_the_demo():
    with pytest.raises(ConfigError, match=r"CRM_URL is not set .*env\.example.*python -m readiness demo"):
        load_settings({}, env_file=None)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("crm.example.com", r"has no scheme — write it as https://crm.example.com"),
        ("ftp://crm.example.com", r"'ftp://' is not supported"),
        ("https://crm.example.com:99999", r"port .* not a number from 1 to 65535"),
        ("https:///1crm", r"names no host"),
        ("https://crm example.com", r"contains spaces"),
    ],
)
def test_unusable_addresses_are_refused(url, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_crm_address(url, "CRM_URL")


def test_a_page_address_is_normalised_and_flagged_for_r51():
    crm = parse_crm_address("https://CRM.example.com:8443/1crm/index.php?module=Home#x")
    assert crm.base == "https://crm.example.com:8443/1crm"
    assert crm.port == 8443 and crm.is_https
    assert any("points at the page 'index.php'" in p for p in crm.problems)
    assert any("query or fragment" in p for p in crm.problems)


def test_credentials_in_the_address_are_flagged_and_never_repeated():
    crm = parse_crm_address("https://riva:hunter22@crm.example.com/")
    assert crm.base == "https://crm.example.com"
    assert "hunter22" not in crm.configured and "hunter22" not in crm.base
    assert any("user name or password" in p for p in crm.problems)


def test_plain_address_has_no_problems():
    crm = parse_crm_address("http://10.0.0.5/crm/")
    assert crm.base == "http://10.0.0.5/crm" and crm.port == 80 and crm.problems == ()


def test_env_file_is_read_and_the_real_environment_wins(tmp_path):
    env_file = write_env(tmp_path, "CRM_URL=https://from-file.example.com\nCRM_USERNAME=file_user\nRIVA_THREADS=7\n")
    settings = load_settings({"CRM_USERNAME": "env_user"}, env_file=env_file)
    assert settings.crm.host == "from-file.example.com"
    assert settings.username == "env_user" and settings.threads == 7
    assert settings.origins["RIVA_THREADS"].endswith(".env:3: RIVA_THREADS")


def test_env_syntax_error_names_file_and_line_but_not_the_value(tmp_path):
    env_file = write_env(tmp_path, "CRM_URL=https://crm.example.com\nCRM_PASSWORD='s3cret-unterminated\n")
    with pytest.raises(ConfigError) as raised:
        load_settings({}, env_file=env_file)
    message = str(raised.value)
    assert f"{env_file}:2:" in message and "write KEY=value" in message
    assert "s3cret" not in message


def test_misspelt_setting_in_env_file_suggests_the_right_name(tmp_path):
    env_file = write_env(tmp_path, "CRM_URL=https://crm.example.com\nCRM_PASWORD=x\n")
    with pytest.raises(ConfigError, match=r":2: unknown setting CRM_PASWORD — did you mean CRM_PASSWORD\?"):
        load_settings({}, env_file=env_file)


def test_a_misspelt_safety_setting_in_the_environment_stops_the_run():
    with pytest.raises(ConfigError, match=r"^environment variable READINESS_MODEE is not a setting — did you mean "
                                          r"READINESS_MODE\? Unset READINESS_MODEE and set READINESS_MODE"):
        load({"READINESS_MODEE": "read-only"})


def test_other_unknown_names_in_the_environment_are_warned_about():
    settings = load({"RIVA_THREDS": "5", "CRM_SHOE_SIZE": "44", "OTHER_TOOL_MODE": "x"})
    assert settings.threads == 3  # ignored, as said
    assert settings.notices == ("environment variable CRM_SHOE_SIZE is not a setting and is ignored",
                                "environment variable RIVA_THREDS is not a setting and is ignored — did you mean "
                                "RIVA_THREADS?")


def test_env_file_that_is_not_utf8(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"CRM_URL=https://crm.example.com\nCRM_USERNAME=J\xf6rg\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings({}, env_file=path)


def test_readiness_env_file_none_reads_no_file(tmp_path, monkeypatch):
    write_env(tmp_path, "CRM_URL=https://from-file.example.com\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="CRM_URL is not set"):
        load_settings({"READINESS_ENV_FILE": "none"})
    assert load_settings({}).crm.host == "from-file.example.com"


def test_relative_paths_in_env_file_are_relative_to_it(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    env_file = write_env(tmp_path, "CRM_URL=https://crm.example.com\nCRM_CA_BUNDLE=ca.pem\n")
    assert load_settings({}, env_file=env_file).ca_bundle == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"CRM_CA_BUNDLE": "/no/such/ca.pem"}, r"CRM_CA_BUNDLE: no such file '/no/such/ca.pem'"),
        ({"RIVA_THREADS": "0"}, r"RIVA_THREADS='0' — use a number from 1 to 100"),
        ({"RIVA_THREADS": "three"}, r"use a number from 1 to 100"),
        ({"CRM_TIMEOUT": "0.5"}, r"use a number from 1 to 300"),
        ({"READINESS_MODE": "readonly"}, r"use full or read-only"),
        ({"READINESS_TIME_LIMIT": "15min"}, r"READINESS_TIME_LIMIT='15min' — use a number from 1 to 86400"),
        ({"RIVA_DATATYPES": "Contact,Contacts"}, r"'Contacts' is not a 1CRM model — did you mean Contact\?"),
        ({"CRM_CLIENT_ID": "riva"}, r"CRM_CLIENT_SECRET is not set"),
        ({"CRM_PROXY": "proxy:3128"}, r"http:// or https:// address"),
        ({"READINESS_WAIVERS_FILE": "waivers.yml"}, r"READINESS_WAIVERS_FILE: no such file 'waivers.yml'"),
        ({"READINESS_TICKET_URL": "https://jira.example.com/browse/"}, r"with \{\} where the ticket goes"),
        ({"READINESS_TICKET_URL": "jira/{}"}, r"write an http\(s\) address"),
    ],
)
def test_bad_values_are_refused_with_the_fix(env, expected):
    with pytest.raises(ConfigError, match=expected):
        load(env)


def test_datatypes_are_canonicalised_and_deduplicated():
    assert load({"RIVA_DATATYPES": " meeting, Contact ,acase,Meeting"}).datatypes == ("Meeting", "Contact", "aCase")


def test_secrets_are_collected_and_masked_in_repr():
    settings = load({"CRM_CLIENT_ID": "riva", "CRM_CLIENT_SECRET": "client-secret-9", "CRM_PROXY": "http://u:proxypw@p:3128"})
    assert {"pw-123456", "client-secret-9", "proxypw"} <= set(settings.secrets)
    assert "pw-123456" not in repr(settings) and "client-secret-9" not in repr(settings)
    assert settings.uses_oauth
