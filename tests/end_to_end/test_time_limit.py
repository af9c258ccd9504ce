"""READINESS_TIME_LIMIT bounds the whole run against a server that drips its replies (one byte every two
seconds), also when the run was started with SIGINT ignored, as background jobs are."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from hostile import dripping, hostile_server
from suite_runner import PROJECT_ROOT, demo_environment, finish_suite

pytestmark = pytest.mark.slow
LIMIT = 8
BOUND = LIMIT + 15  # start-up, clean-up and reports, on a busy machine; far below the minutes of a dripping run


def run_against_drip(tmp_path, **popen):
    with hostile_server(dripping(every=2)) as server:
        env = demo_environment({"CRM_URL": server.url, "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "Drip-Pass-1",
                                "READINESS_TIME_LIMIT": str(LIMIT), "READINESS_BROWSER": "off",
                                "READINESS_LOAD_SECONDS": "5"})
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", f"--reports-dir={tmp_path}",
                   f"--alluredir={tmp_path / 'allure-results'}"]
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, **popen)
        try:
            run = finish_suite(process, tmp_path, timeout=BOUND + 30)
        finally:
            process.kill()
        return run, time.monotonic() - started


def assert_stopped_by_the_limit(run, elapsed):
    assert run.exit_code == 2, run.output[-2000:]
    assert run.report["verdict"] == "NO-GO"
    assert run.report["reasons"][0] == f"time limit of {LIMIT} s exceeded (READINESS_TIME_LIMIT)", run.report
    assert elapsed < BOUND
    assert "suite error" not in run.output


def test_a_dripping_server_cannot_outlast_the_time_limit(tmp_path):
    assert_stopped_by_the_limit(*run_against_drip(tmp_path))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal dispositions")
def test_the_time_limit_holds_when_sigint_is_ignored_from_the_start(tmp_path):
    run, elapsed = run_against_drip(tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert_stopped_by_the_limit(run, elapsed)
