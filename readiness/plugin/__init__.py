"""The pytest plugin of the readiness suite (loaded by the root conftest.py), split by job as pytest's own
plugins are; each hook here only delegates:

- gate.py: the configuration gate, before any request
- fixtures.py: what the step definitions use (the run, its settings, the check recorder, the evidence)
- recorder.py: what a scenario concluded, as Outcomes of the domain library
- labels.py: what Allure shows of a scenario (labels, its result first, no noise)
- findings.py: from pytest's reports to findings (carried to the controller, also from xdist workers)
- controller.py and outputs.py: the one verdict, and one writer per output
"""

from __future__ import annotations

import pytest

from .. import root_causes
from . import findings, gate, labels
from .controller import VerdictKeeper
from .fixtures import (RECORDER, _http_evidence, _probe_cleanup, check, keep_screenshot, readiness_run, reports_dir,
                       settings, without_rest_api)
from .recorder import CheckFailed, CheckRecorder
from .state import STATE, requirement_of

# pytest finds a plugin's fixtures among its names; the recorder's are what a step may raise or be handed.
__all__ = ["readiness_run", "settings", "reports_dir", "check", "keep_screenshot", "_probe_cleanup", "_http_evidence",
           "CheckFailed", "CheckRecorder"]


def pytest_addoption(parser: pytest.Parser) -> None:
    gate.add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before allure-pytest-bdd's, which acts on --clean-alluredir
def pytest_configure(config: pytest.Config) -> None:
    state = gate.open_run(config)
    if state is not None and not gate.is_worker(config):
        config.pluginmanager.register(VerdictKeeper(state), "readiness-verdict")


def pytest_unconfigure(config: pytest.Config) -> None:
    gate.close_run(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    gate.share_with_worker(node)


def pytest_itemcollected(item: pytest.Item) -> None:
    findings.without_traceback(item)


def pytest_runtest_setup(item: pytest.Item) -> None:
    root_causes.begin()  # what this check meets is its own


@pytest.hookimpl(trylast=True)  # after allure-pytest-bdd's, which starts the scenario's Allure result
def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    requirement = requirement_of(request.node)
    if requirement is not None:
        labels.label(requirement, request.config.stash[STATE].settings)
        labels.remember_text(request.node, feature, scenario)
        without_rest_api(request, requirement)


def pytest_bdd_before_step_call(request, step_func_args) -> None:
    if STATE in request.config.stash:
        labels.hide_fixtures(request.config.stash[STATE], request, step_func_args)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    report = findings.attach(item, call, report, item.stash.get(RECORDER, None))
    labels.describe(item, report)
    return report
