"""A first real run as the README's staging path has it, against the simulator started as a staging CRM: its
settings in a .env, `python -m pytest` with nothing else, GO on the first try."""

import os
import subprocess
import sys

from suite_runner import PROJECT_ROOT, QUICK_LOAD, finish_suite, start_suite


def test_the_readmes_staging_path_against_the_simulator_is_go_on_the_first_try(tmp_path):
    settings = tmp_path / ".env"
    staging = subprocess.Popen(
        [sys.executable, "-m", "crm_simulator", "--preset", "healthy", "--port", "0", "--quiet", "--env-file",
         str(settings)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    try:
        for line in staging.stdout:
            if line.startswith("# Serving"):
                break
        assert settings.read_text(encoding="utf-8").count("\n") >= 10  # every setting a first run needs
        # as the README: `python -m pytest` with the .env (here in a folder of its own); only R2.2's probe is the
        # quick one, whose latency a busy test machine cannot fail (R2.2's limits are not this test's subject)
        run = finish_suite(start_suite(QUICK_LOAD, tmp_path / "reports", env_file=settings), tmp_path / "reports")
        assert (run.exit_code, run.report["verdict"]) == (0, "GO"), run.output[-3000:]
    finally:
        staging.terminate()
        staging.communicate(timeout=15)
    assert not settings.exists()  # removed with the simulator: its CA file and port are gone too
