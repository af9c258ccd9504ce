"""The fixtures the step definitions use: the run, its settings, the check recorder and the evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import allure
import pytest

from .. import rest_api
from ..config import Settings
from ..errors import ReadinessError
from ..run import ReadinessRun
from ..target_users import role_names, target_facts
from ..waivers import AttestationBook, WaiverBook
from .gate import SCREENSHOTS
from .recorder import CheckRecorder
from .state import STATE, requirement_of

RECORDER = pytest.StashKey[CheckRecorder]()


@pytest.fixture(scope="session")
def readiness_run(pytestconfig) -> ReadinessRun:
    run = pytestconfig.stash[STATE].run
    yield run
    raise_for_leftovers(run.close())


@pytest.fixture(autouse=True)
def _probe_cleanup(readiness_run):
    """Removes each scenario's leftover probe records as soon as it ends (G2)."""
    yield
    if "ledger" in readiness_run.__dict__:
        raise_for_leftovers(readiness_run.ledger.undo())


def raise_for_leftovers(problems: list[str]) -> None:
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


def without_rest_api(request, requirement) -> None:
    """On a server without the REST API, the checks that need it (R1.5 too) are unverified, each with its manual
    check; detected once per process. Runs inside the scenario (Allure records it)."""
    if requirement.id not in rest_api.NEEDS_API:
        return
    readiness_run = request.getfixturevalue("readiness_run")
    presence = readiness_run.rest_api
    recorder = request.getfixturevalue("check")
    recorder.note(rest_api=presence.fact())
    if presence.available:
        return
    recorder.expect_all(rest_api.manual_checks(requirement.id, readiness_run.settings, presence))
