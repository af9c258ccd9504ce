"""Runs the readiness suite as a user would: a pytest subprocess, reports in a folder of its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from readiness.__main__ import PROJECT_ROOT, demo_environment  # noqa: F401 (re-exported for tests)


# R2.2's latency judgement must not flip a test that is not about it on a busy machine (errors still fail R2.2);
# a test of R2.2's limits sets its own.
RELAXED_LOAD_LIMITS = {"READINESS_LOAD_P95_MS": "60000", "READINESS_LOAD_P95_RATIO": "100"}


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



def start_suite(env: dict[str, str], reports_dir: Path, *pytest_args: str, env_file: Path | None = None) -> subprocess.Popen:
    """The suite in its own process, reports in reports_dir; the environment is exactly `env` (and no .env
    file unless `env_file` is given)."""
    command = [sys.executable, "-m", "pytest", "-q", f"--reports-dir={reports_dir}",
               f"--alluredir={reports_dir / 'allure-results'}", f"--junitxml={reports_dir / 'junit.xml'}", *pytest_args]
    environment = demo_environment(env)
    if env_file is not None:
        environment["READINESS_ENV_FILE"] = str(env_file)
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish_suite(process: subprocess.Popen, reports_dir: Path, timeout: float = 180) -> SuiteRun:
    output, _ = process.communicate(timeout=timeout)
    report_file = reports_dir / "readiness.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return SuiteRun(process.returncode, output, report, reports_dir)


def run_suite(env: dict[str, str], reports_dir: Path, *pytest_args: str, timeout: float = 180,
              env_file: Path | None = None) -> SuiteRun:
    return finish_suite(start_suite(env, reports_dir, *pytest_args, env_file=env_file), reports_dir, timeout)


def terminate_when(process: subprocess.Popen, reports_dir: Path, ready: Callable[[], bool], what: str,
                   timeout: float = 60) -> tuple[SuiteRun, float]:
    """SIGTERM once ready() holds (POSIX); returns the finished run and the seconds it took to stop."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    run = finish_suite(process, reports_dir, timeout=timeout)
    return run, time.monotonic() - started
