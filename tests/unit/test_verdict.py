"""The verdict rule: GO only when every implemented requirement ran and nothing blocking failed."""

from readiness.catalogue import REQUIREMENTS
from readiness.outcome import Outcome
from readiness.verdict import Finding, decide, findings_from_outcomes, report, summary_lines

R11, R12, R34 = REQUIREMENTS["R1.1"], REQUIREMENTS["R1.2"], REQUIREMENTS["R3.4"]


def test_outcomes_merge_into_one_finding_per_subject():
    findings = findings_from_outcomes(R11, [Outcome.ok("a"), Outcome.fail("b"), Outcome.ok("c", subject="x@y.z")])
    assert [(f.subject, f.status, f.message, f.blocking) for f in findings] == [
        (None, "failed", "b", True), ("x@y.z", "passed", "c", True)]


def test_an_advisory_outcome_in_a_blocking_requirement_does_not_block():
    [finding] = findings_from_outcomes(R12, [Outcome.fail("expires in 10 days", advisory=True)])
    assert finding.status == "failed" and not finding.blocking
    assert decide([finding]).go


def test_blocking_failures_and_errors_stop_go_live():
    failed = Finding.of(R11, "failed", "refused")
    error = Finding.of(R12, "error", "timeout")
    verdict = decide([failed, error])
    assert not verdict.go and verdict.exit_code == 1
    assert verdict.reasons == ("R1.1 failed", "R1.2 error")


def test_advisory_requirements_never_change_the_verdict():
    assert decide([Finding.of(R34, "failed", "shared account"), Finding.of(R11, "passed", "ok")]).go


def test_skipped_is_not_a_failure_but_an_empty_run_is_no_go_and_a_partial_one_gives_no_verdict():
    assert decide([Finding.of(R11, "skipped", "read-only")]).go
    assert decide([]).reasons == ("no requirement was evaluated",)
    partial = decide([Finding.of(R11, "passed", "ok")], not_evaluated=["R1.2"])
    assert (partial.word, partial.exit_code) == ("PARTIAL", 1)  # never read as GO, nor as the server's NO-GO
    assert partial.reasons == ("no verdict: R1.2 not evaluated (scenarios deselected)",)
    failing = decide([Finding.of(R11, "failed", "refused")], not_evaluated=["R1.2"])
    assert failing.word == "PARTIAL" and failing.reasons[1] == "R1.1 failed"  # what it found is still said
    interrupted = decide([Finding.of(R11, "passed", "ok")], not_evaluated=["R1.2"], interrupted="interrupted")
    assert interrupted.word == "NO-GO" and "partial run: R1.2 not evaluated" in interrupted.reasons


def test_a_refused_selection_gives_no_verdict_and_says_why():
    verdict = decide([], not_evaluated=["R1.1", "R1.2"], selection_error="Unknown marker(s) in '-m' expression: R9.9")
    assert (verdict.word, verdict.reasons) == ("PARTIAL", (
        "no verdict: pytest refused the selection (Unknown marker(s) in '-m' expression: R9.9); no check ran",))


def test_interruption_is_no_go_with_the_reason_first():
    verdict = decide([Finding.of(R11, "passed", "ok")], interrupted="interrupted")
    assert verdict.word == "NO-GO" and verdict.reasons[0] == "interrupted"


def test_report_shape_and_summary():
    findings = [Finding.of(R12, "failed", "untrusted"), Finding.of(R11, "passed", "ok")]
    document = report(decide(findings), findings, crm_url="https://crm", version="8.7.7", edition="Enterprise",
                      mode="full", not_covered=["R2.1"])
    assert [c["id"] for c in document["checks"]] == ["R1.1", "R1.2"]  # catalogue order
    assert set(document["checks"][0]) == {"id", "step", "title", "status", "blocking", "message", "subject",
                                          "because_of"}
    assert document["verdict"] == "NO-GO" and document["generated_at"].endswith("Z")
    lines = summary_lines(document)
    assert any(line.startswith("Step 1") and "1 failed, 1 passed" in line for line in lines)
    assert "    FAILED (blocking) R1.2: untrusted" in lines
    assert lines[-1] == "VERDICT: NO-GO - R1.2 failed"


def test_reasons_stay_short_with_many_targets():
    r42 = REQUIREMENTS["R4.2"]
    findings = [Finding.of(r42, "failed", "no user", subject=f"user{n}@example.com") for n in range(2000)]
    findings.append(Finding.of(r42, "error", "timeout", subject="x@example.com"))
    assert decide(findings).reasons == ("R4.2 failed for 2000 targets", "R4.2 error (x@example.com)")


def test_waived_findings_and_every_waiver_show_in_the_summary():
    findings = [Finding.of(R11, "waived", "refused - WAIVED: firewall opens on go-live day")]
    waiver = {"requirement": "R1.2", "subject": None, "ticket": "CHG-1", "expires": "2020-01-31", "state": "expired",
              "note": "expired on 2020-01-31: ignored, counts as no waiver"}
    document = report(decide(findings), findings, crm_url="https://crm", mode="full", waivers=[waiver])
    lines = summary_lines(document)
    assert "    WAIVED (blocking) R1.1: refused - WAIVED: firewall opens on go-live day" in lines
    assert "Waiver expired: R1.2 (CHG-1, until 2020-01-31) - expired on 2020-01-31: ignored, counts as no waiver" in lines
    assert lines[-1] == "VERDICT: GO" and document["waivers"] == [waiver]


# -- unverified, attested and INCOMPLETE ---------------------------------------------------------

R43, R35 = REQUIREMENTS["R4.3"], REQUIREMENTS["R3.5"]


def test_an_outcome_that_cannot_be_verified_makes_its_subject_unverified_even_beside_a_pass():
    findings = findings_from_outcomes(R43, [
        Outcome.ok("role Sales allows everything", subject="a@x.org"),
        Outcome.not_verifiable("rights of role 'Support' not readable (403): check Admin → Roles → Support",
                               subject="a@x.org"),
        Outcome.ok("role Sales allows everything", subject="b@x.org")])
    assert [(f.subject, f.status, f.blocking) for f in findings] == [("a@x.org", "unverified", True),
                                                                      ("b@x.org", "passed", True)]
    assert findings[0].message == "rights of role 'Support' not readable (403): check Admin → Roles → Support"


def test_an_unverified_blocking_requirement_is_incomplete_with_exit_code_101():
    unverified = Finding.of(R43, "unverified", "roles not readable", subject="a@x.org")
    verdict = decide([Finding.of(R11, "passed", "ok"), unverified])
    assert (verdict.word, verdict.exit_code, verdict.go) == ("INCOMPLETE", 101, False)
    assert verdict.reasons == ("R4.3 unverified (a@x.org)",)


def test_a_failure_wins_over_unverified_and_the_reasons_still_name_both():
    verdict = decide([Finding.of(R11, "error", "timeout"), Finding.of(R43, "unverified", "roles not readable")])
    assert (verdict.word, verdict.exit_code) == ("NO-GO", 1)
    assert verdict.reasons == ("R1.1 error", "R4.3 unverified")


def test_advisory_unverified_and_attested_findings_leave_the_run_go():
    advisory = findings_from_outcomes(R35, [Outcome.not_verifiable("no password expiry field")])
    assert [(f.status, f.blocking) for f in advisory] == [("unverified", False)]
    attested = Finding.of(R43, "attested", "roles not readable - ATTESTED: checked by hand")
    verdict = decide([*advisory, attested])
    assert (verdict.word, verdict.exit_code) == ("GO", 0)


def test_the_summary_shows_unverified_attested_and_a_server_without_the_rest_api():
    findings = [Finding.of(R43, "unverified", "not verifiable: this server has no REST API: in 1CRM, Admin → Roles",
                           subject="a@x.org"), Finding.of(R11, "attested", "x - ATTESTED: y")]
    attestation = {"requirement": "R1.1", "subject": None, "explanation": "checked from the Riva host",
                   "attested_by": "M. Jones", "date": "2026-11-30", "expires": "2027-01-31", "ticket": "CHG-9",
                   "state": "applied", "note": "attests R1.1"}
    document = report(decide(findings), findings, crm_url="https://crm", mode="full", attestations=[attestation],
                      rest_api={"available": False, "detail": "no /api.php on this server"})
    lines = summary_lines(document)
    assert lines[1] == "NO REST API: no /api.php on this server"
    assert "    UNVERIFIED (blocking) R4.3 [a@x.org]: not verifiable: this server has no REST API: in 1CRM, Admin → Roles" \
        in lines
    assert "    ATTESTED (blocking) R1.1: x - ATTESTED: y" in lines
    assert ("Attestation applied: R1.1 (by M. Jones, checked 2026-11-30, until 2027-01-31, ticket CHG-9) - checked "
            "from the Riva host - attests R1.1") in lines
    assert lines[-1] == "VERDICT: INCOMPLETE - R4.3 unverified (a@x.org)"
    assert document["verdict"] == "INCOMPLETE" and document["attestations"] == [attestation]
