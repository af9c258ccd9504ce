"""Scale: thousands of targets are judged with a small, constant number of requests, and a parallel
run (pytest-xdist) reaches the same verdict as a serial one."""

from __future__ import annotations

import math
from collections import Counter

import pytest

pytestmark = pytest.mark.slow
REQUEST_BUDGET = 150  # the read-only run on `large`, the concurrency probe aside


def test_read_only_run_on_a_large_crm_stays_within_the_request_budget(suite):
    run = suite("large", "-m", "not R2.2", READINESS_MODE="read-only")
    requests = run.simulator.stats.requests
    assert len(requests) <= REQUEST_BUDGET, Counter(path for _, path, _ in requests).most_common(5)
    assert sum(1 for _, path, _ in requests if path == "/api.php/data/User") == math.ceil(5000 / 200)  # once, paged
    assert sum(1 for _, path, _ in requests if path == "/api.php/data/ACLRole") == 1
    # 2,000 targets were judged, each one in memory
    assert len([c for c in run.report["checks"] if c["id"] == "R4.2"]) == 2000
    assert len([c for c in run.report["checks"] if c["id"] == "R4.2" and c["status"] == "failed"]) == 5


def test_parallel_run_gives_the_same_verdict_and_check_statuses(suite):
    serial, parallel = suite("role-denies-meeting-delete"), suite("role-denies-meeting-delete", "-n", "2")
    def statuses(run):
        return sorted((c["id"], c["subject"] or "", c["status"]) for c in run.report["checks"])
    assert parallel.report["verdict"] == serial.report["verdict"] == "NO-GO"
    assert statuses(parallel) == statuses(serial)
    assert parallel.simulator.store.live_records(title_prefix="riva-readiness-probe") == []
