"""One root cause, one finding: what the checks met, and how the verdict groups the checks it kept from running."""

from dataclasses import replace
from datetime import date

import pytest

from readiness import root_causes
from readiness.catalogue import REQUIREMENTS
from readiness.plugin.findings import carried
from readiness.verdict import Finding, decide, not_checked, report, summary_lines
from readiness.waivers import Waiver, WaiverBook

TLS, CONNECTION, RIVA = root_causes.TLS, root_causes.CONNECTION, root_causes.sign_in("riva_svc")


def finding(rid: str, status: str, message: str = "", *causes: str, subject: str | None = None) -> Finding:
    return replace(Finding.of(REQUIREMENTS[rid], status, message or f"{rid} {status}", subject=subject), causes=causes)


@pytest.fixture(autouse=True)
def fresh_run():
    root_causes.reset()
    yield
    root_causes.reset()


def test_a_check_meets_the_causes_of_its_own_requests_and_those_its_message_quotes():
    root_causes.begin()
    root_causes.met(TLS, "TLS with https://crm failed: certificate verify failed")
    assert root_causes.of_message("anything") == (TLS,)
    root_causes.begin()  # the next check: its own requests met nothing
    assert root_causes.of_message("R3.1: riva_svc cannot read its account") == ()
    # but a value read once and shared carries the words of the failure into every check that uses it
    quoted = "riva_svc cannot sign in (TLS with https://crm failed: certificate verify failed)"
    assert root_causes.of_message(quoted) == (TLS,)
    root_causes.reset()  # a new run in this process starts with nothing met
    assert root_causes.of_message(quoted) == ()


def test_the_same_words_may_stand_for_several_causes():
    root_causes.met(RIVA, "the user name or password was refused (bad credentials)")
    root_causes.met(root_causes.sign_in("alice"), "the user name or password was refused (bad credentials)")
    root_causes.begin()
    assert root_causes.of_message("alice: the user name or password was refused (bad credentials)") == (
        root_causes.sign_in("alice"), RIVA)


def test_an_untrusted_certificate_is_one_finding_and_the_checks_it_kept_from_running_say_so():
    findings = [finding("R1.1", "passed"), finding("R1.2", "failed", "certificate not trusted", TLS),
                finding("R1.3", "error", "TLS failed", TLS), finding("R2.1", "failed", "version unknown: TLS", TLS),
                finding("R3.4", "error", "TLS failed", TLS), finding("R4.3", "unverified", "roles: TLS", TLS),
                finding("R4.2", "error", "TLS", TLS, subject="a@example.com"),
                finding("R4.2", "error", "TLS", TLS, subject="b@example.com"),
                finding("R2.3", "failed", "too little memory")]  # a failure of its own: kept
    grouped = {(f.id, f.subject): f for f in not_checked(findings)}
    for key in (("R1.3", None), ("R2.1", None), ("R3.4", None), ("R4.3", None), ("R4.2", "a@example.com")):
        assert (grouped[key].status, grouped[key].message, grouped[key].because_of) == (
            "error", "not checked: R1.2 failed first", "R1.2"), key
    assert grouped[("R1.2", None)].message == "certificate not trusted" and grouped[("R1.2", None)].because_of is None
    assert grouped[("R2.3", None)].status == "failed" and grouped[("R1.1", None)].status == "passed"
    verdict = decide(list(grouped.values()))
    # the root cause first, then what failed of its own; R3.4 is advisory, so it is not a reason
    assert verdict.reasons == ("R1.2 failed, so 4 checks could not run (R1.3, R2.1, R4.2, R4.3)", "R2.3 failed")


def test_a_check_about_the_cause_keeps_its_own_finding():
    # a refused password: the web login (R1.4) and the API sign-in (R1.5) each tried it; Step 3 could not run
    findings = not_checked([finding("R1.4", "failed", "web login refused", RIVA),
                            finding("R1.5", "failed", "API sign-in refused", RIVA),
                            finding("R3.2", "failed", "cannot sign in", RIVA)])
    assert [(f.id, f.status, f.because_of) for f in findings] == [
        ("R1.4", "failed", None), ("R1.5", "failed", None), ("R3.2", "error", "R1.4")]
    assert decide(findings).reasons == ("R1.4 failed, so 1 check could not run (R3.2)", "R1.5 failed")


def test_only_a_failure_of_step_1_is_a_root_cause_and_only_later_checks_depend_on_it():
    # a connection lost in Step 2 is that check's own finding; so is every other's
    later = [finding("R2.2", "failed", "3 x no connection", CONNECTION), finding("R3.1", "error", "no connection", CONNECTION)]
    assert not_checked(later) == later
    # R1.1 failed: the TLS check (R1.2) could not run; R1.1 itself is not a dependent of anything
    findings = not_checked([finding("R1.2", "error", "no TLS session", CONNECTION),
                            finding("R1.1", "failed", "refused the connection", CONNECTION)])
    assert [(f.id, f.because_of) for f in findings] == [("R1.2", "R1.1"), ("R1.1", None)]
    # a passed check stays passed, and a cause not failed in Step 1 groups nothing
    kept = [finding("R1.2", "failed", "untrusted", TLS), finding("R1.3", "passed", "form", TLS),
            finding("R3.1", "error", "sign-in refused", RIVA)]
    assert not_checked(kept) == kept


def test_a_wrong_address_keeps_every_later_check_from_running_met_or_not():
    # http:// on a TLS port: whatever a later check met (Apache's 400, a dropped connection), it did not run
    findings = not_checked([finding("R1.2", "failed", "CRM_URL says http://", root_causes.ADDRESS),
                            finding("R1.3", "failed", "no login page (HTTP 400)"),
                            finding("R3.1", "error", "HTTP 400 for me"), finding("R2.3", "passed")])
    assert [(f.id, f.status, f.because_of) for f in findings] == [
        ("R1.2", "failed", None), ("R1.3", "error", "R1.2"), ("R3.1", "error", "R1.2"), ("R2.3", "passed", None)]
    # a check that did not run because of it is no root of its own: the API sign-in's 400 is the address again
    findings = not_checked([finding("R3.2", "failed", "cannot sign in", RIVA),
                            finding("R1.5", "failed", "token endpoint answered HTTP 400", RIVA),
                            finding("R1.2", "failed", "CRM_URL says http://", root_causes.ADDRESS)])
    assert [(f.id, f.because_of) for f in findings] == [("R3.2", "R1.2"), ("R1.5", "R1.2"), ("R1.2", None)]


def test_the_summary_names_the_root_cause_once_and_the_checks_it_kept_from_running_in_one_line():
    findings = not_checked([finding("R1.1", "failed", "port 1 refused the connection", CONNECTION),
                            finding("R1.2", "error", "no TLS session", CONNECTION),
                            finding("R1.3", "error", "cannot connect", CONNECTION),
                            finding("R3.1", "error", "cannot connect", CONNECTION)])
    document = report(decide(findings), findings, crm_url="https://crm:1", mode="full")
    assert {c["id"]: c.get("because_of") for c in document["checks"]} == {"R1.1": None, "R1.2": "R1.1",
                                                                          "R1.3": "R1.1", "R3.1": "R1.1"}
    assert all("causes" not in c for c in document["checks"])  # how the suite grouped them is not the interface
    lines = summary_lines(document)
    step1 = lines.index(next(line for line in lines if line.startswith("Step 1")))
    assert lines[step1 + 1:step1 + 3] == ["    FAILED (blocking) R1.1: port 1 refused the connection",
                                          "    NOT CHECKED, R1.1 failed first: R1.2, R1.3"]
    assert "    NOT CHECKED, R1.1 failed first: R3.1" in lines
    assert lines[-1] == "VERDICT: NO-GO - R1.1 failed, so 3 checks could not run (R1.2, R1.3, R3.1)"


def test_what_a_waived_root_cause_kept_from_running_still_stops_the_go_live():
    waiver = Waiver("R1.2", "internal CA, trusted by GPO", "J. Doe", "CHG-1", date(2999, 1, 1))
    findings = not_checked([finding("R1.2", "failed", "untrusted", TLS), finding("R3.1", "error", "TLS", TLS)])
    findings, _ = WaiverBook((waiver,), date(2026, 12, 3)).apply(findings)
    assert [f.status for f in findings] == ["waived", "error"]  # not checked is no failure to waive
    verdict = decide(findings)
    assert not verdict.go and verdict.reasons == ("R1.2 failed first, so 1 check could not run (R3.1)",)


def test_causes_travel_from_an_xdist_worker_as_a_list_and_arrive_as_a_tuple():
    sent = finding("R1.3", "error", "TLS failed", TLS)
    report_ = type("Report", (), {"user_properties": [("readiness.findings", [{**sent.__dict__, "causes": [TLS]}])]})
    [arrived], _, _ = carried(report_)
    assert arrived == sent
