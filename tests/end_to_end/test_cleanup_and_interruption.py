"""G2: probe records are always removed — after failures, on SIGTERM in the middle of the probes —
and the sweep removes leftovers of interrupted runs, touching nothing else."""

from __future__ import annotations

import subprocess
import sys

import pytest
from faker import Faker
from suite_runner import PROJECT_ROOT, demo_environment, start_suite, terminate_when

from crm_simulator import Simulator
from readiness.config import Credentials, Secret, load_settings
from readiness.markers import MARKER, Marker
from readiness.payloads import build_payload
from readiness.run import ReadinessRun, new_run_id

pytestmark = pytest.mark.slow


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGTERM, which Windows cannot deliver")
def test_sigterm_then_ctrl_c_in_the_middle_of_the_probes_leaves_no_probe_record(tmp_path):
    with Simulator("slow-writes") as simulator:
        process = start_suite(simulator.env(), tmp_path)
        # probes are under way; the impatient second interrupt arrives while the slow deletes of the cleanup run
        run, stopped_in = terminate_when(process, tmp_path, lambda: simulator.stats.count("POST", "/api.php/data/") >= 3,
                                         "the probes", ctrl_c_after=0.3)
        assert simulator.store.live_records(title_prefix=MARKER) == []
    assert stopped_in < 15
    assert run.exit_code == 2
    assert run.report["verdict"] == "NO-GO" and run.report["reasons"][0] == "interrupted"


def plant_leftovers(simulator) -> tuple[ReadinessRun, list[tuple[str, str]], list[tuple[str, str]]]:
    """Probe records as an interrupted run would leave them, and look-alikes the sweep must not touch."""
    run = ReadinessRun(load_settings({**simulator.env(), "READINESS_ENV_FILE": "none"}))
    alice = run.api_as(Credentials("alice.archer", Secret("Sim-Alice-Pass-1")))
    fake, old_run = Faker(), new_run_id()

    def probe_data(model):
        return build_payload(model, run.fields_meta(model, alice), Marker.new(model, old_run), fake, {}).data

    leftovers = [(m, alice.create(m, probe_data(m))) for m in ("Meeting", "Contact")]
    look_alikes = [
        ("Meeting", alice.create("Meeting", {**probe_data("Meeting"), "description": "real notes"})),
        ("Note", alice.create("Note", {"name": f"{MARKER} minutes of the Riva workshop"})),
    ]
    return run, leftovers, look_alikes


def test_sweep_removes_leftovers_and_nothing_else():
    from readiness.sweep import sweep

    with Simulator("healthy") as simulator:
        run, leftovers, look_alikes = plant_leftovers(simulator)
        report = sweep(run, dry_run=True)
        assert sorted((f.model, f.record_id) for f in report.found) == sorted(leftovers)
        assert len(simulator.store.live_records(title_prefix=MARKER)) == 4  # the dry run deleted nothing
        report = sweep(run, dry_run=False)
        assert report.problems == [] and report.notes == []  # every model advertises its title filter
        live = simulator.store.live_records(title_prefix=MARKER)
    assert sorted(live) == sorted(look_alikes)


def test_sweep_command_line():
    with Simulator("healthy") as simulator:
        run, leftovers, _ = plant_leftovers(simulator)
        env = demo_environment(simulator.env())
        command = [sys.executable, "-m", "readiness", "sweep"]
        dry = subprocess.run([*command, "--dry-run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
        real = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
        again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0 and dry.stdout.count("would remove") == 2, dry.stdout + dry.stderr
    assert real.returncode == 0 and real.stdout.count("removed Meeting") == 1
    # every sweep names the CRM it looked at and as whom, found something or not; never a secret
    crm = f"{run.settings.crm.base} as riva_svc"
    assert dry.stdout.startswith(f"Sweeping {crm} for probe records of interrupted runs (dry run: nothing is deleted)")
    assert real.stdout.startswith(f"Sweeping {crm} for probe records of interrupted runs\n")
    assert f"2 probe record(s) found on {crm}; 2 removed" in real.stdout
    assert again.returncode == 0 and f"0 probe record(s) found on {crm}; 0 removed" in again.stdout
    for secret in (env["CRM_PASSWORD"], env["CRM_CLIENT_SECRET"]):
        assert not any(secret in out.stdout + out.stderr for out in (dry, real, again))
