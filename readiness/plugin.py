"""The pytest plugin of the readiness suite (loaded by the root conftest.py).

It stops the run on bad configuration before any request, turns every scenario's result into
findings (carried in report.user_properties, so pytest-xdist workers report them too), and
on the controller decides the one verdict: exit code, readiness.json, connection sheet, summary.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import allure
import pytest

from . import __version__
from .catalogue import REQUIREMENTS, STEPS, Requirement
from .config import Settings, load_settings
from .connection_info import ConnectionSheet
from .errors import ConfigError, ReadinessError
from .outcome import Outcome
from .redaction import Redactor
from .run import ReadinessRun, new_run_id
from .server_info import ServerInfo
from .verdict import ERROR, SKIPPED, Finding, configuration_error, decide, findings_from_outcomes, not_covered, report, summary_lines, write_json

_REQUIREMENT_TAG = re.compile(r"^R\d+\.\d+$")
_FINDINGS = "readiness.findings"
_FACTS = "readiness.facts"
STATE = pytest.StashKey["RunState"]()
RECORDER = pytest.StashKey["CheckRecorder"]()


class CheckFailed(AssertionError):
    """A requirement is not met; the message is the finding, not a traceback."""


class CheckRecorder:
    """What a scenario concluded; steps hand it Outcomes from the domain library."""

    def __init__(self, requirement: Requirement, redactor: Redactor):
        self.requirement = requirement
        self.redactor = redactor
        self.outcomes: list[Outcome] = []
        self.facts: dict[str, object] = {}

    def expect(self, outcome: Outcome) -> Outcome:
        return self.expect_all([outcome])[0]

    def expect_all(self, outcomes: list[Outcome]) -> list[Outcome]:
        self.outcomes.extend(outcomes)
        failed = [o for o in outcomes if not o.passed]
        if failed:
            advisory = "[advisory] " if all(o.advisory for o in failed) else ""
            raise CheckFailed(self.redactor.text(f"{self.requirement.id} {advisory}" + "; ".join(o.message for o in failed)))
        return outcomes

    def note(self, **facts) -> None:
        """Facts for the run's summary (version, edition, ...), carried to the controller."""
        self.facts.update(facts)


@dataclass
class RunState:
    reports_dir: Path
    features_dir: Path
    settings: Settings | None = None
    run_id: str = field(default_factory=new_run_id)
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    document: dict | None = None
    interrupted: str | None = None
    redactor: Redactor = field(default_factory=Redactor)


def requirement_of(item: pytest.Item) -> Requirement | None:
    for mark in item.iter_markers():
        if _REQUIREMENT_TAG.match(mark.name):
            return REQUIREMENTS[mark.name]
    return None


def implemented_requirements(features_dir: Path) -> set[str]:
    """Requirement tags in the feature files: what a complete run must evaluate."""
    tags = set()
    for feature in features_dir.glob("**/*.feature"):
        tags.update(re.findall(r"@(R\d+\.\d+)\b", feature.read_text(encoding="utf-8")))
    return tags


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


# -- configuration gate ----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reports-dir", default="reports", type=Path,
                     help="where readiness.json and the connection sheet go (relative to the project folder)")


def pytest_configure(config: pytest.Config) -> None:
    for rid, req in REQUIREMENTS.items():
        config.addinivalue_line("markers", f"{rid}: {req.title}")
    config.addinivalue_line("markers", "blocking: a failure stops the go-live (NO-GO)")
    config.addinivalue_line("markers", "advisory: reported, never changes the verdict")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # retries are expected; their chatter is not evidence
    if config.option.help or config.option.version or config.option.collectonly:
        return
    state = RunState(reports_dir=config.rootpath / config.getoption("reports_dir"), features_dir=config.rootpath / "features")
    if _is_worker(config):
        state.run_id = config.workerinput["readiness_run_id"]
    config.stash[STATE] = state
    try:
        state.settings = load_settings()
    except ConfigError as exc:
        if not _is_worker(config):
            write_json(state.reports_dir / "readiness.json", configuration_error(str(exc)))
        pytest.exit(f"riva-readiness: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    state.redactor.add(*state.settings.secrets)
    if not _is_worker(config):
        config.pluginmanager.register(VerdictKeeper(state), "readiness-verdict")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: every worker belongs to the controller's run (one run id for probe markers)."""
    node.workerinput["readiness_run_id"] = node.config.stash[STATE].run_id


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def readiness_run(pytestconfig):
    state = pytestconfig.stash[STATE]
    run = ReadinessRun(state.settings, state.run_id)
    yield run
    run.close()


@pytest.fixture(scope="session")
def settings(readiness_run) -> Settings:
    return readiness_run.settings


@pytest.fixture(scope="session")
def reports_dir(pytestconfig) -> Path:
    """Where evidence files go (charts, tables), beside readiness.json."""
    return pytestconfig.stash[STATE].reports_dir


@pytest.fixture
def check(request, readiness_run) -> CheckRecorder:
    requirement = requirement_of(request.node)
    if requirement is None:
        raise ReadinessError(f"{request.node.name} has no requirement tag (e.g. @R1.1)")
    recorder = CheckRecorder(requirement, readiness_run.redactor)
    request.node.stash[RECORDER] = recorder
    return recorder


@pytest.fixture(autouse=True)
def _http_evidence(readiness_run):
    """Attaches the redacted HTTP exchanges of each scenario to the report."""
    mark = len(readiness_run.log)
    yield
    exchanges = [e.as_dict() for e in readiness_run.log.since(mark)]
    if exchanges:
        allure.attach(json.dumps(exchanges, indent=2), name="HTTP exchanges (redacted)",
                      attachment_type=allure.attachment_type.JSON)


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    requirement = requirement_of(request.node)
    if requirement is None:
        return
    allure.dynamic.epic("Riva readiness")
    allure.dynamic.feature(f"Step {requirement.step}: {STEPS[requirement.step]}")
    allure.dynamic.story(f"{requirement.id} {requirement.title}")
    allure.dynamic.severity(allure.severity_level.BLOCKER if requirement.blocking else allure.severity_level.MINOR)
    state = request.config.stash[STATE]
    if state.settings and state.settings.change_ticket:
        allure.dynamic.link(state.settings.change_ticket, name=f"Change {state.settings.change_ticket}")


# -- from reports to findings -----------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    requirement = requirement_of(item)
    concluded = report.when == "call" or (report.when == "setup" and not report.passed)
    if requirement is None or not concluded:
        return report
    state = item.config.stash[STATE]
    recorder = item.stash.get(RECORDER, None)
    findings = _findings(requirement, report, call, recorder)
    if call.excinfo is not None and call.excinfo.errisinstance((ReadinessError, CheckFailed)):
        report.longrepr = state.redactor.text(str(call.excinfo.value))  # a finding, not a stack trace
    report.user_properties.append((_FINDINGS, [f.__dict__ for f in findings]))
    report.user_properties.append((_FACTS, dict(recorder.facts) if recorder else {}))
    return report



def _findings(requirement: Requirement, report, call, recorder: CheckRecorder | None) -> list[Finding]:
    outcomes = recorder.outcomes if recorder else []
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return [Finding.of(requirement, SKIPPED, reason.removeprefix("Skipped: "))]
    excinfo = call.excinfo
    if excinfo is None:
        if not outcomes:
            return [Finding.of(requirement, ERROR, "suite defect: the scenario concluded nothing")]
        return findings_from_outcomes(requirement, outcomes)
    if excinfo.errisinstance(CheckFailed):
        return findings_from_outcomes(requirement, outcomes)
    if excinfo.errisinstance(ReadinessError):
        return [Finding.of(requirement, ERROR, str(excinfo.value))]
    return [Finding.of(requirement, ERROR, f"suite error: {excinfo.typename}: {excinfo.value}")]


class VerdictKeeper:
    """Controller-side hooks: gathers every report's findings and decides the one verdict."""

    def __init__(self, state: RunState):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if _FINDINGS in properties:
            self.state.findings.extend(Finding(**f) for f in properties[_FINDINGS])
            self.state.facts.update(properties.get(_FACTS) or {})

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.state.interrupted = "interrupted"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        state = self.state
        settings = state.settings
        findings = [Finding(**{**f.__dict__, "message": state.redactor.text(f.message)}) for f in state.findings]
        implemented = implemented_requirements(state.features_dir)
        interrupted = state.interrupted or (
            f"the run did not complete (pytest exit status {int(exitstatus)})"
            if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR) else None)
        verdict = decide(findings, sorted(implemented - {f.id for f in findings}), interrupted)
        state.document = report(
            verdict, findings, crm_url=settings.crm.base, version=state.facts.get("version"),
            edition=state.facts.get("edition"), mode=settings.mode, run_id=state.run_id,
            change_ticket=settings.change_ticket, suite_version=__version__, not_covered=not_covered(implemented))
        write_json(state.reports_dir / "readiness.json", state.document)
        _write_connection_sheet(state, findings)
        session.exitstatus = verdict.exit_code

    def pytest_terminal_summary(self, terminalreporter) -> None:
        document = self.state.document
        if document is None:
            return
        go = document["verdict"] == "GO"
        terminalreporter.section("Riva readiness", sep="=", bold=True)
        for line in summary_lines(document):
            verdict_line = line.startswith("VERDICT")
            terminalreporter.write_line(line, bold=verdict_line, green=verdict_line and go, red=verdict_line and not go)
        reports = self.state.reports_dir
        terminalreporter.write_line(f"Evidence: {reports / 'readiness.json'}, {reports / 'connection-sheet.md'}")


def _write_connection_sheet(state: RunState, findings: list[Finding]) -> None:
    s = state.settings
    facts = state.facts
    server = ServerInfo(facts.get("version"), facts.get("edition"), bool(facts.get("hosted")),
                        facts.get("server_source", "not detected by this run"))
    targets = [(f.subject, f.status) for f in findings if f.id == "R4.2" and f.subject]
    if not targets:
        targets = [(t.email, "not checked by this run") for t in s.targets]
    sheet = ConnectionSheet(s.crm.base, s.username, server, proxy=s.proxy, targets=targets,
                            concurrency=facts.get("concurrency", "not measured by this run"))
    path = state.reports_dir / "connection-sheet.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state.redactor.text(sheet.render()), encoding="utf-8")
