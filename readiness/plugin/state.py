"""The pytest side of one readiness run: where its reports go, what the scenarios found, and its one
ReadinessRun (settings, run id, redactor, connections), which every fixture and writer shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from .. import interrupts
from ..catalogue import REQUIREMENTS, Requirement
from ..config import Settings
from ..redaction import Redactor
from ..run import ReadinessRun, new_run_id
from ..verdict import Finding
from ..waivers import today_utc

_REQUIREMENT_TAG = re.compile(r"^R\d+\.\d+$")


@dataclass
class RunState:
    reports_dir: Path
    features_dir: Path
    run_id: str = field(default_factory=new_run_id)
    waiver_day: date = field(default_factory=today_utc)  # the run's start (UTC) decides which waivers hold
    run: ReadinessRun | None = None  # once the settings are read
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    document: dict | None = None
    interrupted: str | None = None
    watchdog: interrupts.Watchdog | None = None
    cleanup_problems: list[str] = field(default_factory=list)
    selection_error: str | None = None  # pytest refused the -m / -k expression: nothing was selected
    hidden_step_parameters: set[str] = field(default_factory=set)  # step arguments no Allure step shows

    @property
    def settings(self) -> Settings | None:
        return self.run.settings if self.run else None

    @property
    def redactor(self) -> Redactor:
        """The run's one masking policy: it learns every token seen on the wire (before the settings, an empty one)."""
        return self.run.redactor if self.run else Redactor()


STATE = pytest.StashKey[RunState]()


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
