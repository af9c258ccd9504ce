"""Attestations (G7): strict reading, what they cover (unverified only), expiry, subjects and role names,
and `python -m readiness attest`'s ready-to-fill entry."""

from datetime import date
from pathlib import Path

import pytest

from readiness.__main__ import main
from readiness.attest import entry_for
from readiness.catalogue import REQUIREMENTS
from readiness.errors import ConfigError, ReadinessError
from readiness.verdict import Finding, decide, report
from readiness.waivers import Attestation, AttestationBook, read_attestations, read_exceptions

ENTRY = """\
  - requirement: R4.3
    subject: Sales
    explanation: Admin > Roles > Sales opened; Contacts, Leads, Meetings allow Access, Edit, Delete, Import, Export
    attested_by: M. Jones (CRM administrator)
    date: 2026-11-30
    expires: 2027-02-28
    ticket: CHG-1234
"""
WAIVER = """\
  - requirement: R1.4
    justification: CAPTCHA lifted next week
    approved_by: J. Smith
    ticket: CHG-1
    expires: 2026-12-31
"""
TODAY = date(2026, 12, 2)
R43, R44, R11 = REQUIREMENTS["R4.3"], REQUIREMENTS["R4.4"], REQUIREMENTS["R1.1"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(text, encoding="utf-8")
    return path


def attestation(requirement="R4.3", subject=None, expires=date(2027, 2, 28)) -> Attestation:
    return Attestation(requirement, "checked Admin > Roles by hand", "M. Jones", date(2026, 11, 30), expires, subject,
                       "CHG-1234")


def test_a_file_with_waivers_and_attestations_is_read_with_every_field(tmp_path):
    waivers, [a] = read_exceptions(write(tmp_path, "waivers:\n" + WAIVER + "attestations:\n" + ENTRY), TODAY)
    assert [w.requirement for w in waivers] == ["R1.4"]
    assert (a.requirement, a.subject, a.attested_by, a.date, a.expires, a.ticket, a.line) == (
        "R4.3", "Sales", "M. Jones (CRM administrator)", date(2026, 11, 30), date(2027, 2, 28), "CHG-1234", 8)


def test_attestations_alone_and_without_the_optional_fields(tmp_path):
    text = "attestations:\n" + ENTRY.replace("    subject: Sales\n", "").replace("    ticket: CHG-1234\n", "")
    [a] = read_attestations(write(tmp_path, text), TODAY)
    assert (a.subject, a.ticket) == (None, None)
    assert read_exceptions(write(tmp_path, "attestations: []\n"), TODAY) == ((), ())


@pytest.mark.parametrize(
    "change, expected",
    [
        (("R4.3", "R9.9"), r":2: attestation #1 \(line 2\): field 'requirement': 'R9.9' is not a requirement"),
        (("    attested_by", "    approved_by"), r":5: attestation #1 \(line 2\): unknown field 'approved_by' — the "
                                                 r"fields are requirement, subject, explanation, attested_by, date"),
        (("    explanation: Admin > Roles > Sales opened; Contacts, Leads, Meetings allow Access, Edit, Delete, Import, "
          "Export\n", ""), r":2: attestation #1 \(line 2\): field 'explanation' is missing — every attestation needs "
                           r"requirement, explanation, attested_by, date, expires"),
        (("    attested_by: M. Jones (CRM administrator)\n", ""), r"field 'attested_by' is missing"),
        (("    date: 2026-11-30\n", ""), r"field 'date' is missing"),
        (("    expires: 2027-02-28\n", ""), r"field 'expires' is missing"),
        (("2026-11-30", "30.11.2026"), r":6: attestation #1 \(line 2\): field 'date': '30.11.2026' is not a date"),
        (("2027-02-28", "2027-02-30"), r":7: attestation #1 \(line 2\): field 'expires': '2027-02-30' is not a date"),
        (("2026-11-30", "2026-12-03"), r":6: attestation #1 \(line 2\): field 'date': 2026-12-03 is in the future"),
        (("2027-02-28", "2026-11-01"), r"field 'date': 2026-11-30 is after its expiry 2026-11-01"),
        (("M. Jones (CRM administrator)", "<your name and role>"),
         r":5: attestation #1 \(line 2\): field 'attested_by': still holds the placeholder <your name and role>"),
        (("M. Jones (CRM administrator)", ""), r"field 'attested_by': needs a value"),
        (("CHG-1234", "''"), r"field 'ticket': is empty"),
        (("    ticket: CHG-1234\n", "    ticket: CHG-1234\n    ticket: CHG-2\n"), r"field 'ticket' is given twice"),
    ],
)
def test_every_malformed_attestation_is_named_by_entry_line_and_field(tmp_path, change, expected):
    with pytest.raises(ConfigError, match=expected):
        read_exceptions(write(tmp_path, "attestations:\n" + ENTRY.replace(*change)), TODAY)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("attestations:\n  requirement: R4.3\n", r":2: 'attestations' must be a list"),
        ("attestations:\n  - R4.3\n", r":2: attestation #1 \(line 2\) must be a mapping"),
        ("attestations:\n" + ENTRY + ENTRY.replace("Sales", "SALES"),
         r":9: attestation #2 \(line 9\) duplicates attestation #1 for R4.3 \[SALES\]"),
        ("attestation:\n" + ENTRY, r"expected the top-level keys 'waivers' and/or 'attestations' \(found attestation\)"),
    ],
)
def test_a_malformed_attestations_list_is_refused(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        read_exceptions(write(tmp_path, text), TODAY)


# -- applying ----------------------------------------------------------------------------------------


def test_an_attestation_turns_an_unverified_check_into_attested_with_every_field_and_the_run_into_go():
    unverified = Finding.of(R43, "unverified", "roles cannot be read (404): check Admin → Roles by hand")
    assert decide([unverified]).word == "INCOMPLETE"
    [finding], [entry] = AttestationBook((attestation(),), TODAY).apply([unverified])
    assert finding.status == "attested" and finding.blocking
    assert finding.message == ("roles cannot be read (404): check Admin → Roles by hand - ATTESTED: checked Admin > "
                               "Roles by hand (attested by M. Jones, checked on 2026-11-30, ticket CHG-1234, valid "
                               "until 2027-02-28 UTC)")
    assert decide([finding]).word == "GO"
    assert entry == {"requirement": "R4.3", "explanation": "checked Admin > Roles by hand", "attested_by": "M. Jones",
                     "date": "2026-11-30", "expires": "2027-02-28", "subject": None, "ticket": "CHG-1234",
                     "state": "applied", "note": "attests R4.3"}


@pytest.mark.parametrize("status", ["failed", "error", "waived"])
def test_an_attestation_never_covers_a_failed_or_errored_check(status):
    finding = Finding.of(R43, status, "role 'Sales' denies export on Leads")
    [after], [entry] = AttestationBook((attestation(),), TODAY).apply([finding])
    assert after == finding and entry["state"] == "unused"
    assert "an attestation covers unverified checks only (a waiver is for a failed check)" in entry["note"]
    assert decide([after]).word == ("GO" if status == "waived" else "NO-GO")


def test_an_expired_attestation_counts_as_none_and_says_so():
    unverified = Finding.of(R43, "unverified", "roles cannot be read")
    [finding], [entry] = AttestationBook((attestation(expires=date(2026, 12, 1)),), TODAY).apply([unverified])
    assert finding.status == "unverified" and "(attestation expired on 2026-12-01: not applied)" in finding.message
    assert decide([finding]).word == "INCOMPLETE"
    assert entry["state"] == "expired" and "counts as no attestation" in entry["note"]
    # valid through the end of its expiry day (UTC)
    assert AttestationBook((attestation(expires=TODAY),), TODAY).active("R4.3", None) is not None


def test_a_subject_is_a_target_address_or_a_role_of_the_target_user():
    anna, bob = (Finding.of(R43, "unverified", "roles cannot be read", subject=s)
                 for s in ("anna@example.com", "bob@example.com"))
    roles = {"anna@example.com": ["Sales"], "bob@example.com": ["Support"]}
    for subject in ("Sales", "ANNA@example.com "):
        book = AttestationBook((attestation(subject=subject),), TODAY, lambda s: roles.get(s, []))
        findings, _ = book.apply([anna, bob])
        assert [f.status for f in findings] == ["attested", "unverified"]
        assert decide(findings).word == "INCOMPLETE"
    specific, general = attestation(subject="anna@example.com"), attestation()
    assert AttestationBook((general, specific), TODAY).find("R4.3", "anna@example.com") is specific
    assert AttestationBook((general, specific), TODAY).find("R4.3", "bob@example.com") is general
    assert AttestationBook((attestation("R4.4"),), TODAY).find("R4.3", None) is None


def test_the_ledger_lists_every_attestation_in_readiness_json():
    findings, ledger = AttestationBook((attestation(), attestation("R1.1")), TODAY).apply(
        [Finding.of(R43, "unverified", "x"), Finding.of(R11, "passed", "ok")])
    document = report(decide(findings), findings, crm_url="https://crm", mode="full", attestations=ledger)
    assert [(a["requirement"], a["state"]) for a in document["attestations"]] == [("R4.3", "applied"),
                                                                                  ("R1.1", "unused")]
    assert document["verdict"] == "GO"


# -- python -m readiness attest ------------------------------------------------------------------------

LAST_RUN = {
    "verdict": "INCOMPLETE", "crm_url": "https://crm.example.com", "run_id": "20261202T070000Z-abcdef",
    "checks": [
        {"id": "R4.3", "status": "unverified", "subject": "alice@example.com",
         "message": "rights of role 'Sales' not readable through the API (403): in 1CRM, Admin → Roles → Sales, check "
                    "Contacts, Leads for Access, Edit, Delete, Import, Export"},
        {"id": "R4.3", "status": "passed", "subject": "bob@example.com", "message": "role 'Support' allows all"},
        {"id": "R1.4", "status": "failed", "subject": None, "message": "CAPTCHA"},
    ],
}


def test_attest_prints_an_entry_that_lists_the_manual_check_and_is_refused_until_filled(tmp_path):
    text = entry_for(LAST_RUN, "R4.3", "Sales")
    assert "#   - R4.3 [alice@example.com]: rights of role 'Sales' not readable through the API (403): in 1CRM, " \
           "Admin → Roles → Sales, check Contacts, Leads for Access, Edit, Delete, Import, Export" in text
    assert "R4.3 [bob@example.com]" not in text
    with pytest.raises(ConfigError, match="still holds the placeholder"):
        read_exceptions(write(tmp_path, text), TODAY)
    filled = (text.replace("<what you checked by hand, where, and what you saw>", "Admin > Roles > Sales: all allowed")
              .replace("<your name and role>", "M. Jones").replace("<YYYY-MM-DD, the day you checked>", "2026-12-01")
              .replace("<YYYY-MM-DD, when it must be checked again>", "2027-03-01"))
    [a] = read_attestations(write(tmp_path, filled), TODAY)
    book = AttestationBook((a,), TODAY, lambda s: ["Sales"] if s == "alice@example.com" else [])
    [finding], _ = book.apply([Finding.of(R43, "unverified", LAST_RUN["checks"][0]["message"],
                                          subject="alice@example.com")])
    assert finding.status == "attested"


def test_attest_refuses_what_is_not_unverified(tmp_path):
    with pytest.raises(ReadinessError, match="no unverified finding for R1.4: an attestation covers unverified checks "
                                             "only"):
        entry_for(LAST_RUN, "R1.4", None)
    with pytest.raises(ReadinessError, match="about 'Support' — its unverified findings are about: alice@example.com"):
        entry_for(LAST_RUN, "R4.3", "Support")


def test_attest_command_reads_the_last_run(tmp_path, capsys):
    import json

    (tmp_path / "readiness.json").write_text(json.dumps(LAST_RUN), encoding="utf-8")
    assert main(["attest", "R4.3", "--subject", "Sales", "--reports-dir", str(tmp_path)]) == 0
    assert "  - requirement: R4.3\n    subject: Sales\n" in capsys.readouterr().out
    assert main(["attest", "R1.4", "--reports-dir", str(tmp_path)]) == 1
    assert main(["attest", "R4.3", "--reports-dir", str(tmp_path / "nowhere")]) == 4
    assert "run the suite first" in capsys.readouterr().err


# -- what a scenario shows (JUnit, Allure): the recorder's skip reasons -----------------------------------


def recorder(attestations=(), waivers=()):
    from readiness.plugin.recorder import CheckRecorder
    from readiness.redaction import Redactor
    from readiness.waivers import WaiverBook

    return CheckRecorder(R43, Redactor(), WaiverBook(tuple(waivers), TODAY), AttestationBook(tuple(attestations), TODAY))


def test_an_unverified_outcome_skips_the_scenario_as_unverified_even_beside_a_pass():
    from readiness.outcome import Outcome

    check = recorder()
    with pytest.raises(pytest.skip.Exception, match=r"^UNVERIFIED: R4\.3 \[b@x\.org\] rights of role 'Support' not "
                                                    r"readable: check Admin → Roles → Support$"):
        check.expect_all([Outcome.ok("role Sales allows all", subject="a@x.org"),
                          Outcome.not_verifiable("rights of role 'Support' not readable: check Admin → Roles → Support",
                                                 subject="b@x.org")])
    assert check.deferred and len(check.outcomes) == 2  # the controller makes the findings from them


def test_a_covered_unverified_outcome_skips_as_attested_and_a_failure_is_never_hidden_by_one():
    from readiness.outcome import Outcome
    from readiness.plugin.recorder import CheckFailed

    with pytest.raises(pytest.skip.Exception, match=r"^ATTESTED: R4\.3 roles not readable - checked Admin > Roles by "
                                                    r"hand \(attested by M\. Jones, checked on 2026-11-30"):
        recorder([attestation()]).expect_all([Outcome.not_verifiable("roles not readable")])
    with pytest.raises(CheckFailed, match=r"^R4\.3 role 'Sales' denies export"):
        recorder([attestation()]).expect_all([Outcome.fail("role 'Sales' denies export", subject="a@x.org"),
                                              Outcome.not_verifiable("roles not readable", subject="b@x.org")])
