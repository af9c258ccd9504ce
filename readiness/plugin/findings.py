"""From pytest's reports to findings: each scenario's findings ride in report.user_properties, so that
pytest-xdist workers hand them to the controller too."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from .. import root_causes
from ..catalogue import Requirement
from ..errors import ReadinessError
from ..verdict import ERROR, PASSED, SKIPPED, UNVERIFIED, UNVERIFIED_WORD, Finding, findings_from_outcomes
from .recorder import CheckFailed, CheckRecorder
from .state import STATE, requirement_of

FINDINGS = "readiness.findings"
FACTS = "readiness.facts"
CLEANUP = "readiness.cleanup"


def attach(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport,
           recorder: CheckRecorder | None) -> pytest.TestReport:
    """A scenario's report, with a finding (not a stack trace) as its text and its findings as properties."""
    requirement = requirement_of(item)
    if requirement is None:
        return report
    redactor = item.config.stash[STATE].redactor
    if call.excinfo is not None and call.excinfo.errisinstance((ReadinessError, CheckFailed)):
        report.longrepr = redactor.text(str(call.excinfo.value))
    if report.when == "teardown" and report.failed:
        report.user_properties.append((CLEANUP, str(report.longrepr)))
    if not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return report
    found = [with_causes(f) for f in of_report(requirement, report, call, recorder)]
    # Redacted here: under xdist only this worker's redactor knows the tokens this worker saw on the wire.
    report.user_properties.append((FINDINGS, redactor.mapping([f.__dict__ for f in found])))
    report.user_properties.append((FACTS, redactor.mapping(dict(recorder.facts)) if recorder else {}))
    return report


def without_traceback(item: pytest.Item) -> None:
    """A finding's text is its message (attach() sets it): pytest need not render a traceback first, which parses
    the source of every frame (0.2 s a failed check). A defect of the suite keeps its traceback."""
    render = item.repr_failure

    def repr_failure(excinfo, *args, **kwargs):
        if excinfo.errisinstance((ReadinessError, CheckFailed)):
            return str(excinfo.value)
        return render(excinfo, *args, **kwargs)

    item.repr_failure = repr_failure


def of_report(requirement: Requirement, report, call, recorder: CheckRecorder | None) -> list[Finding]:
    outcomes = recorder.outcomes if recorder else []
    if report.skipped and recorder and recorder.deferred:
        return findings_from_outcomes(requirement, outcomes)  # as found; the controller applies waivers, attestations
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(UNVERIFIED_WORD):
            return [Finding.of(requirement, UNVERIFIED, reason.removeprefix(UNVERIFIED_WORD).strip())]
        return [Finding.of(requirement, SKIPPED, reason)]
    excinfo = call.excinfo
    if excinfo is None:
        if not outcomes:
            return [Finding.of(requirement, ERROR, "suite defect: the scenario concluded nothing")]
        return findings_from_outcomes(requirement, outcomes)
    if excinfo.errisinstance(CheckFailed):
        return findings_from_outcomes(requirement, outcomes)
    if excinfo.errisinstance(ReadinessError):
        return [Finding.of(requirement, ERROR, with_url(excinfo.value))]
    return [Finding.of(requirement, ERROR, f"suite error: {excinfo.typename}: {excinfo.value}")]


def with_causes(finding: Finding) -> Finding:
    """What a finding that did not pass met (root_causes.py), for the controller to group by root cause."""
    if finding.status in (PASSED, SKIPPED):
        return finding
    return replace(finding, causes=root_causes.of_message(finding.message))


def with_url(error: ReadinessError) -> str:
    """A CRM error names the address that failed (without its query: page offsets are noise)."""
    message, url = str(error), getattr(error, "url", None)
    if not url:
        return message
    where = urlsplit(url)._replace(query="", fragment="").geturl()
    return message if where in message else f"{message} ({where})"


def carried(report: pytest.TestReport) -> tuple[list[Finding], dict, str | None]:
    """What a report carries to the controller: its findings, facts and any cleanup problem."""
    properties = dict(report.user_properties)
    found = [Finding(**{**f, "causes": tuple(f.get("causes", ()))}) for f in properties.get(FINDINGS, [])]
    return found, properties.get(FACTS) or {}, properties.get(CLEANUP)
