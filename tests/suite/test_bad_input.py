"""Bad input stops the run before a single request: one `riva-readiness:` line naming the file, the line
and the fix, exit code 4 — and properties of the parsers behind it (hypothesis)."""

from __future__ import annotations

import json
import re
import socket
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from suite_runner import run_suite

from crm_simulator import Simulator
from ldap_server import SUFFIX, running_slapd
from readiness.config import load_settings, parse_crm_address
from readiness.errors import ConfigError
from readiness.targets import read_targets

# name -> (files to write, settings (a value "{name}" is that file's path), what the one error line says)
CASES = {
    "env syntax error": ({".env": "CRM_TIMEOUT=5\nCRM_PASSWORD='unterminated\n"},
                         {"READINESS_ENV_FILE": "{.env}"}, r"\.env:2: cannot read 'CRM_PASSWORD…' — write KEY=value"),
    "unknown setting in env": ({".env": "CRM_TIMOUT=5\n"}, {"READINESS_ENV_FILE": "{.env}"},
                               r"\.env:1: unknown setting CRM_TIMOUT — did you mean CRM_TIMEOUT\?"),
    "misspelt safety setting in the environment": ({}, {"READINESS_MODEE": "read-only"},
                                                   r"environment variable READINESS_MODEE is not a setting — did you "
                                                   r"mean READINESS_MODE\?"),
    "url without scheme": ({}, {"CRM_URL": "crm.example.com/1crm"}, r"has no scheme — write it as https://crm"),
    "ftp url": ({}, {"CRM_URL": "ftp://crm.example.com/1crm"}, r"'ftp://' is not supported"),
    "bad port": ({}, {"CRM_URL": "https://crm.example.com:99999/"}, r"not a number from 1 to 65535"),
    "targets with semicolons": ({"t.csv": "email;password_env\nalice@example.com;\n"}, {"RIVA_TARGETS_FILE": "{t.csv}"},
                                r"t\.csv:1: no 'email' column in the header \(the file uses ';'"),
    "semicolon-separated addresses": ({"t.csv": "email\nalice@example.com;bob@example.com\n"},
                                      {"RIVA_TARGETS_FILE": "{t.csv}"}, r"t\.csv:2: .*one address per row"),
    "empty targets file": ({"t.csv": ""}, {"RIVA_TARGETS_FILE": "{t.csv}"}, r"t\.csv:1: the file is empty"),
    "invalid address": ({"t.csv": "email\nalice.example.com\n"}, {"RIVA_TARGETS_FILE": "{t.csv}"},
                        r"t\.csv:2: 'alice\.example\.com' is not an e-mail address"),
    "duplicate address": ({"t.csv": "email\nalice@example.com\nAlice@Example.com\n"}, {"RIVA_TARGETS_FILE": "{t.csv}"},
                          r"t\.csv:3: Alice@Example\.com is listed twice \(first on line 2\)"),
    "targets not UTF-8": ({"t.csv": "email\nj\xf6rg@example.com\n".encode("latin-1")}, {"RIVA_TARGETS_FILE": "{t.csv}"},
                          r"t\.csv: not UTF-8 text"),
    "missing targets file": ({}, {"RIVA_TARGETS_FILE": "no-such-targets.csv"}, r"no such file 'no-such-targets\.csv'"),
    "waiver with a bad date": (
        {"w.yml": "waivers:\n  - requirement: R1.2\n    justification: internal CA\n    approved_by: CISO\n"
                  "    ticket: CHG-1\n    expires: 2026-02-30\n"},
        {"READINESS_WAIVERS_FILE": "{w.yml}"}, r"w\.yml:6: .*'2026-02-30' is not a date — write YYYY-MM-DD"),
    "attestation left unfilled": (
        {"w.yml": "attestations:\n  - requirement: R4.3\n    explanation: <what you checked by hand>\n"
                  "    attested_by: M. Jones\n    date: 2026-01-05\n    expires: 2026-12-31\n"},
        {"READINESS_WAIVERS_FILE": "{w.yml}"},
        r"w\.yml:3: attestation #1 \(line 2\): field 'explanation': still holds the placeholder"),
    # Once an internal error (exit 3, a traceback, the previous GO left in place): the parser's recursion.
    "deeply nested waivers": ({"w.yml": "waivers: " + "[" * 50_000 + "]" * 50_000 + "\n"},
                              {"READINESS_WAIVERS_FILE": "{w.yml}"}, r"w\.yml:1: nested more than 10 levels deep"),
    # the directory is read while the settings load (a real slapd, see the `ldap` fixture): its faults stop the run too
    "LDAP bind refused": ({}, {"RIVA_TARGETS_LDAP_PASSWORD": "wrong-password"},
                          r"RIVA_TARGETS_LDAP_BIND_DN: the directory refused the bind as .* \(invalidCredentials\)"),
    "LDAP base DN that does not exist": ({}, {"RIVA_TARGETS_LDAP_BASE_DN": f"ou=nowhere,{SUFFIX}"},
                                         r"RIVA_TARGETS_LDAP_BASE_DN: ou=nowhere,dc=corp,dc=example does not exist"),
}

# Inputs that once crashed the settings loader (an internal error): in-process, each must be one ConfigError.
MALFORMED = {
    "unclosed [ in CRM_URL": ({}, {"CRM_URL": "https://[crm.example.com/1crm"},
                              r"^environment variable CRM_URL: the address has an unbalanced '\[' or '\]'"),
    "stray ] in CRM_URL": ({}, {"CRM_URL": "https://crm]example.com/"}, r"^environment variable CRM_URL: .*unbalanced"),
    "unclosed [ in CRM_PROXY": ({}, {"CRM_PROXY": "http://px:Pw@[proxy:3128"},
                                r"^environment variable CRM_PROXY: the proxy address has an unbalanced"),
    "unclosed [ in the ticket pattern": ({}, {"READINESS_TICKET_URL": "https://[jira/browse/{}"},
                                         r"^environment variable READINESS_TICKET_URL: cannot be read \(ValueError"),
    "label longer than 63": ({}, {"CRM_URL": f"https://{'a' * 64}.example.com/"}, r"is not a usable internet name"),
    "empty label": ({}, {"CRM_URL": "https://例え..jp/1crm"}, r"is not a usable internet name"),
    "invalid IDNA (bidi)": ({}, {"CRM_URL": "https://\u0661\u0662a.example.com/"}, r"is not a usable internet name"),
    "invisible character in the host": ({}, {"CRM_URL": "https://exa\u00admple.com/"},
                                        r"is not a usable internet name \(it contains a control character"),
    "invalid IDNA proxy host": ({}, {"CRM_PROXY": "http://例え..jp:3128"},
                                r"^environment variable CRM_PROXY: the proxy's host name is not a usable"),
    "140 KB CSV field": ({"t.csv": "email\n" + "a" * 140_000 + "@example.com\n"}, {"RIVA_TARGETS_FILE": "{t.csv}"},
                         r"t\.csv:2: the line has 140012 characters"),
    "140 KB quoted CSV field over lines": ({"t.csv": 'email\n"' + ("a" * 999 + "\n") * 140 + '"\n'},
                                           {"RIVA_TARGETS_FILE": "{t.csv}"}, r"t\.csv: not readable as CSV \(field larger"),
    "70 KB quoted address over lines": ({"t.csv": 'email\n"' + ("a" * 999 + "\n") * 70 + '@example.com"\n'},
                                        {"RIVA_TARGETS_FILE": "{t.csv}"}, r"t\.csv:2: 'a{40}…' has 69942 characters"),
    "deeply nested YAML (flow)": ({"w.yml": "waivers: " + "[" * 5000 + "]" * 5000}, {"READINESS_WAIVERS_FILE": "{w.yml}"},
                                  r"w\.yml:1: nested more than 10 levels deep"),
    "deeply nested YAML (block)": ({"w.yml": "waivers:\n" + "".join("  " * i + "-\n" for i in range(3000))},
                                   {"READINESS_WAIVERS_FILE": "{w.yml}"}, r"w\.yml:11: nested more than 10 levels deep"),
    "deeply nested JSON facts": ({"f.json": '{"schema": ' + "[" * 100_000 + "]" * 100_000 + "}"},
                                 {"READINESS_SERVER_FACTS": "{f.json}"},
                                 r"READINESS_SERVER_FACTS \(.*f\.json\): nested too deeply"),
    "5,000-digit number in the facts": ({"f.json": '{"schema": "riva-readiness-server-facts/1", "ram_mb": ' + "9" * 5000 + "}"},
                                        {"READINESS_SERVER_FACTS": "{f.json}"}, r"f\.json\): a number of 5000 characters"),
    "NaN in the facts": ({"f.json": '{"schema": "riva-readiness-server-facts/1", "ram_mb": NaN}'},
                         {"READINESS_SERVER_FACTS": "{f.json}"}, r"NaN is not a number JSON allows"),
    "5,000-digit number in a setting": ({}, {"RIVA_THREADS": "9" * 5000},
                                        r"^environment variable RIVA_THREADS='9{20}… \(5000 characters\)' — use a number"),
    "5,000-digit float in a setting": ({}, {"CRM_TIMEOUT": "1" + "0" * 4999}, r"CRM_TIMEOUT=.*5000 characters"),
    "a path too long for the system": ({}, {"RIVA_TARGETS_FILE": "t" * 5000}, r"RIVA_TARGETS_FILE: cannot be read"),
    "an unknown home directory": ({}, {"RIVA_TARGETS_FILE": "~no-such-user-here/t.csv"},
                                  r"RIVA_TARGETS_FILE: cannot be read \(RuntimeError"),
}


@pytest.fixture
def no_network(monkeypatch):
    """Reading settings must not send a request or open a connection."""
    attempts = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: attempts.append(a) or pytest.fail("connect"))
    monkeypatch.setattr(requests.Session, "send", lambda *a, **k: attempts.append(a) or pytest.fail("request"))
    return attempts


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_input_is_one_config_error_line_before_any_request(case, tmp_path, no_network):
    files, overrides, expected = MALFORMED[case]
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    env = {"CRM_URL": "https://crm.example.com/1crm", "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "Pw",
           "READINESS_ENV_FILE": "none",  # never the developer's .env
           **{k: str(tmp_path / v[1:-1]) if v.startswith("{") else v for k, v in overrides.items()}}
    with pytest.raises(ConfigError) as raised:
        load_settings(env, env_file=None)
    message = str(raised.value)
    assert re.search(expected, message), message
    assert "\n" not in message and len(message) < 400 and "Traceback" not in message
    assert "'Pw'" not in message and ":Pw@" not in message  # the proxy's password is never shown
    assert no_network == []


@pytest.fixture(scope="module")
def simulator():
    with Simulator("healthy") as sim:
        yield sim


@pytest.fixture(scope="module")
def ldap(tmp_path_factory):
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_bad_input_stops_the_run_before_any_request(case, simulator, tmp_path, request):
    files, overrides, expected = CASES[case]
    if any(name.startswith("RIVA_TARGETS_LDAP_") for name in overrides):  # a directory that works but for the fault
        overrides = request.getfixturevalue("ldap").env(RIVA_TARGETS_LDAP_FILTER="(cn=*)", **overrides)
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    env = {**simulator.env(), **{k: str(paths[v[1:-1]]) if v.startswith("{") else v for k, v in overrides.items()}}
    simulator.stats.reset()
    previous = tmp_path / "reports" / "readiness.json"  # an earlier run's GO must not survive bad input
    previous.parent.mkdir()
    previous.write_text(json.dumps({"verdict": "GO", "reasons": [], "checks": []}), encoding="utf-8")
    run = run_suite(env, tmp_path / "reports", timeout=60, env_file=env.pop("READINESS_ENV_FILE", None))
    assert simulator.stats.requests == [] and simulator.stats.stray_requests == []
    assert run.exit_code == 4, run.output
    lines = [line for line in run.output.splitlines() if "riva-readiness:" in line]
    assert len(lines) == 1, run.output
    assert re.search(expected, lines[0]), lines[0]
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output
    assert run.report["verdict"] == "NO-GO" and run.report["reasons"][0].startswith("configuration: ")


def test_a_targets_file_with_bom_and_non_ascii_names_is_accepted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeffemail\njürgen.müller@example.com\n名前@例え.jp\n", encoding="utf-8")
    assert [t.email for t in read_targets(path, {}.get)] == ["jürgen.müller@example.com", "名前@例え.jp"]


@given(st.text(max_size=300))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_as_targets_file_is_read_or_refused_with_a_config_error(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_targets(path, {}.get)
    except ConfigError as error:
        assert str(path) in str(error) and "\n" not in str(error).strip()


_HOST = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True)
_SEGMENT = st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True).filter(lambda s: s not in (".", ".."))


@given(scheme=st.sampled_from(["http", "https", "HTTPS"]), host=_HOST, port=st.none() | st.integers(1, 65535),
       path=st.lists(_SEGMENT, max_size=4), query=st.sampled_from(["", "?a=1", "?module=Home&action=index"]),
       fragment=st.sampled_from(["", "#top"]), credentials=st.sampled_from(["", "admin:s3cret@", "user@"]),
       slash=st.booleans())
def test_any_http_url_normalises_to_a_plain_base(scheme, host, port, path, query, fragment, credentials, slash):
    url = f"{scheme}://{credentials}{host}{f':{port}' if port else ''}/{'/'.join(path)}{'/' if slash and path else ''}"
    address = parse_crm_address(url + query + fragment)
    base = urlsplit(address.base)
    assert base.scheme == scheme.lower() and base.hostname == host and base.port == port
    assert not (base.query or base.fragment or base.username or base.password)
    assert not address.base.endswith("/")
    assert "s3cret" not in address.configured
    assert address.port == (port or (443 if scheme.lower() == "https" else 80))
    kept = [s for s in path if not s.lower().endswith(".php")] if path and path[-1].lower().endswith(".php") else path
    assert base.path == "".join(f"/{s}" for s in (path[:-1] if kept != path else path))


@given(st.text(max_size=200))
def test_any_text_as_crm_url_is_parsed_or_refused_with_a_config_error(text):
    try:
        parse_crm_address(text)
    except ConfigError:
        pass
