"""What Allure shows of a scenario: the catalogue's step and requirement, its severity, the change ticket as
labels; its result first in its description; no fixtures as step parameters, no noise (readiness/allure_view.py)."""

from __future__ import annotations

from collections.abc import Callable

import allure
import pytest

from .. import allure_view
from ..catalogue import STEPS, Requirement
from ..config import Settings
from ..errors import ReadinessError
from . import findings
from .recorder import CheckFailed
from .state import RunState

# A finding, a known problem or a skip: its message is the whole story, without class name or traceback.
QUIET_ERRORS = (CheckFailed, ReadinessError, pytest.skip.Exception)
_SCENARIO_TEXT = pytest.StashKey[str]()
_PLAIN = (str, int, float, bool)


def label(requirement: Requirement, settings: Settings | None) -> None:
    allure.dynamic.epic("Riva readiness")
    allure.dynamic.feature(f"Step {requirement.step}: {STEPS[requirement.step]}")
    allure.dynamic.story(f"{requirement.id} {requirement.title}")
    allure.dynamic.severity(allure.severity_level.BLOCKER if requirement.blocking else allure.severity_level.MINOR)
    ticket = settings.change_ticket if settings else None
    if ticket:
        # Without READINESS_TICKET_URL, an "issue" link: --allure-link-pattern issue:… can still complete it.
        url = settings.ticket_url
        allure.dynamic.link(url or ticket, link_type="link" if url else "issue", name=f"Change {ticket}")


def remember_text(item: pytest.Item, feature, scenario) -> None:
    """The description allure-pytest-bdd gives the scenario (the feature's, then the scenario's), kept to follow
    the result lines: allure.dynamic.description replaces it."""
    item.stash[_SCENARIO_TEXT] = "\n\n".join(t.strip() for t in (feature.description, scenario.description)
                                             if t and t.strip())


def describe(item: pytest.Item, report: pytest.TestReport) -> None:
    """After the call: the description starts with the findings' one-line results."""
    if report.when != "call" or _SCENARIO_TEXT not in item.stash:  # no Allure result without the scenario's start
        return
    found, _, _ = findings.carried(report)
    if not found:
        return
    reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else None
    lines = allure_view.result_lines(found, reason.removeprefix("Skipped: ") if reason else None)
    allure.dynamic.description(allure_view.description(lines, item.stash[_SCENARIO_TEXT]))


def hide_fixtures(state: RunState, request: pytest.FixtureRequest, step_func_args: dict) -> None:
    """allure-pytest-bdd shows every argument of a step function; of those only a plain value parsed from the
    step's text is worth showing, never a fixture (the run, its settings, an Outcome)."""
    state.hidden_step_parameters.update(
        name for name, value in step_func_args.items()
        if name in request.fixturenames or not isinstance(value, _PLAIN))


def tidier(state: RunState) -> Callable[[dict], dict]:
    """What the Allure writer applies to each result before it is redacted and written."""
    return lambda result: allure_view.tidy(result, state.hidden_step_parameters, QUIET_ERRORS)
