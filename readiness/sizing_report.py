"""R2.3's chart: the memory every worker needs against what the CRM host has for them."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg  # no display needed, and no pyplot global state
from matplotlib.figure import Figure

from .sizing import MemoryBudget

CHART = "sizing-memory.png"
_GOOD, _BAD, _WORKERS, _MARGIN, _RESERVE = "#2e7d32", "#c62828", "#1f77b4", "#9ecae1", "#bdbdbd"


def draw_memory(budget: MemoryBudget, path: Path) -> Path:
    """Two bars in MB: the workers at their average size plus the margin, and RAM minus the reserve."""
    figure = Figure(figsize=(9, 2.6), dpi=100)
    figure.subplots_adjust(left=0.2, right=0.97, top=0.72, bottom=0.2)  # fixed margins: a layout engine is slow
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    workers_mb = budget.workers * budget.worker_mb
    margin_mb = budget.needed_mb - workers_mb
    free = max(budget.free_mb, 0)
    axes.barh(1, workers_mb, color=_WORKERS, label=f"{budget.workers} workers x {budget.worker_mb:g} MB")
    axes.barh(1, margin_mb, left=workers_mb, color=_MARGIN, label=f"+ {budget.margin_percent}% margin")
    axes.barh(0, free, color=_GOOD if budget.fits else _BAD, alpha=0.85, label="RAM for the workers")
    axes.barh(0, budget.ram_mb - free, left=free, color=_RESERVE, label=f"reserve {budget.reserve_mb} MB")
    axes.axvline(free, color="#212121", linestyle="--", linewidth=1)
    axes.set_yticks([1, 0], [f"needed: {budget.needed_mb:,.0f} MB", f"RAM {budget.ram_mb:,} MB"])
    axes.set_xlabel("MB")
    axes.set_xlim(0, max(budget.needed_mb, budget.ram_mb) * 1.05)
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="lower right", fontsize=7, ncols=4, framealpha=0.9, bbox_to_anchor=(1, 1.0), borderaxespad=0.2)
    figure.suptitle(title(budget), x=0.01, y=0.97, ha="left", fontsize=10, color=_GOOD if budget.fits else _BAD)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def title(budget: MemoryBudget) -> str:
    """What the chart concluded, e.g. "R2.3 memory passed: 150 workers need 11,160 MB of 14,336 MB (RAM - reserve)"."""
    verdict, relation = ("passed", "of") if budget.fits else ("failed", "but have only")
    return (f"R2.3 memory {verdict}: {budget.workers} workers ({budget.setting}) need {budget.needed_mb:,.0f} MB "
            f"{relation} {budget.free_mb:,} MB (RAM - reserve)")
