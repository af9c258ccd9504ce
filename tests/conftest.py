"""Runs the readiness suite as a user would (a pytest subprocess) against the built-in simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm_simulator import Simulator
from readiness.__main__ import PROJECT_ROOT, demo_environment


@dataclass
class SuiteRun:
    exit_code: int
    output: str
    report: dict
    reports_dir: Path

    def check(self, requirement: str, subject: str | None = None) -> dict:
        [found] = [c for c in self.report["checks"] if c["id"] == requirement and c["subject"] == subject]
        return found

    @property
    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.report["checks"]}

    def failed(self) -> set[str]:
        return {c["id"] for c in self.report["checks"] if c["status"] == "failed"}


def run_suite(env: dict[str, str], reports_dir: Path, *pytest_args: str, timeout: float = 180) -> SuiteRun:
    """The suite in its own process, reports in reports_dir; the environment is exactly `env`."""
    command = [sys.executable, "-m", "pytest", "-q", f"--reports-dir={reports_dir}",
               f"--alluredir={reports_dir / 'allure-results'}", f"--junitxml={reports_dir / 'junit.xml'}", *pytest_args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=demo_environment(env), capture_output=True, text=True,
                          timeout=timeout)
    report_file = reports_dir / "readiness.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, report, reports_dir)


@pytest.fixture
def suite(tmp_path):
    """suite(preset, *pytest_args, NAME=value, ...) runs the whole suite against a fresh simulator.

    An override may be a function of the simulator (for values built from its address), or None to unset.
    """

    def run(preset: str = "healthy", *pytest_args: str, simulator_options: dict | None = None, **overrides):
        with Simulator(preset, **(simulator_options or {})) as simulator:
            env = {"READINESS_LOAD_SECONDS": "1", **simulator.env()}  # a short concurrency probe keeps tests fast
            for name, value in overrides.items():
                value = value(simulator) if callable(value) else value
                env.pop(name, None) if value is None else env.__setitem__(name, value)
            result = run_suite(env, tmp_path / "reports", *pytest_args)
            result.simulator = simulator
            return result

    return run
