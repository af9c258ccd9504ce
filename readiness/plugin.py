"""The pytest plugin of the readiness suite (loaded by the root conftest.py).

It stops the run on bad configuration before any request, turns every scenario's result into
findings (carried in report.user_properties, so pytest-xdist workers report them too), and
on the controller decides the one verdict: exit code, readiness.json, connection sheet, summary.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import allure
import pytest

from . import __version__, allure_files, interrupts, rest_api, summary_page
from .catalogue import REQUIREMENTS, STEPS, Requirement
from .config import Settings, load_settings
from .connection_info import ConnectionSheet
from .errors import ConfigError, ReadinessError
from .outcome import Outcome
from .redaction import Redactor
from .report_redaction import ReportMasking
from .run import ReadinessRun, new_run_id, redactor_for
from .server_info import ServerInfo
from .target_users import role_names, target_facts, target_table
from .verdict import (ERROR, GO, INCOMPLETE, SKIPPED, UNVERIFIED, UNVERIFIED_WORD, Finding, configuration_error, decide,
                      findings_from_outcomes, not_covered, report, summary_lines, write_json)
from .waivers import AttestationBook, WaiverBook, attested_message, today_utc, waived_message

_REQUIREMENT_TAG = re.compile(r"^R\d+\.\d+$")
_FINDINGS = "readiness.findings"
_FACTS = "readiness.facts"
_CLEANUP = "readiness.cleanup"
SCREENSHOTS = "screenshots"  # the folder under the reports folder
STATE = pytest.StashKey["RunState"]()
RECORDER = pytest.StashKey["CheckRecorder"]()


class CheckFailed(AssertionError):
    """A requirement is not met; the message is the finding, not a traceback."""


class CheckRecorder:
    """What a scenario concluded; steps hand it Outcomes from the domain library.

    A scenario whose outcomes include one that could not be verified (and none that failed unwaived) is
    shown skipped with "UNVERIFIED: …" (or "ATTESTED: …" where an attestation covers it), a waived one with
    "WAIVED: …"; the controller decides each finding's status from the same outcomes."""

    def __init__(self, requirement: Requirement, redactor: Redactor, waivers: WaiverBook | None = None,
                 attestations: AttestationBook | None = None):
        self.requirement = requirement
        self.redactor = redactor
        self.waivers = waivers
        self.attestations = attestations
        self.outcomes: list[Outcome] = []
        self.facts: dict[str, object] = {}
        self.waived = False
        self.deferred = False  # skipped on its outcomes: the controller makes the findings from them

    def expect(self, outcome: Outcome) -> Outcome:
        return self.expect_all([outcome])[0]

    def expect_all(self, outcomes: list[Outcome]) -> list[Outcome]:
        self.outcomes.extend(outcomes)
        rid = self.requirement.id
        failed = [o for o in outcomes if not o.passed and o.verifiable]
        unverifiable = [o for o in outcomes if not o.verifiable]
        waived = [(o, self.waivers.active(rid, o.subject)) for o in failed] if failed and self.waivers else []
        if failed and not (waived and all(w for _, w in waived)):
            advisory = "[advisory] " if all(o.advisory for o in failed) else ""
            raise CheckFailed(self.redactor.text(f"{rid} {advisory}" + "; ".join(o.message for o in failed)))
        if unverifiable:
            self.deferred = True
            attested = [(o, self.attestations.active(rid, o.subject) if self.attestations else None) for o in unverifiable]
            if all(a for _, a in attested):
                allure.dynamic.tag("attested")
                pytest.skip(self.redactor.text(attested_message([(f"{rid} {_about(o)}", a) for o, a in attested])))
            allure.dynamic.tag("unverified")
            pytest.skip(self.redactor.text(f"{UNVERIFIED_WORD} {rid} " + "; ".join(_about(o) for o in unverifiable)))
        if failed:
            # Shown as skipped with the waiver's words (Allure, JUnit); the controller records `waived`.
            self.waived = self.deferred = True
            allure.dynamic.tag("waived")
            pytest.skip(self.redactor.text(waived_message([(f"{rid} {o.message}", waiver) for o, waiver in waived])))
        return outcomes

    def note(self, **facts) -> None:
        """Facts for the run's summary (version, edition, ...), carried to the controller."""
        self.facts.update(facts)


def _about(outcome: Outcome) -> str:
    return f"[{outcome.subject}] {outcome.message}" if outcome.subject else outcome.message


@dataclass
class RunState:
    reports_dir: Path
    features_dir: Path
    settings: Settings | None = None
    run_id: str = field(default_factory=new_run_id)
    waiver_day: date = field(default_factory=today_utc)  # the run's start (UTC) decides which waivers hold
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    document: dict | None = None
    interrupted: str | None = None
    watchdog: interrupts.Watchdog | None = None
    cleanup_problems: list[str] = field(default_factory=list)
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


@pytest.hookimpl(tryfirst=True)  # before allure-pytest-bdd's, which acts on --clean-alluredir
def pytest_configure(config: pytest.Config) -> None:
    for rid, req in REQUIREMENTS.items():
        config.addinivalue_line("markers", f"{rid}: {req.title}")
    config.addinivalue_line("markers", "blocking: a failure stops the go-live (NO-GO)")
    config.addinivalue_line("markers", "advisory: reported, never changes the verdict")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # retries are expected; their chatter is not evidence
    interrupts.install()  # SIGTERM ends the run like Ctrl-C: orderly, with the cleanup ledger
    if config.option.help or config.option.version or config.option.collectonly:
        return
    state = RunState(reports_dir=config.rootpath / config.getoption("reports_dir"), features_dir=config.rootpath / "features")
    if _is_worker(config):
        state.run_id = config.workerinput["readiness_run_id"]
        state.waiver_day = date.fromisoformat(config.workerinput["readiness_waiver_day"])
        config.option.clean_alluredir = False  # the controller cleaned it; a late worker must not wipe results
    else:
        shutil.rmtree(state.reports_dir / SCREENSHOTS, ignore_errors=True)  # never an older run's pictures
    config.stash[STATE] = state
    try:
        state.settings = load_settings()
    except ConfigError as exc:
        if not _is_worker(config):
            write_json(state.reports_dir / "readiness.json", configuration_error(str(exc)))
        pytest.exit(f"riva-readiness: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    state.redactor = redactor_for(state.settings)  # the one policy: the run, the reports and Allure share it
    config.pluginmanager.register(ReportMasking(state.redactor), "readiness-masking")
    state.watchdog = interrupts.Watchdog(state.settings.time_limit)
    if not _is_worker(config):
        config.pluginmanager.register(VerdictKeeper(state), "readiness-verdict")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.watchdog is not None:
        state.watchdog.cancel()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: every worker belongs to the controller's run (one run id for probe markers)."""
    state = node.config.stash[STATE]
    node.workerinput["readiness_run_id"] = state.run_id
    node.workerinput["readiness_waiver_day"] = state.waiver_day.isoformat()


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def readiness_run(pytestconfig):
    state = pytestconfig.stash[STATE]
    run = ReadinessRun(state.settings, state.run_id, state.redactor)
    yield run
    _raise_for_leftovers(run.close())


@pytest.fixture(autouse=True)
def _probe_cleanup(readiness_run):
    """Removes each scenario's leftover probe records as soon as it ends (G2)."""
    yield
    if "ledger" in readiness_run.__dict__:
        _raise_for_leftovers(readiness_run.ledger.undo())


def _raise_for_leftovers(problems: list[str]) -> None:
    if problems:
        raise ReadinessError(f"probe records could not be removed ({'; '.join(problems)}) — remove them with "
                             "python -m readiness sweep")


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
    state = request.config.stash[STATE]
    recorder = CheckRecorder(requirement, readiness_run.redactor, WaiverBook(state.settings.waivers, state.waiver_day),
                             AttestationBook(state.settings.attestations, state.waiver_day, _roles_in(readiness_run)))
    request.node.stash[RECORDER] = recorder
    return recorder


def _roles_in(run: ReadinessRun):
    """subject -> the role names of the target user it is (read once, only if an attestation names a subject)."""
    known: list[dict] = []

    def names(subject: str | None) -> list[str]:
        if not known:
            try:
                known.append(target_facts(run))
            except ReadinessError:
                known.append({})
        return role_names(known[0], subject)

    return names


def _without_rest_api(request, requirement: Requirement) -> None:
    """On a server without the REST API, R1.5 does not apply and the checks that need the API are unverified,
    each with its manual check; detected once per process. Runs inside the scenario (Allure records it)."""
    if requirement.id not in ("R1.5", *rest_api.NEEDS_API):
        return
    readiness_run = request.getfixturevalue("readiness_run")
    presence = readiness_run.rest_api
    recorder = request.getfixturevalue("check")
    recorder.note(rest_api=presence.fact())
    if presence.available:
        return
    if requirement.id == "R1.5":
        pytest.skip(rest_api.not_applicable(presence))
    recorder.expect_all(rest_api.manual_checks(requirement.id, readiness_run.settings, presence))


@pytest.fixture
def keep_screenshot(pytestconfig):
    """keep_screenshot(name, png): saved under reports/screenshots and attached to the Allure report."""
    folder = pytestconfig.stash[STATE].reports_dir / SCREENSHOTS

    def keep(name: str, png: bytes) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{re.sub(r'[^A-Za-z0-9.]+', '-', name).strip('-')}.png"
        path.write_bytes(png)
        allure.attach(png, name=name, attachment_type=allure.attachment_type.PNG)
        return path

    return keep


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
    ticket = state.settings.change_ticket if state.settings else None
    if ticket:
        # Without READINESS_TICKET_URL, an "issue" link: --allure-link-pattern issue:… can still complete it.
        url = state.settings.ticket_url
        allure.dynamic.link(url or ticket, link_type="link" if url else "issue", name=f"Change {ticket}")
    _without_rest_api(request, requirement)


# -- from reports to findings -----------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    requirement = requirement_of(item)
    if requirement is None:
        return report
    state = item.config.stash[STATE]
    if call.excinfo is not None and call.excinfo.errisinstance((ReadinessError, CheckFailed)):
        report.longrepr = state.redactor.text(str(call.excinfo.value))  # a finding, not a stack trace
    if report.when == "teardown" and report.failed:
        report.user_properties.append((_CLEANUP, str(report.longrepr)))
    if not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return report
    recorder = item.stash.get(RECORDER, None)
    findings = _findings(requirement, report, call, recorder)
    report.user_properties.append((_FINDINGS, [f.__dict__ for f in findings]))
    report.user_properties.append((_FACTS, dict(recorder.facts) if recorder else {}))
    return report



def _findings(requirement: Requirement, report, call, recorder: CheckRecorder | None) -> list[Finding]:
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
        return [Finding.of(requirement, ERROR, _with_url(excinfo.value))]
    return [Finding.of(requirement, ERROR, f"suite error: {excinfo.typename}: {excinfo.value}")]


def _with_url(error: ReadinessError) -> str:
    """A CRM error names the address that failed (without its query: page offsets are noise)."""
    message, url = str(error), getattr(error, "url", None)
    if not url:
        return message
    where = urlsplit(url)._replace(query="", fragment="").geturl()
    return message if where in message else f"{message} ({where})"


class VerdictKeeper:
    """Controller-side hooks: gathers every report's findings and decides the one verdict."""

    def __init__(self, state: RunState):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if _CLEANUP in properties:
            self.state.cleanup_problems.append(properties[_CLEANUP])
        if _FINDINGS in properties:
            self.state.findings.extend(Finding(**f) for f in properties[_FINDINGS])
            self.state.facts.update(properties.get(_FACTS) or {})

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.state.interrupted = self.state.watchdog.reason or "interrupted"

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file: the verdict goes into it
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        state = self.state
        state.watchdog.cancel()  # the reports are written whatever the time
        settings = state.settings
        findings = [Finding(**{**f.__dict__, "message": state.redactor.text(f.message)}) for f in state.findings]
        findings, waivers = WaiverBook(settings.waivers, state.waiver_day).apply(findings)
        targets = state.facts.get("target_users") or {}
        findings, attestations = AttestationBook(settings.attestations, state.waiver_day,
                                                 lambda subject: role_names(targets, subject)).apply(findings)
        implemented = implemented_requirements(state.features_dir)
        interrupted = state.interrupted or (
            f"the run did not complete (pytest exit status {int(exitstatus)})"
            if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR) else None)
        verdict = decide(findings, sorted(implemented - {f.id for f in findings}), interrupted,
                         [state.redactor.text(p) for p in state.cleanup_problems])
        state.document = state.redactor.mapping(report(
            verdict, findings, crm_url=settings.crm.base, version=state.facts.get("version"),
            edition=state.facts.get("edition"), mode=settings.mode, run_id=state.run_id,
            change_ticket=settings.change_ticket, suite_version=__version__, not_covered=not_covered(implemented),
            waivers=waivers, attestations=attestations, rest_api=state.facts.get("rest_api")))
        write_json(state.reports_dir / "readiness.json", state.document)
        sheet = _write_connection_sheet(state, findings)
        _write_target_table(state, findings)
        try:
            summary_page.write(state.reports_dir, state.document, state.redactor)  # readiness-summary.html
        except Exception as exc:  # noqa: BLE001 - the page must never cost the verdict its other outputs
            sys.stderr.write(state.redactor.text(f"riva-readiness: the summary page could not be written ({exc})\n"))
        _verdict_to_junit(session.config, state.document)
        _verdict_to_allure(session.config, state, sheet)
        # An interrupted run keeps pytest's own code (2); otherwise 0 GO, 1 NO-GO, 101 INCOMPLETE.
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
                                        yellow=verdict_line and word == INCOMPLETE,
                                        red=verdict_line and word not in (GO, INCOMPLETE))
        reports = self.state.reports_dir
        terminalreporter.write_line(f"Evidence: {reports / summary_page.NAME}, {reports / 'readiness.json'}, "
                                    f"{reports / 'connection-sheet.md'}")


def _write_target_table(state: RunState, findings: list[Finding]) -> None:
    """reports/target-users.csv: one row per mailbox with the verdict of each per-target check."""
    facts = state.facts.get("target_users")
    if facts:
        statuses = {(f.id, f.subject): f.status for f in findings if f.subject}
        state.redactor.write_text(state.reports_dir / "target-users.csv", target_table(facts, statuses), newline="")


def _verdict_to_junit(config: pytest.Config, document: dict) -> None:
    """Testsuite properties of junit.xml (written after this hook by pytest's junitxml plugin)."""
    from _pytest.junitxml import xml_key  # pytest documents LogXML.add_global_property, not a public import

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    xml.add_global_property("readiness_verdict", document["verdict"])
    xml.add_global_property("readiness_reasons", "; ".join(document["reasons"]))
    xml.add_global_property("readiness_crm_url", document["crm_url"])
    xml.add_global_property("readiness_run_id", document["run_id"])
    if document.get("change_ticket"):
        xml.add_global_property("readiness_change_ticket", document["change_ticket"])
    for state in ("applied", "expired", "unused"):
        xml.add_global_property(f"readiness_waivers_{state}", sum(w["state"] == state for w in document["waivers"]))
        xml.add_global_property(f"readiness_attestations_{state}",
                                sum(a["state"] == state for a in document["attestations"]))
    xml.add_global_property("readiness_unverified", sum(c["status"] == UNVERIFIED for c in document["checks"]))


def _verdict_to_allure(config: pytest.Config, state: RunState, sheet: str) -> None:
    """environment.properties, executor.json, categories.json and the run's own attachments."""
    results = config.getoption("allure_report_dir", None)
    if not results:
        return
    document, settings = state.document, state.settings
    name = allure_files.report_name(document)
    allure_files.write(
        Path(results),
        environment_values=state.redactor.mapping(allure_files.environment(
            document, connection_user=settings.username, targets=len(settings.targets),
            waivers_file=settings.waivers_file.name if settings.waivers_file else None,
            rest_api=document.get("rest_api"))),
        executor_info=allure_files.executor(os.environ, name, state.run_id),
        category_list=allure_files.categories(config.rootpath))
    text = allure.attachment_type.TEXT
    allure.global_attach("\n".join([name, "", *summary_lines(document)]) + "\n", name="Verdict and waivers", attachment_type=text)
    allure.global_attach(json.dumps(document, indent=2, ensure_ascii=False), name="readiness.json",
                         attachment_type=allure.attachment_type.JSON)
    allure.global_attach(sheet, name="Connection sheet", attachment_type=text)


def _write_connection_sheet(state: RunState, findings: list[Finding]) -> str:
    s = state.settings
    facts = state.facts
    server = ServerInfo(facts.get("version"), facts.get("edition"), bool(facts.get("hosted")),
                        facts.get("server_source", "not detected by this run"))
    targets = [(f.subject, f.status) for f in findings if f.id == "R4.2" and f.subject]
    if not targets:
        targets = [(t.email, "not checked by this run") for t in s.targets]
    sheet = ConnectionSheet(s.crm.base, s.username, server, proxy=s.proxy, targets=targets,
                            concurrency=facts.get("concurrency", "not measured by this run"))
    text = state.redactor.text(sheet.render())
    state.redactor.write_text(state.reports_dir / "connection-sheet.md", text)
    return text
