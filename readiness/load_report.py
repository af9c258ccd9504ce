"""R2.2's evidence files: the summary table, every request, and a chart of latency over time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg  # no display needed, and no pyplot global state
from matplotlib.figure import Figure

from .load import IDLE, LOADED, OK, SIGN_IN, LoadResult, samples_csv, summary_csv
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
    """The latency of every probe request over time, with the limit it is judged against, as PNG."""
    figure = Figure(figsize=(9, 4.5), dpi=100)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.11)  # fixed margins: a layout engine is slow
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
    loaded = result.stats(LOADED)
    axes.axhline(result.limits.p95_ms, color="#d62728", linestyle="--", linewidth=1,
                 label=f"p95 limit {result.limits.p95_ms} ms")
    if loaded.requests:
        axes.axhline(loaded.p95, color="#2ca02c", linestyle=":", linewidth=1, label=f"p95 under load {loaded.p95:.0f} ms")
    axes.set_yscale("log")  # idle milliseconds and loaded seconds on one readable scale
    axes.set_xlabel("seconds since the probe started")
    axes.set_ylabel("latency (ms)")
    axes.set_title(f"R2.2 latency over time: {result.sessions} concurrent sessions, {loaded.requests} requests "
                   f"under load, stopped by the {result.stopped_by}", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, framealpha=0.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
