"""Runs the readiness suite, reports in a folder of its own: in this process (pytest.main, as pytester runs
a plugin's tests), or as a user would, in a pytest subprocess (signals, time limits, xdist)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from readiness.__main__ import PROJECT_ROOT, demo_environment  # noqa: F401 (re-exported for tests)


# R2.2's latency judgement must not flip a test that is not about it on a busy machine (errors still fail R2.2);
# a test of R2.2's limits sets its own.
RELAXED_LOAD_LIMITS = {"READINESS_LOAD_P95_MS": "60000", "READINESS_LOAD_P95_RATIO": "100"}
# A short concurrency probe for a test not about R2.2: at most 60 requests (it is CPU-bound), which end it in well
# under a second on a machine that is not overloaded; its 3 s leave a busy one time for every session's first
# answers, so "too few requests to judge" cannot flip the test either.
QUICK_LOAD = {"READINESS_LOAD_SECONDS": "3", "READINESS_LOAD_MAX_REQUESTS": "60", **RELAXED_LOAD_LIMITS}


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
              env_file: Path | None = None, subprocess_run: bool = False) -> SuiteRun:
    """The whole suite against `env`; in this process unless `subprocess_run` or xdist (-n) is asked for.
    In this process, `timeout` is the run's READINESS_TIME_LIMIT unless `env` sets one."""
    if subprocess_run or "-n" in pytest_args:
        return finish_suite(start_suite(env, reports_dir, *pytest_args, env_file=env_file), reports_dir, timeout)
    return run_in_process(env, reports_dir, *pytest_args, env_file=env_file, timeout=timeout)


_STEPS = PROJECT_ROOT / "steps"
_SIGNALS = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None), getattr(signal, "SIGBREAK", None))
            if s is not None]


class _InlineRun:
    """As pytester's inline runs: pytest's unraisable-exception plugin skips its gc.collect() at the end of a run,
    which in a test process that has run many suites costs up to half a second a run."""

    @staticmethod
    def pytest_configure(config: pytest.Config) -> None:
        from _pytest.unraisableexception import gc_collect_iterations_key  # as pytester imports it

        config.stash[gc_collect_iterations_key] = 0


def run_in_process(env: dict[str, str], reports_dir: Path, *pytest_args: str, env_file: Path | None = None,
                   timeout: float = 180) -> SuiteRun:
    """The suite by pytest.main in this process, with exactly the environment a subprocess would get, from
    the project folder; afterwards this process's environment, folder, signal handlers and modules are as
    before (the suite's step modules are imported anew by the next run)."""
    environment = demo_environment(env)
    if env_file is not None:
        environment["READINESS_ENV_FILE"] = str(env_file)
    environment.setdefault("READINESS_TIME_LIMIT", f"{timeout:g}")  # a hung run ends as the run's own NO-GO
    args = ["-q", "-p", "no:xdist", "-p", "no:benchmark", f"--reports-dir={reports_dir}", f"--alluredir={reports_dir / 'allure-results'}",
            f"--junitxml={reports_dir / 'junit.xml'}", *pytest_args]
    saved_environment, saved_folder, saved_modules = dict(os.environ), Path.cwd(), set(sys.modules)
    saved_handlers = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    output = io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(PROJECT_ROOT)
        with redirect_stdout(output), redirect_stderr(output):
            exit_code = int(pytest.main(args, plugins=[_InlineRun()]))
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        os.chdir(saved_folder)
        for signum, handler in saved_handlers.items():
            signal.signal(signum, handler)
        for name in set(sys.modules) - saved_modules:
            source = Path(getattr(sys.modules[name], "__file__", None) or "/").resolve()
            if name == "conftest" or source.is_relative_to(_STEPS):
                del sys.modules[name]
    report_file = reports_dir / "readiness.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return SuiteRun(exit_code, output.getvalue(), report, reports_dir)


def terminate_when(process: subprocess.Popen, reports_dir: Path, ready: Callable[[], bool], what: str,
                   timeout: float = 60, ctrl_c_after: float | None = None) -> tuple[SuiteRun, float]:
    """SIGTERM once ready() holds (POSIX), and a Ctrl-C (SIGINT) `ctrl_c_after` seconds later if the run is still
    stopping; returns the finished run and the seconds it took to stop."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    if ctrl_c_after is not None:
        time.sleep(ctrl_c_after)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    run = finish_suite(process, reports_dir, timeout=timeout)
    return run, time.monotonic() - started
