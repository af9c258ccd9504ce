"""The targets file: validated before any request, every error with file, line and fix."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.errors import ConfigError
from readiness.targets import read_targets


def targets(tmp_path, text, variables=None, encoding="utf-8"):
    path = tmp_path / "targets.csv"
    path.write_bytes(text.encode(encoding))
    return read_targets(path, (variables or {}).get)


def test_rows_with_and_without_probe_passwords(tmp_path):
    rows = targets(tmp_path, "email,password_env\nalice@example.com,ALICE_PW\n\nbob@example.com,\n", {"ALICE_PW": "x"})
    assert [(t.email, t.line, t.password_env) for t in rows] == [
        ("alice@example.com", 2, "ALICE_PW"), ("bob@example.com", 4, None)]
    assert rows[0].is_probe_user and not rows[1].is_probe_user


def test_a_byte_order_mark_from_excel_is_accepted(tmp_path):
    assert targets(tmp_path, "\ufeffemail\nalice@example.com\n")[0].email == "alice@example.com"


def test_non_ascii_addresses_are_kept(tmp_path):
    assert targets(tmp_path, "email\njosé.núñez@exämple.com\n")[0].email == "josé.núñez@exämple.com"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", r":1: the file is empty"),
        ("email\n", r"no mailbox rows"),
        ("email;password_env\na@example.com;X\n", r":1: no 'email' column .*uses ';'"),
        ("address\na@example.com\n", r":1: no 'email' column"),
        ("email\nnot-an-address\n", r":2: 'not-an-address' is not an e-mail address"),
        ("email\na@example.com\nA@Example.com\n", r":3: A@Example.com is listed twice \(first on line 2\)"),
        ("email,password_env\na@example.com,s3cr3t!\n", r":2: password_env 's3cr3t!' is not a variable name"),
        ("email,password_env\na@example.com,ALICE_PW\n", r":2: ALICE_PW is not set"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=rf"targets\.csv{expected}" if expected.startswith(":") else expected):
        targets(tmp_path, text)


def test_a_file_that_is_not_utf8(tmp_path):
    with pytest.raises(ConfigError, match="not UTF-8"):
        targets(tmp_path, "email\nj\xf6rg@example.com\n", encoding="latin-1")


@given(st.lists(st.from_regex(r"[a-z0-9._-]{1,12}@[a-z0-9-]{1,12}\.[a-z]{2,6}", fullmatch=True), min_size=1, max_size=20))
def test_any_list_of_distinct_addresses_round_trips(tmp_path_factory, addresses):
    unique = list(dict.fromkeys(a.lower() for a in addresses))
    path = tmp_path_factory.mktemp("t") / "targets.csv"
    path.write_text("email\n" + "\n".join(unique) + "\n", encoding="utf-8")
    assert [t.email for t in read_targets(path, {}.get)] == unique


def test_password_variables_may_not_use_the_suites_prefixes(tmp_path):
    with pytest.raises(ConfigError, match=r":2: password_env RIVA_ALICE uses a prefix reserved .* PROBE_ALICE_PASSWORD"):
        targets(tmp_path, "email,password_env\na@example.com,RIVA_ALICE\n", {"RIVA_ALICE": "x"})
