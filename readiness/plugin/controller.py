"""The controller's side of the run: gathers every report's findings, decides the one verdict, and hands
it to each output's writer."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .. import __version__, interrupts, summary_page
from ..target_users import role_names
from ..verdict import (GO, INCOMPLETE, PARTIAL, Finding, Verdict, decide, not_checked, not_covered, report,
                       summary_lines)
from ..waivers import AttestationBook, WaiverBook
from . import findings as carried_findings
from . import outputs
from .state import RunState, implemented_requirements


class VerdictKeeper:
    def __init__(self, state: RunState):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found, facts, cleanup_problem = carried_findings.carried(report)
        if cleanup_problem:
            self.state.cleanup_problems.append(cleanup_problem)
        self.state.findings.extend(found)
        self.state.facts.update(facts)

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, config):
        """A -m or -k expression pytest refuses (an unknown marker, a typo): said by the summary, which pytest
        would otherwise print its error after."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            self.state.selection_error = str(exc)
            raise

    @pytest.hookimpl(tryfirst=True)  # before pytest's own report of it, which a second Ctrl-C must not break
    def pytest_keyboard_interrupt(self, excinfo) -> None:
        interrupts.stop_in_order()
        self.state.interrupted = self.state.watchdog.reason or "interrupted"

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file: the verdict goes into it
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        state = self.state
        state.watchdog.cancel()  # the reports are written whatever the time
        judged = judge(state)
        verdict = decide_verdict(state, judged.findings, exitstatus)
        state.document = verdict_document(state, verdict, judged)
        write_outputs(state, judged.findings, session.config)
        # An interrupted run keeps pytest's own code (2); otherwise 0 GO, 1 NO-GO or PARTIAL, 101 INCOMPLETE.
        session.exitstatus = pytest.ExitCode.INTERRUPTED if state.interrupted else verdict.exit_code

    def pytest_terminal_summary(self, terminalreporter) -> None:
        document = self.state.document
        if document is None:
            return
        word = document["verdict"]
        terminalreporter.section("Riva readiness", sep="=", bold=True)
        for line in summary_lines(document):
            verdict_line = line.startswith("VERDICT")
            terminalreporter.write_line(line, bold=verdict_line, green=verdict_line and word == GO,
                                        yellow=verdict_line and word in (INCOMPLETE, PARTIAL),
                                        red=verdict_line and word not in (GO, INCOMPLETE, PARTIAL))
        reports = self.state.reports_dir
        terminalreporter.write_line(f"Evidence: {reports / summary_page.NAME}, {reports / 'readiness.json'}, "
                                    f"{reports / 'connection-sheet.md'}")


@dataclass(frozen=True)
class Judged:
    """The run's findings with the waivers and attestations of its day applied, and every entry's state."""
    findings: list[Finding]
    waivers: list[dict]
    attestations: list[dict]


def judge(state: RunState) -> Judged:
    settings, redactor = state.settings, state.redactor
    findings = not_checked([Finding(**{**f.__dict__, "message": redactor.text(f.message)}) for f in state.findings])
    findings, waivers = WaiverBook(settings.waivers, state.waiver_day).apply(findings)
    targets = state.facts.get("target_users") or {}
    findings, attestations = AttestationBook(settings.attestations, state.waiver_day,
                                             lambda subject: role_names(targets, subject)).apply(findings)
    return Judged(findings, waivers, attestations)


def decide_verdict(state: RunState, findings: list[Finding], exitstatus) -> Verdict:
    implemented = implemented_requirements(state.features_dir)
    interrupted = state.interrupted or (
        f"the run did not complete (pytest exit status {int(exitstatus)})"
        if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR) else None)
    return decide(findings, sorted(implemented - {f.id for f in findings}), interrupted,
                  [state.redactor.text(p) for p in state.cleanup_problems], selection_error=state.selection_error)


def verdict_document(state: RunState, verdict: Verdict, judged: Judged) -> dict:
    """readiness.json's document, redacted."""
    settings, facts = state.settings, state.facts
    document = report(
        verdict, judged.findings, crm_url=settings.crm.base, version=facts.get("version"), edition=facts.get("edition"),
        mode=settings.mode, run_id=state.run_id, change_ticket=settings.change_ticket, suite_version=__version__,
        not_covered=not_covered(implemented_requirements(state.features_dir)), waivers=judged.waivers,
        attestations=judged.attestations, rest_api=facts.get("rest_api"))
    return state.redactor.mapping(document)


def write_outputs(state: RunState, findings: list[Finding], config: pytest.Config) -> None:
    redactor, reports, document = state.redactor, state.reports_dir, state.document
    outputs.write_json(reports / "readiness.json", document)
    sheet = redactor.text(outputs.connection_sheet(state.settings, state.facts, findings, document))
    redactor.write_text(reports / "connection-sheet.md", sheet)
    rows = outputs.target_rows(state.facts, findings)
    if rows is not None:
        redactor.write_text(reports / "target-users.csv", rows, newline="")
    try:
        summary_page.write(reports, document, redactor)  # readiness-summary.html
    except Exception as exc:  # noqa: BLE001 - the page must never cost the verdict its other outputs
        sys.stderr.write(redactor.text(f"riva-readiness: the summary page could not be written ({exc})\n"))
    xml = _junit_xml(config)
    if xml is not None:
        for name, value in outputs.junit_properties(document):
            xml.add_global_property(name, value)
    results = config.getoption("allure_report_dir", None)
    if results:
        outputs.allure_run_files(Path(results), document, state.settings, sheet, redactor, config.rootpath)


def _junit_xml(config: pytest.Config):
    """pytest's junitxml writer, which writes its file after this hook (None without --junitxml)."""
    from _pytest.junitxml import xml_key  # pytest documents LogXML.add_global_property, not a public import

    return config.stash.get(xml_key, None)
