"""The Allure results of a whole run, as a reviewer reads them: each requirement's result first, no Python objects,
no noise labels, a finding without class name or traceback, and the verdict a result of its own, red unless GO."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

NOISE = {"host", "thread", "framework", "language"}


def allure_results(run) -> dict[str, dict]:
    """name -> result; a requirement's by its ID (R4.3), the verdict's as "verdict"."""
    results = {}
    for path in (run.reports_dir / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        results["verdict" if result["fullName"] == "riva-readiness:verdict" else result["name"].split(" ")[0]] = result
    return results


def steps(result: dict):
    for step in result.get("steps", []):
        yield step
        yield from steps(step)


def test_a_no_go_runs_allure_pages_show_findings_not_python(suite):
    run = suite("role-denies-meeting-delete")
    assert run.report["verdict"] == "NO-GO", run.output
    results = allure_results(run)
    for rid, result in results.items():
        assert not [p for s in steps(result) for p in s.get("parameters", [])], rid  # no fixture by repr
        assert not NOISE & {label["name"] for label in result["labels"]}, rid
    r43 = results["R4.3"]
    assert r43["status"] == "failed"
    assert r43["statusDetails"] == {"message": "R4.3 " + "; ".join(
        c["message"] for c in run.report["checks"] if c["id"] == "R4.3")}  # no class name, no traceback
    [failed_step] = [s for s in steps(r43) if s["status"] == "failed"]
    assert failed_step["statusDetails"] == r43["statusDetails"]
    assert r43["description"].startswith("failed [alice.archer@example.com]: target user alice.archer cannot "
                                         "delete Meeting records: role 'Sales' denies delete")
    # a passed check's measured result first on its page
    assert results["R2.2"]["description"].splitlines()[0].startswith("passed: the server sustained 6 concurrent")
    assert results["R2.1"]["description"].startswith("passed: ") and "8.7.7" in results["R2.1"]["description"]
    verdict = results["verdict"]
    assert verdict["status"] == "failed" and verdict["name"].startswith("Riva readiness: NO-GO for https://")
    assert verdict["statusDetails"]["message"] == f"VERDICT: NO-GO - {'; '.join(run.report['reasons'])}"


def test_an_advisory_finding_leaves_a_go_run_green(suite):
    run = suite("connection-password-expiring")
    assert run.report["verdict"] == "GO", run.output
    results = allure_results(run)
    assert {r["status"] for r in results.values()} <= {"passed", "skipped"}
    assert results["verdict"]["status"] == "passed"
    r35 = results["R3.5"]
    assert r35["status"] == "skipped"
    assert r35["statusDetails"]["message"].startswith("ADVISORY: R3.5 the password of riva_svc")  # no "Skipped: "
    assert "trace" not in r35["statusDetails"]
    assert r35["description"].startswith("advisory: the password of riva_svc")
