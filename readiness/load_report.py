"""R2.2's evidence files: the summary table, every request, and a chart of latency over time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg  # no display needed, and no pyplot global state
from matplotlib.figure import Figure

from .load import (FIRST_SIGN_IN_FAILED, IDLE, LOADED, OK, RATIO_FLOOR_MS, SIGN_IN, LoadResult, judge,
                   samples_csv, summary_csv)
from .redaction import Redactor

_STYLE = {SIGN_IN: ("#9e9e9e", "sign-in"), IDLE: ("#1f77b4", "idle baseline"), LOADED: ("#2ca02c", "under load")}


@dataclass(frozen=True)
class LoadFiles:
    summary: Path
    requests: Path
    chart: Path


def write(result: LoadResult, folder: Path, redactor: Redactor | None = None) -> LoadFiles:
    """Writes load-probe-summary.csv, load-probe-requests.csv and load-probe.png to folder (the tables
    through the run's redactor, as every file the suite writes)."""
    redactor = redactor or Redactor()
    folder.mkdir(parents=True, exist_ok=True)
    files = LoadFiles(folder / "load-probe-summary.csv", folder / "load-probe-requests.csv", folder / "load-probe.png")
    redactor.write_text(files.summary, summary_csv(result))
    redactor.write_text(files.requests, samples_csv(result))
    draw(result, files.chart)
    return files


def draw(result: LoadResult, path: Path) -> Path:
    """The latency of every probe request over time, with both limits it is judged against, as PNG; the title
    says what R2.2 concluded."""
    figure = Figure(figsize=(9, 4.5), dpi=100)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.11)  # fixed margins: a layout engine is slow
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for phase, (colour, label) in _STYLE.items():
        points = [s for s in result.samples if s.phase == phase and s.outcome == OK]
        if points:
            axes.scatter([s.started_s for s in points], [s.latency_ms for s in points], s=9, color=colour,
                         label=f"{label} ({len(points)})", alpha=0.7, linewidths=0)
    failed = [s for s in result.samples if s.outcome != OK]
    if failed:
        axes.scatter([s.started_s for s in failed], [s.latency_ms for s in failed], s=28, marker="x",
                     color="#d62728", label=f"failed ({len(failed)})")
    limits, loaded, idle = result.limits, result.stats(LOADED), result.stats(IDLE)
    ratio_limit_ms = limits.p95_ratio * max(idle.p95, RATIO_FLOOR_MS)
    axes.axhline(limits.p95_ms, color="#d62728", linestyle="--", linewidth=1.2,
                 label=f"p95 limit {limits.p95_ms} ms (READINESS_LOAD_P95_MS)")
    if idle.requests:
        axes.axhline(ratio_limit_ms, color="#ff7f0e", linestyle="--", linewidth=1.2,
                     label=f"p95 limit {limits.p95_ratio:g}× idle = {ratio_limit_ms:.0f} ms (READINESS_LOAD_P95_RATIO)")
    if loaded.requests:
        axes.axhline(loaded.p95, color="#2ca02c", linestyle=":", linewidth=1.5, label=f"p95 under load {loaded.p95:.0f} ms")
    axes.set_yscale("log")  # idle milliseconds and loaded seconds on one readable scale
    lowest = min(limits.p95_ms, ratio_limit_ms) if idle.requests else limits.p95_ms
    bottom, top = axes.get_ylim()
    top = max(top, lowest * 2)
    axes.axhspan(lowest, top, color="#d62728", alpha=0.07, linewidth=0)  # over a limit: where p95 must not be
    axes.set_ylim(bottom, top)
    axes.set_xlabel("seconds since the probe started")
    axes.set_ylabel("latency (ms)")
    passed = judge(result).passed
    axes.set_title(f"{conclusion(result, passed)}\n{result.sessions} concurrent sessions, {loaded.requests} requests "
                   f"under load, {result.ended}", fontsize=10, loc="left",
                   color="#1b5e20" if passed else "#b71c1c")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, framealpha=0.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def conclusion(result: LoadResult, passed: bool) -> str:
    """The chart's headline, e.g. "R2.2 passed: p95 under load 180 ms (limit 2000 ms), 1.4× idle (limit 3×)"."""
    limits, loaded, idle = result.limits, result.stats(LOADED), result.stats(IDLE)
    word = "passed" if passed else "failed"
    if result.stopped_by == FIRST_SIGN_IN_FAILED:
        return f"R2.2 {word}: the load probe did not start, its first sign-in failed"
    ratio = (f", {loaded.p95 / max(idle.p95, RATIO_FLOOR_MS):.1f}× idle (limit {limits.p95_ratio:g}×)"
             if idle.requests else "")
    errors = result.stats(SIGN_IN, IDLE, LOADED).failed
    failures = f"; {errors} requests failed" if errors else ""
    return f"R2.2 {word}: p95 under load {loaded.p95:.0f} ms (limit {limits.p95_ms} ms){ratio}{failures}"
