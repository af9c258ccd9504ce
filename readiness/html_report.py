"""One HTML file for the change ticket: the Allure 3 report of a run, generated offline.

The generator is the npm package `allure` (Node, no Java), pinned in package.json and installed
with `npm ci` into node_modules/; nothing is downloaded when a report is made. Its config,
allurerc.json, asks the Awesome plugin for a single self-contained file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .allure_files import ALLURE_CONFIG, report_name
from .errors import ReadinessError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HTML_NAME = "readiness-report.html"
REPORT_FOLDER = "allure-report"
GENERATE_TIME_LIMIT = 300  # seconds; a healthy run takes one or two

# The Awesome template loads Google Analytics when the page opens; evidence for a change ticket
# must open offline and tell nobody that it was opened.
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)
_ANALYTICS = re.compile(r"<script>(?:(?!</script>).)*\bgtag\((?:(?!</script>).)*</script>", re.I | re.S)


class ReportUnavailable(ReadinessError):
    """The report generator cannot run here (no Node.js, or `npm ci` was not run)."""


@dataclass(frozen=True)
class HtmlReport:
    html: Path
    folder: Path
    name: str


def generator(project_root: Path = PROJECT_ROOT) -> list[str]:
    """The command that runs the pinned Allure 3 CLI, or ReportUnavailable saying what to install."""
    node = shutil.which("node")
    cli = project_root / "node_modules" / "allure" / "cli.js"
    if node is None:
        raise ReportUnavailable("no HTML report: Node.js is not installed (https://nodejs.org), then run npm ci")
    if not cli.is_file():
        raise ReportUnavailable("no HTML report: the report generator is not installed — run npm ci in "
                                f"{project_root}")
    return [node, str(cli)]


def generate(reports_dir: Path, results_dir: Path | None = None, project_root: Path = PROJECT_ROOT) -> HtmlReport:
    """Builds reports_dir/allure-report/ and the single file reports_dir/readiness-report.html."""
    command = generator(project_root)
    results_dir = results_dir or reports_dir / "allure-results"
    verdict_file = reports_dir / "readiness.json"
    if not verdict_file.is_file() or not results_dir.is_dir():
        raise ReportUnavailable(f"no HTML report: {verdict_file} or {results_dir} is missing — run the suite first")
    name = report_name(json.loads(verdict_file.read_text(encoding="utf-8")))
    folder = reports_dir / REPORT_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    done = subprocess.run(
        [*command, "generate", "--config", str(project_root / ALLURE_CONFIG), "--output", str(folder),
         "--report-name", name, str(results_dir)],
        cwd=project_root, capture_output=True, text=True, encoding="utf-8", errors="replace",
        timeout=GENERATE_TIME_LIMIT)
    index = folder / "index.html"
    if done.returncode != 0 or not index.is_file():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReadinessError(f"the report generator failed (exit {done.returncode}): {last[0]}")
    html = offline(index.read_text(encoding="utf-8"))
    index.write_text(html, encoding="utf-8")
    target = reports_dir / HTML_NAME
    target.write_text(html, encoding="utf-8")
    return HtmlReport(target, folder, name)


def offline(html: str) -> str:
    """The page without scripts from the internet (the template's analytics)."""
    return _ANALYTICS.sub("", _EXTERNAL_SCRIPT.sub("", html))
