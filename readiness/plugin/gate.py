"""The configuration gate: the settings are read, and the run stops on a mistake, before any request."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import pytest

from .. import interrupts, root_causes
from ..catalogue import REQUIREMENTS
from ..config import load_settings
from ..errors import ConfigError
from ..report_redaction import ReportMasking
from ..run import ReadinessRun
from ..verdict import configuration_error, write_json
from . import labels, outputs
from .state import STATE, RunState

SCREENSHOTS = "screenshots"  # the folder under the reports folder


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def add_options(parser: pytest.Parser) -> None:
    parser.addoption("--reports-dir", default="reports", type=Path,
                     help="where readiness.json and the connection sheet go (relative to the project folder)")


def open_run(config: pytest.Config) -> RunState | None:
    """The run's state in config.stash, its settings read; None when pytest only helps, lists or shows its version."""
    for rid, req in REQUIREMENTS.items():
        config.addinivalue_line("markers", f"{rid}: {req.title}")
    config.addinivalue_line("markers", "blocking: a failure stops the go-live (NO-GO)")
    config.addinivalue_line("markers", "advisory: reported, never changes the verdict")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # retries are expected; their chatter is not evidence
    interrupts.install()  # SIGTERM ends the run like Ctrl-C: orderly, with the cleanup ledger
    root_causes.reset()  # what an earlier run in this process met is not this run's
    if config.option.collectonly:
        config.option.xmlpath = None  # a listing is no run: it must not replace the last run's junit.xml
        config.option.allure_report_dir = None
    if config.option.help or config.option.version or config.option.collectonly:
        return None
    state = RunState(reports_dir=config.rootpath / config.getoption("reports_dir"), features_dir=config.rootpath / "features")
    if is_worker(config):
        state.run_id = config.workerinput["readiness_run_id"]
        state.waiver_day = date.fromisoformat(config.workerinput["readiness_waiver_day"])
        config.option.clean_alluredir = False  # the controller cleaned it; a late worker must not wipe results
    else:
        outputs.set_aside(state.reports_dir)  # every output in the folder is this run's
    config.stash[STATE] = state
    try:
        settings = load_settings()
    except ConfigError as exc:
        if not is_worker(config):
            write_json(state.reports_dir / "readiness.json", configuration_error(str(exc)))
        pytest.exit(f"riva-readiness: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    state.run = ReadinessRun(settings, state.run_id)  # its redactor is the one policy: the run, the reports, Allure
    if not is_worker(config):
        for notice in settings.notices:
            sys.stderr.write(f"riva-readiness: warning: {notice}\n")
    config.pluginmanager.register(ReportMasking(state.redactor, labels.tidier(state)), "readiness-masking")
    state.watchdog = interrupts.Watchdog(settings.time_limit)
    return state


def close_run(config: pytest.Config) -> None:
    interrupts.run_ended()
    state = config.stash.get(STATE, None)
    if state is not None and state.watchdog is not None:
        state.watchdog.cancel()


def share_with_worker(node) -> None:
    """pytest-xdist: every worker belongs to the controller's run (one run id for probe markers)."""
    state = node.config.stash[STATE]
    node.workerinput["readiness_run_id"] = state.run_id
    node.workerinput["readiness_waiver_day"] = state.waiver_day.isoformat()
