"""Benchmark: the read-only suite against the simulator's `large` preset (5,000 users, 25 roles,
2,000 targets). Prints wall time, HTTP requests, requests per target user and peak memory.

    python bench/readonly_large.py [--runs 3]

The concurrency probe of Step 2 is left out (-m "not R2.2"): it sends a bounded load on purpose.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from suite_runner import run_suite  # noqa: E402

from crm_simulator import Simulator  # noqa: E402

try:
    import resource  # POSIX only: peak memory of the suite's process
except ImportError:  # Windows
    resource = None


def peak_child_memory_mb() -> float | None:
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB


def one_run() -> dict:
    with Simulator("large") as simulator:
        env = {**simulator.env(), "READINESS_MODE": "read-only"}
        targets = sum(1 for _ in open(env["RIVA_TARGETS_FILE"], encoding="utf-8")) - 1
        started = time.perf_counter()
        run = run_suite(env, Path(tempfile.mkdtemp(prefix="bench-")), "-m", "not R2.2")
        wall = time.perf_counter() - started
        requests = len(simulator.stats.requests)
    return {"wall_s": wall, "requests": requests, "targets": targets, "verdict": run.report.get("verdict")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [one_run() for _ in range(args.runs)]
    walls = [r["wall_s"] for r in results]
    first = results[0]
    memory = peak_child_memory_mb()
    print(f"read-only suite on 'large' ({first['targets']} targets), {args.runs} runs")
    print(f"  wall time      median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f})")
    print(f"  HTTP requests  {first['requests']} ({first['requests'] / first['targets']:.3f} per target user)")
    print(f"  peak memory    {memory:.0f} MiB (suite process)" if memory else "  peak memory    n/a on this OS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
