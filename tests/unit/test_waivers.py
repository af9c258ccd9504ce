"""Waivers: strict reading (every mistake named by entry, line and field) and the rules for applying them."""

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from readiness.catalogue import REQUIREMENTS
from readiness.config import load_settings
from readiness.errors import ConfigError
from readiness.verdict import Finding, decide
from readiness.waivers import Waiver, WaiverBook, read_waivers, today_utc

ENTRY = """\
  - requirement: R1.4
    justification: CAPTCHA is lifted for the Riva host next week
    approved_by: J. Smith (change board)
    ticket: CHG-1234
    expires: 2026-12-31
"""
R14, R42, R12 = REQUIREMENTS["R1.4"], REQUIREMENTS["R4.2"], REQUIREMENTS["R1.2"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(text, encoding="utf-8")
    return path


def waiver(requirement="R1.4", subject=None, expires=date(2026, 12, 31)) -> Waiver:
    return Waiver(requirement, "lifted next week", "J. Smith", "CHG-1234", expires, subject)


def test_a_well_formed_file_is_read_with_lines(tmp_path):
    [w] = read_waivers(write(tmp_path, "waivers:\n" + ENTRY))
    assert (w.requirement, w.ticket, w.expires, w.subject, w.line) == ("R1.4", "CHG-1234", date(2026, 12, 31), None, 2)


def test_quoted_and_unquoted_dates_are_the_same_date(tmp_path):
    text = "waivers:\n" + ENTRY + ENTRY.replace("R1.4", "R1.2").replace("2026-12-31", '"2026-12-31"')
    assert {w.expires for w in read_waivers(write(tmp_path, text))} == {date(2026, 12, 31)}


def test_an_empty_list_is_no_waiver_but_an_empty_file_is_a_mistake(tmp_path):
    assert read_waivers(write(tmp_path, "waivers: []\n")) == ()
    with pytest.raises(ConfigError, match=r"the file is empty — write 'waivers: \[\]'"):
        read_waivers(write(tmp_path, "# nothing\n"))


@pytest.mark.parametrize(
    "expires",
    ["2026-13-01", "31/12/2026", "2026-12-31 10:00:00", "2026-12-31T10:00:00Z", "2026-02-30", "20261231", "''",
     "tomorrow", "2026-12-31x"],
)
def test_an_expiry_that_is_not_an_iso_date_names_entry_line_and_field(tmp_path, expires):
    text = "waivers:\n" + ENTRY + ENTRY.replace("R1.4", "R1.2").replace("2026-12-31", expires)
    with pytest.raises(ConfigError) as error:
        read_waivers(write(tmp_path, text))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'waivers.yml'}:11: waiver #2 (line 7): field 'expires'"), message
    assert "YYYY-MM-DD" in message or "write a value" in message


@pytest.mark.parametrize(
    "change, expected",
    [
        (("R1.4", "R9.9"), r":2: waiver #1 \(line 2\): field 'requirement': 'R9.9' is not a requirement of the catalogue"),
        (("    ticket", "    tiket"), r":5: waiver #1 \(line 2\): unknown field 'tiket' — the fields are requirement, subject"),
        (("    ticket: CHG-1234\n", ""), r":2: waiver #1 \(line 2\): field 'ticket' is missing"),
        (("J. Smith (change board)", ""), r":4: waiver #1 \(line 2\): field 'approved_by': needs a value"),
        (("J. Smith (change board)", "''"), r"field 'approved_by': is empty"),
        (("CHG-1234\n", "CHG-1234\n    ticket: CHG-9\n"), r"field 'ticket' is given twice \(lines 5 and 6\)"),
        (("    expires: 2026-12-31", "    expires:\n      - 2026-12-31"), r"field 'expires': needs a value"),
    ],
)
def test_every_malformed_entry_is_named(tmp_path, change, expected):
    with pytest.raises(ConfigError, match=expected):
        read_waivers(write(tmp_path, "waivers:\n" + ENTRY.replace(*change)))


def test_duplicates_are_refused_even_when_the_subject_differs_only_in_case(tmp_path):
    one = ENTRY.replace("R1.4", "R4.2") + "    subject: Anna@Example.com\n"
    two = ENTRY.replace("R1.4", "R4.2") + "    subject: anna@example.com\n"
    with pytest.raises(ConfigError, match=r":8: waiver #2 \(line 8\) duplicates waiver #1 for R4.2 \[anna@example.com\]"):
        read_waivers(write(tmp_path, "waivers:\n" + one + two))
    general_and_specific = "waivers:\n" + ENTRY.replace("R1.4", "R4.2") + one
    assert len(read_waivers(write(tmp_path, general_and_specific))) == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("waivers:\n  - requirement: [R1.4\n", r"waivers.yml:\d+: not valid YAML"),
        ("- requirement: R1.4\n", r":1: the file must be a mapping with the keys waivers and/or attestations"),
        ("waiver:\n" + ENTRY, r":1: expected the top-level keys 'waivers' and/or 'attestations' \(found waiver\)"),
        ("{}\n", r":1: expected the top-level keys 'waivers' and/or 'attestations' \(found nothing\)"),
        ("waivers:\n  requirement: R1.4\n", r":2: 'waivers' must be a list"),
        ("waivers:\n  - R1.4\n", r":2: waiver #1 \(line 2\) must be a mapping"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        read_waivers(write(tmp_path, text))


def test_settings_read_the_file_relative_to_the_env_file(tmp_path):
    write(tmp_path, "waivers:\n" + ENTRY)
    env_file = tmp_path / ".env"
    env_file.write_text("CRM_URL=https://crm.example.com\nREADINESS_WAIVERS_FILE=waivers.yml\n", encoding="utf-8")
    settings = load_settings({}, env_file=env_file)
    assert settings.waivers_file == tmp_path / "waivers.yml" and settings.waivers[0].ticket == "CHG-1234"


def test_ticket_url_pattern_links_the_change_ticket():
    base = {"CRM_URL": "https://crm.example.com", "CHANGE_TICKET": "CHG 7"}
    assert load_settings({**base, "READINESS_TICKET_URL": "https://jira.example.com/browse/{}"}).ticket_url == \
        "https://jira.example.com/browse/CHG%207"
    assert load_settings(base).ticket_url is None


# -- the timezone rule: valid through the end of the expiry day in UTC ------------------------------


def test_a_waiver_holds_through_its_expiry_day_in_utc_and_not_a_second_longer():
    w = waiver(expires=date(2026, 12, 31))
    last_second = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert not w.expired_on(today_utc(last_second))
    assert w.expired_on(today_utc(last_second + timedelta(seconds=1)))
    # 2027-01-01 00:30 in Berlin is still 2026-12-31 in UTC: the waiver holds.
    assert not w.expired_on(today_utc(datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))))


# -- applying ----------------------------------------------------------------------------------------


def test_a_waived_blocking_failure_is_recorded_with_its_reasons_and_does_not_block():
    failed = Finding.of(R14, "failed", "asks for a CAPTCHA")
    [finding], ledger = WaiverBook((waiver(),), date(2026, 6, 1)).apply([failed])
    assert finding.status == "waived" and finding.blocking
    assert finding.message == ("asks for a CAPTCHA - WAIVED: lifted next week (approved by J. Smith, ticket CHG-1234, "
                               "valid until 2026-12-31 UTC)")
    assert decide([finding]).go
    assert [(e["requirement"], e["state"], e["expires"]) for e in ledger] == [("R1.4", "applied", "2026-12-31")]


def test_an_expired_waiver_counts_as_none_and_says_so():
    failed = Finding.of(R14, "failed", "asks for a CAPTCHA")
    [finding], [entry] = WaiverBook((waiver(expires=date(2026, 5, 31)),), date(2026, 6, 1)).apply([failed])
    assert finding.status == "failed" and "(waiver expired on 2026-05-31: not applied)" in finding.message
    assert not decide([finding]).go
    assert entry["state"] == "expired" and "counts as no waiver" in entry["note"]


def test_an_error_is_never_waived():
    error = Finding.of(R14, "error", "the CRM did not answer")
    [finding], [entry] = WaiverBook((waiver(),), date(2026, 6, 1)).apply([error])
    assert finding.status == "error" and not decide([finding]).go
    assert entry["state"] == "unused" and "a waiver covers failed checks only" in entry["note"]


def test_a_subject_waiver_covers_only_that_subject_and_wins_over_a_general_one():
    anna, bob = (Finding.of(R42, "failed", "no user", subject=s) for s in ("anna@example.com", "bob@example.com"))
    only_anna = WaiverBook((waiver("R4.2", subject="ANNA@example.com "),), date(2026, 6, 1))
    findings, _ = only_anna.apply([anna, bob])
    assert [f.status for f in findings] == ["waived", "failed"]
    assert not decide(findings).go
    specific, general = waiver("R4.2", subject="anna@example.com"), waiver("R4.2")
    assert WaiverBook((general, specific), date(2026, 6, 1)).find("R4.2", "anna@example.com") is specific
    assert WaiverBook((general, specific), date(2026, 6, 1)).find("R4.2", "bob@example.com") is general


def test_a_subject_waiver_does_not_cover_a_finding_without_subject():
    failed = Finding.of(R14, "failed", "asks for a CAPTCHA")
    [finding], [entry] = WaiverBook((waiver(subject="anna@example.com"),), date(2026, 6, 1)).apply([failed])
    assert finding.status == "failed" and entry["state"] == "unused"


def test_advisory_failures_can_be_waived_and_passed_checks_leave_the_waiver_unused():
    advisory = Finding.of(R12, "failed", "expires in 10 days", blocking=False)
    passed = Finding.of(R14, "passed", "signed in")
    findings, ledger = WaiverBook((waiver("R1.2"), waiver("R1.4")), date(2026, 6, 1)).apply([advisory, passed])
    assert [f.status for f in findings] == ["waived", "passed"]
    assert [e["state"] for e in ledger] == ["applied", "unused"] and "R1.4 passed" in ledger[1]["note"]
