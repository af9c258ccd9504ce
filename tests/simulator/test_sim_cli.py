"""``python -m crm_simulator``: listing presets, and serving in the foreground until interrupted."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from crm_simulator import PRESETS

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, **kwargs):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "crm_simulator", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=60, **kwargs)


def test_list_presets():
    result = _run("--list-presets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(PRESETS)
    for name, preset in PRESETS.items():
        assert any(line.startswith(name + " ") and preset.description in line for line in lines)


def test_an_existing_env_file_is_never_replaced(tmp_path):
    settings = tmp_path / ".env"
    settings.write_text("CRM_URL=https://crm.example.com\n", encoding="utf-8")
    result = _run("--preset", "healthy", "--port", "0", "--env-file", str(settings))
    assert result.returncode == 2 and f"{settings} exists: remove it, or name another file" in result.stderr
    assert settings.read_text(encoding="utf-8") == "CRM_URL=https://crm.example.com\n"


def test_unknown_preset_is_a_usage_error():
    result = _run("--preset", "nope")
    assert result.returncode == 2 and "nope" in result.stderr


def test_misspelt_preset_is_a_usage_error_with_a_did_you_mean():
    result = _run("--preset", "role-disable-module", "--port", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m crm_simulator: error: argument --preset: unknown simulator preset 'role-disable-module' — did you "
        "mean 'role-disables-module'? (python -m crm_simulator --list-presets lists them)")


@pytest.mark.skipif(os.name == "nt", reason="sending Ctrl-C to a child process is POSIX-only here")
def test_serves_prints_env_and_stops_cleanly_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_simulator", "--preset", "healthy", "--port", "0", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("# Serving"):
                break
        env = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
        assert lines[0].startswith("# preset: healthy — ")
        assert set(env) == {"CRM_URL", "CRM_USERNAME", "CRM_PASSWORD", "CRM_CLIENT_ID", "CRM_CLIENT_SECRET",
                            "CRM_CA_BUNDLE", "RIVA_TARGETS_FILE", "PROBE_ALICE_ARCHER_PASSWORD",
                            "PROBE_BOB_BAKER_PASSWORD", "READINESS_SERVER_FACTS"}
        bundle = Path(env["CRM_CA_BUNDLE"])
        assert bundle.is_file()
        s = requests.Session()
        s.trust_env = False
        assert s.get(env["CRM_URL"] + "/api.php/version", verify=str(bundle), timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert "Traceback" not in err
        assert not bundle.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_list_faults_and_an_unknown_fault_is_a_usage_error():
    from crm_simulator.faults import KINDS

    listed = _run("--list-faults")
    assert listed.returncode == 0 and all(kind in listed.stdout for kind in KINDS)
    result = _run("--fault", "explode", "--port", "0")
    assert result.returncode == 2 and "unknown fault 'explode'" in result.stderr
