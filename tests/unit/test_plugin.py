"""The plugin's parts on findings and reports built by hand, without a server or a pytest run: reports to
findings, the verdict document, and each output's writer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from readiness.catalogue import REQUIREMENTS
from readiness.config import load_settings
from readiness.errors import CrmError
from readiness.outcome import Outcome
from readiness.plugin import controller, findings, outputs
from readiness.plugin.recorder import CheckFailed, CheckRecorder
from readiness.plugin.state import STATE, RunState
from readiness.redaction import Redactor
from readiness.run import ReadinessRun
from readiness.verdict import Finding

FEATURES = Path(__file__).resolve().parents[2] / "features"
R14, R42 = REQUIREMENTS["R1.4"], REQUIREMENTS["R4.2"]


def settings(**environ):
    return load_settings({"CRM_URL": "https://crm.example.com/1crm", "CRM_USERNAME": "riva_svc",
                          "CRM_PASSWORD": "Unit-Pass-1", "READINESS_ENV_FILE": "none", **environ})


def report(when="call", skipped=False, longrepr=None):
    return SimpleNamespace(when=when, skipped=skipped, passed=not skipped, failed=False, longrepr=longrepr,
                           user_properties=[])


def call(exc: BaseException | None = None):
    if exc is None:
        return SimpleNamespace(excinfo=None)
    try:
        raise exc
    except BaseException:  # noqa: BLE001 - an ExceptionInfo needs a raised exception
        return SimpleNamespace(excinfo=pytest.ExceptionInfo.from_current())


def recorder(*outcomes: Outcome) -> CheckRecorder:
    check = CheckRecorder(R42, Redactor())
    check.outcomes.extend(outcomes)
    return check


# -- reports to findings ---------------------------------------------------------------------------------


def test_a_scenario_that_concluded_nothing_is_a_suite_defect_not_a_pass():
    [finding] = findings.of_report(R14, report(), call(), recorder())
    assert (finding.status, finding.message) == ("error", "suite defect: the scenario concluded nothing")


def test_outcomes_become_one_finding_each_with_their_subject():
    check = recorder(Outcome.ok("matches anna", subject="anna@x.org"), Outcome.fail("no CRM user", subject="bo@x.org"))
    found = findings.of_report(R42, report(), call(CheckFailed("R4.2 no CRM user")), check)
    assert [(f.subject, f.status) for f in found] == [("anna@x.org", "passed"), ("bo@x.org", "failed")]


def test_a_crm_error_names_the_address_without_its_query_and_an_unknown_exception_is_a_suite_error():
    error = CrmError("the CRM answered HTTP 500")
    error.url = "https://crm.example.com/1crm/api.php/data/User?offset=200"
    [finding] = findings.of_report(R42, report(), call(error), recorder())
    assert (finding.status, finding.message) == ("error", "the CRM answered HTTP 500 "
                                                          "(https://crm.example.com/1crm/api.php/data/User)")
    [finding] = findings.of_report(R42, report(), call(KeyError("id")), recorder())
    assert (finding.status, finding.message) == ("error", "suite error: KeyError: 'id'")


def test_a_skip_reason_is_skipped_and_an_unverified_one_is_unverified():
    skipped = report(skipped=True, longrepr=("f", 1, "Skipped: does not apply: a hosted server"))
    assert [(f.status, f.message) for f in findings.of_report(R14, skipped, call(), None)] == [
        ("skipped", "does not apply: a hosted server")]
    unverified = report(skipped=True, longrepr=("f", 1, "Skipped: UNVERIFIED: R1.4 no browser; check by hand"))
    assert [f.status for f in findings.of_report(R14, unverified, call(), None)] == ["unverified"]


def test_findings_and_facts_ride_in_the_report_properties_to_the_controller_redacted_by_the_worker():
    worker = state_with()
    worker.redactor.add("token-seen-by-this-worker-only")  # as the worker's sessions learn tokens on the wire
    item = SimpleNamespace(iter_markers=lambda: [SimpleNamespace(name="R4.2")], config=SimpleNamespace(stash={STATE: worker}))
    check = recorder(Outcome.fail("the CRM echoed token-seen-by-this-worker-only", subject="bo@x.org"))
    check.note(version="8.7.7", server_source="/about?sid=token-seen-by-this-worker-only")
    made = findings.attach(item, call(CheckFailed("R4.2 no CRM user Unit-Pass-1")), report(), check)
    found, facts, cleanup = findings.carried(made)
    assert [(f.id, f.subject, f.status, f.message) for f in found] == [("R4.2", "bo@x.org", "failed", "the CRM echoed ***")]
    assert (facts, cleanup) == ({"version": "8.7.7", "server_source": "/about?sid=***"}, None)
    assert made.longrepr == "R4.2 no CRM user ***"  # the finding, not a stack trace, and never a secret
    assert "token-seen-by-this-worker-only" not in repr(made.user_properties)  # the controller's redactor never saw it


# -- the verdict document ------------------------------------------------------------------------------


def state_with(*found: Finding, **environ) -> RunState:
    state = RunState(Path("."), FEATURES, waiver_day=date(2026, 12, 1))
    state.run = ReadinessRun(settings(**environ), state.run_id)
    state.findings.extend(found)
    return state


def test_the_document_redacts_every_message_and_names_what_was_not_evaluated():
    state = state_with(Finding.of(R14, "failed", "the web login refused riva_svc with Unit-Pass-1"))
    judged = controller.judge(state)
    verdict = controller.decide_verdict(state, judged.findings, 0)
    document = controller.verdict_document(state, verdict, judged)
    assert document["verdict"] == "PARTIAL" and document["reasons"][1] == "R1.4 failed"
    assert document["reasons"][0].startswith("no verdict: R1.1, R1.2, R1.3, R1.5")
    assert "Unit-Pass-1" not in json.dumps(document)
    assert (document["crm_url"], document["run_id"]) == ("https://crm.example.com/1crm", state.run_id)


def test_an_interrupted_pytest_session_is_never_go():
    state = state_with(*[Finding.of(REQUIREMENTS[rid], "passed", "ok") for rid in REQUIREMENTS])
    judged = controller.judge(state)
    assert controller.decide_verdict(state, judged.findings, 0).word == "GO"
    assert controller.decide_verdict(state, judged.findings, pytest.ExitCode.INTERRUPTED).reasons[0] == \
        "the run did not complete (pytest exit status 2)"


# -- one writer per output -----------------------------------------------------------------------------


def test_the_connection_sheet_has_the_verdict_and_each_targets_worst_status_or_says_none_was_checked(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text("email\nanna@x.org\n", encoding="utf-8")
    s = settings(RIVA_TARGETS_FILE=str(targets))
    found = [Finding.of(R42, "passed", "matches anna", subject="anna@x.org"),
             Finding.of(REQUIREMENTS["R4.3"], "unverified", "roles not readable", subject="anna@x.org"),
             Finding.of(REQUIREMENTS["R4.4"], "failed", "cannot delete Meeting", subject="anna@x.org"),
             Finding.of(R42, "passed", "matches bo", subject="bo@x.org")]
    sheet = outputs.connection_sheet(s, {"version": "8.7.7", "edition": "Enterprise"}, found,
                                     {"verdict": "NO-GO", "run_id": "20261202T1200Z-abc"})
    assert "https://crm.example.com/1crm" in sheet and "riva_svc" in sheet and "8.7.7 Enterprise" in sheet
    assert "Readiness verdict: **NO-GO** (run 20261202T1200Z-abc)" in sheet and "Unit-Pass-1" not in sheet
    assert "| anna@x.org | failed (R4.4) |" in sheet and "| bo@x.org | passed |" in sheet  # the worst of R4.2–R4.5
    assert "not checked by this run" in outputs.connection_sheet(s, {}, [])


def test_the_target_table_has_a_row_per_mailbox_and_the_status_of_each_check():
    assert outputs.target_rows({}, []) is None
    facts = {"target_users": {"anna@x.org": {"crm_user": "anna", "user_status": "Active", "roles": "Sales"}}}
    rows = outputs.target_rows(facts, [Finding.of(R42, "failed", "x", subject="anna@x.org")]).splitlines()
    assert rows[0].startswith('"mailbox","crm_user","user_status","roles","R4.2"')
    assert rows[1].startswith('"anna@x.org","anna","Active","Sales","failed"')


def test_junit_properties_carry_the_verdict_and_count_waivers_attestations_and_unverified_checks():
    document = {"verdict": "INCOMPLETE", "reasons": ["R4.3 unverified"], "crm_url": "https://crm", "run_id": "r1",
                "change_ticket": "CHG-1", "waivers": [{"state": "expired"}],
                "attestations": [{"state": "applied"}, {"state": "applied"}],
                "checks": [{"status": "unverified"}, {"status": "passed"}]}
    properties = dict(outputs.junit_properties(document))
    assert (properties["readiness_verdict"], properties["readiness_reasons"]) == ("INCOMPLETE", "R4.3 unverified")
    assert (properties["readiness_change_ticket"], properties["readiness_waivers_expired"]) == ("CHG-1", 1)
    assert (properties["readiness_attestations_applied"], properties["readiness_unverified"]) == (2, 1)


def test_the_allure_run_files_name_the_verdict_and_hold_no_secret(tmp_path):
    state = state_with(Finding.of(R14, "passed", "signed in"))
    judged = controller.judge(state)
    document = controller.verdict_document(state, controller.decide_verdict(state, judged.findings, 0), judged)
    outputs.allure_run_files(tmp_path, document, state.settings, "sheet", state.redactor, FEATURES.parent)
    executor = json.loads((tmp_path / "executor.json").read_text(encoding="utf-8"))
    assert executor["reportName"] == "Riva readiness: PARTIAL for https://crm.example.com/1crm"
    environment = (tmp_path / "environment.properties").read_text(encoding="latin-1")
    assert "Verdict=PARTIAL" in environment and "Unit-Pass-1" not in environment
    assert json.loads((tmp_path / "categories.json").read_text(encoding="utf-8"))
    [verdict] = [json.loads(p.read_text(encoding="utf-8")) for p in tmp_path.glob("*-result.json")]
    assert (verdict["name"], verdict["status"]) == (executor["reportName"], "skipped")  # PARTIAL: no verdict


# -- what a scenario shows (JUnit, Allure) ----------------------------------------------------------------


def test_an_advisory_finding_is_never_a_failed_test_case_but_a_blocking_one_is():
    check = CheckRecorder(REQUIREMENTS["R1.2"], Redactor())
    with pytest.raises(pytest.skip.Exception, match=r"^ADVISORY: R1\.2 the certificate expires in 9 days$"):
        check.expect(Outcome.fail("the certificate expires in 9 days", advisory=True))
    assert check.deferred  # the controller still makes the failed (advisory) finding from the outcome
    with pytest.raises(CheckFailed, match=r"^R1\.2 not trusted; the certificate expires in 9 days$"):
        CheckRecorder(REQUIREMENTS["R1.2"], Redactor()).expect_all([
            Outcome.fail("not trusted"), Outcome.fail("the certificate expires in 9 days", advisory=True)])


def test_the_previous_runs_outputs_are_set_aside_and_nothing_else_is_touched(tmp_path):
    for name in ("readiness.json", "junit.xml", "notes.txt"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    (tmp_path / "screenshots").mkdir()
    (tmp_path / "previous-run").mkdir()
    (tmp_path / "previous-run" / "readiness.json").write_text("older", encoding="utf-8")
    outputs.set_aside(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"notes.txt", "previous-run"}  # the admin's own file stays
    assert {p.name for p in (tmp_path / "previous-run").iterdir()} == {"readiness.json", "junit.xml", "screenshots"}
    assert (tmp_path / "previous-run" / "readiness.json").read_text(encoding="utf-8") == "readiness.json"


def test_a_finding_is_rendered_as_its_message_and_only_a_suite_defect_as_a_traceback():
    item = SimpleNamespace(repr_failure=lambda excinfo, style=None: "a rendered traceback")
    findings.without_traceback(item)
    for error, shown in ((CheckFailed("R1.2 the certificate is not trusted"), "R1.2 the certificate is not trusted"),
                         (CrmError("cannot connect"), "cannot connect"), (KeyError("defect"), "a rendered traceback")):
        with pytest.raises(type(error)) as excinfo:
            raise error
        assert item.repr_failure(excinfo) == shown
