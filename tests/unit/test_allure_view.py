"""What a requirement's Allure page shows, on results built by hand: no fixtures as step parameters, no noise
labels, a finding's message without class or traceback, its one-line result first, and the verdict's own result."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from allure_commons import model2
from allure_commons.utils import format_exception, format_traceback

from readiness import allure_files
from readiness.allure_view import SHOWN_RESULTS, description, result_lines, tidy
from readiness.catalogue import REQUIREMENTS
from readiness.errors import CrmUnreachable
from readiness.plugin import labels
from readiness.plugin.recorder import CheckFailed
from readiness.plugin.state import RunState
from readiness.report_redaction import RedactingFileLogger
from readiness.redaction import Redactor
from readiness.verdict import Finding

R22, R42, R35 = REQUIREMENTS["R2.2"], REQUIREMENTS["R4.2"], REQUIREMENTS["R3.5"]


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - a traceback needs a raised exception
        return caught


def details_of(exc: BaseException) -> dict:
    """A step's statusDetails as allure-pytest-bdd writes them (allure_pytest_bdd.utils.get_status_details)."""
    return {"message": format_exception(type(exc), exc), "trace": format_traceback(exc.__traceback__)}


def result(*steps: dict, **fields) -> dict:
    return {"name": "R2.2 The server sustains Riva's concurrency", "status": "passed", "steps": list(steps),
            "labels": [{"name": "host", "value": "vm"}, {"name": "thread", "value": "1-MainThread"},
                       {"name": "framework", "value": "pytest-bdd"}, {"name": "language", "value": "cpython3"},
                       {"name": "story", "value": "R2.2 The server sustains Riva's concurrency"},
                       {"name": "tag", "value": "blocking"}], **fields}


def test_a_step_shows_only_the_plain_values_parsed_from_its_text_never_a_fixture():
    state = RunState(reports_dir=Path("r"), features_dir=Path("f"))
    request = SimpleNamespace(fixturenames=["request", "readiness_run", "settings", "check", "outcome"])
    labels.hide_fixtures(state, request, {"readiness_run": object(), "check": object(), "outcome": object(),
                                          "threads": 3, "mailbox": "alice@example.com", "limits": object()})
    assert state.hidden_step_parameters == {"readiness_run", "check", "outcome", "limits"}
    step = {"name": "When 3 threads read", "parameters": [
        {"name": "readiness_run", "value": "<readiness.run.ReadinessRun object at 0x7f>"},
        {"name": "outcome", "value": "Outcome(passed=True, message='p95 12 ms')"}, {"name": "threads", "value": "3"},
        {"name": "mailbox", "value": "'alice@example.com'"}]}
    only_fixtures = {"name": "Then it holds", "parameters": [{"name": "check", "value": "<CheckRecorder>"}]}
    tidied = labels.tidier(state)(result(step, only_fixtures))
    assert tidied["steps"][0]["parameters"] == [{"name": "threads", "value": "3"},
                                                {"name": "mailbox", "value": "'alice@example.com'"}]
    assert "parameters" not in tidied["steps"][1]


def test_no_host_thread_framework_or_language_label_is_written(tmp_path):
    writer = RedactingFileLogger(tmp_path, Redactor(), lambda r: tidy(r, set(), ()))
    written_labels = [model2.Label(label["name"], label["value"]) for label in result()["labels"]]
    writer.report_result(model2.TestResult(uuid="u", name="R2.2", labels=written_labels))
    [written] = tmp_path.glob("*-result.json")
    assert json.loads(written.read_text(encoding="utf-8"))["labels"] == [
        {"name": "story", "value": "R2.2 The server sustains Riva's concurrency"}, {"name": "tag", "value": "blocking"}]


def test_a_finding_is_its_message_alone_but_a_crash_keeps_its_class_and_traceback():
    failed = raised(CheckFailed("R1.1 the connection was refused"))
    unreachable = raised(CrmUnreachable("the CRM did not answer within 10 s", url="https://crm.example.com/1crm"))
    skipped = raised(pytest.skip.Exception("ADVISORY: R3.5 the password expires in 5 days"))
    crash = raised(KeyError("version"))
    step = lambda exc: {"name": "Then", "status": "failed", "statusDetails": details_of(exc)}  # noqa: E731
    scenario = {"message": "readiness.plugin.recorder.CheckFailed: R1.1 the connection was refused",
                "trace": "R1.1 the connection was refused"}  # excinfo.exconly() and the finding as longrepr
    tidied = tidy(result(step(failed), step(unreachable), step(skipped), step(crash), statusDetails=scenario), set(),
                  labels.QUIET_ERRORS)
    assert tidied["statusDetails"] == {"message": "R1.1 the connection was refused"}
    assert [s["statusDetails"] for s in tidied["steps"][:3]] == [
        {"message": "R1.1 the connection was refused"}, {"message": "the CRM did not answer within 10 s"},
        {"message": "ADVISORY: R3.5 the password expires in 5 days"}]
    kept = tidied["steps"][3]["statusDetails"]
    assert kept["message"].startswith("KeyError: 'version'") and "raise exc" in kept["trace"]


def test_a_scenarios_description_starts_with_its_one_line_results():
    passed = Finding.of(R22, "passed", "p95 212 ms under load, 3.1x idle")
    assert result_lines([passed]) == ["passed: p95 212 ms under load, 3.1x idle"]
    assert description(result_lines([passed]), "Riva's sync threads keep the CRM busy.").splitlines()[0] == \
        "passed: p95 212 ms under load, 3.1x idle"
    per_target = [Finding.of(R42, "passed", "matches anna", subject="anna@example.com"),
                  Finding.of(R42, "failed", "no CRM user", subject="bob@example.com")]
    assert result_lines(per_target) == ["failed [bob@example.com]: no CRM user",
                                        "passed [anna@example.com]: matches anna"]  # the worst first
    assert result_lines([Finding.of(R42, "failed", "no CRM user")], "WAIVED: R4.2 no CRM user - CHG-1") == \
        ["waived: no CRM user"]
    assert result_lines([Finding.of(R42, "unverified", "no status")], "ATTESTED: R4.2 [a] no status - by M.") == \
        ["attested: no status"]
    advisory = Finding.of(R35, "failed", "expires in 5 days", blocking=False)
    assert result_lines([advisory], "ADVISORY: R3.5 expires in 5 days") == ["advisory: expires in 5 days"]
    many = [Finding.of(R42, "passed", "ok", subject=f"u{n}@example.com") for n in range(SHOWN_RESULTS + 5)]
    assert result_lines(many)[-1] == "... and 5 more (readiness.json lists every one)"


@pytest.mark.parametrize("verdict, status", [("GO", "passed"), ("NO-GO", "failed"), ("INCOMPLETE", "broken"),
                                             ("PARTIAL", "skipped")])
def test_the_verdict_is_a_result_of_its_own_red_unless_go(tmp_path, verdict, status):
    reasons = [] if verdict == "GO" else ["cleanup: a probe record could not be removed"]
    document = {"verdict": verdict, "reasons": reasons, "crm_url": "https://crm.example.com/1crm", "mode": "full",
                "checks": [{"id": "R1.1", "step": 1, "status": "passed", "blocking": True, "message": "ok",
                            "subject": None}]}
    RedactingFileLogger(tmp_path, Redactor()).report_result(allure_files.verdict_result(document))
    [written] = map(json.loads, map(Path.read_bytes, tmp_path.glob("*-result.json")))
    assert (written["name"], written["status"]) == (f"Riva readiness: {verdict} for https://crm.example.com/1crm", status)
    assert written["statusDetails"]["message"] == f"VERDICT: {verdict}" + (f" - {reasons[0]}" if reasons else "")
    assert {"name": "feature", "value": "Verdict"} in written["labels"]
