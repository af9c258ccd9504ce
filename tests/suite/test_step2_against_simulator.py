"""Every Step 2 check fails on the server state it exists to catch and passes on a healthy server,
judged from readiness.json of a suite run of just those checks, as CI gating a go-live would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
FACTS = Path(__file__).parents[1] / "data" / "server-facts"


def test_healthy_server_passes_step_2_and_the_sheet_shows_what_it_sustained(suite):
    run = suite("healthy", only="R2.1 or R2.2 or R2.3 or R5.3")
    assert set(run.statuses.values()) == {"passed"}, run.output
    assert run.check("R2.1")["message"].startswith("1CRM 8.7.7 Enterprise, on-premise (from GET /api.php/version)")
    assert run.check("R2.2")["status"] == "passed"
    assert re.search(r"sustained 6 concurrent sessions \(3 Riva threads x 2 headroom\), \d+ requests in",
                     run.check("R2.2")["message"])
    r23 = [c for c in run.report["checks"] if c["id"] == "R2.3"]  # judged on the facts the simulator hands out
    assert {(c["status"], c["blocking"]) for c in r23 if c["subject"] != "KeepAliveTimeout"} == {("passed", True)}
    assert "150 workers (MaxRequestWorkers) x 40 MB" in run.check("R2.3", "memory")["message"]
    sheet = (run.reports_dir / "connection-sheet.md").read_text(encoding="utf-8")
    assert re.search(r"\| Concurrency the server sustained \| 6 concurrent sessions, \d+ requests in [\d.]+ s, "
                     r"p95 \d+ ms \|", sheet)
    for evidence in ("load-probe.png", "load-probe-summary.csv", "load-probe-requests.csv"):
        assert (run.reports_dir / evidence).stat().st_size > 0


@pytest.mark.parametrize(
    "preset, message",
    [
        ("old-version", r"info@hand 5\.2\.1 Enterprise, on-premise, is older than info@hand 5\.3\.3"),
        ("unparseable-version", r"could not be determined \(GET /api\.php/version gave 'trunk-build', which is not "
                                r"a version number; the About page shows no version\)"),
    ],
)
def test_old_or_unreadable_versions_fail_r21(suite, preset, message):
    run = suite(preset, only="R2.1")
    assert (run.check("R2.1")["status"], run.check("R2.1")["blocking"]) == ("failed", True)
    assert re.search(message, run.check("R2.1")["message"]), run.check("R2.1")["message"]


def test_an_undersized_server_fails_r22_with_its_refusals(suite):
    run = suite("undersized", only="R2.2 or R5.3", READINESS_LOAD_SECONDS="2")
    finding = run.check("R2.2")
    assert (finding["status"], finding["blocking"]) == ("failed", True)
    assert re.search(r"\d+ of \d+ requests failed \(\d+ x HTTP 503\)", finding["message"]), finding["message"]
    assert run.simulator.capacity.refused > 0
    sheet = (run.reports_dir / "connection-sheet.md").read_text(encoding="utf-8")
    assert "| Concurrency the server sustained | not sustained (6 concurrent sessions" in sheet


def test_a_server_that_slows_down_under_load_fails_r22_on_latency(suite):
    run = suite("slow", only="R2.2", READINESS_LOAD_SECONDS="3", READINESS_LOAD_P95_MS="400", READINESS_LOAD_P95_RATIO="3")
    message = run.check("R2.2")["message"]
    assert run.check("R2.2")["status"] == "failed"
    assert re.search(r"p95 latency under load is \d+ ms, over 400 ms \(READINESS_LOAD_P95_MS\)", message), message
    assert re.search(r"p95 under load \d+ ms is [\d.]+x the idle p95 \d+ ms \(limit 3x", message), message
    assert "requests failed" not in message  # slow, but nothing refused


@pytest.mark.parametrize(
    "facts, status, failing_subjects",
    [
        ("fits.json", "passed", set()),
        ("does-not-fit.json", "failed", {"memory"}),
        ("prefork-server-limit-low.json", "failed", {"ServerLimit"}),
    ],
)
def test_server_facts_drive_r23_one_finding_per_rule(suite, facts, status, failing_subjects):
    run = suite("healthy", only="R2.3", READINESS_SERVER_FACTS=str(FACTS / facts))
    findings = {c["subject"]: c for c in run.report["checks"] if c["id"] == "R2.3"}
    assert set(findings) == {"memory", "worker ceiling", "ServerLimit", "KeepAliveTimeout", "opcode cache"}
    assert {s for s, c in findings.items() if c["status"] == "failed"} == failing_subjects
    assert all(findings[s]["blocking"] for s in failing_subjects)


def test_a_long_keep_alive_is_advisory(suite):
    run = suite("healthy", only="R2.3", READINESS_SERVER_FACTS=str(FACTS / "long-keep-alive.json"))
    finding = run.check("R2.3", "KeepAliveTimeout")
    assert (finding["status"], finding["blocking"]) == ("failed", False)


def test_a_malformed_facts_file_stops_the_run_before_any_request(suite, tmp_path):
    broken = tmp_path / "facts.json"
    broken.write_text('{"schema": "riva-readiness-server-facts/1", "ram_mb": 8192}', encoding="utf-8")
    run = suite("healthy", READINESS_SERVER_FACTS=str(broken))
    assert run.exit_code == 4 and run.simulator.stats.requests == []
    [line] = [line for line in run.output.splitlines() if "riva-readiness:" in line]
    assert "READINESS_SERVER_FACTS" in line and "missing swap_mb" in line and "tools/collect-server-facts.sh" in line
