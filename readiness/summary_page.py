"""reports/readiness-summary.html: the run on one page, for a change board that reads it in a minute.

Made at the end of every run from the readiness.json document and the run's evidence files (the target
table, the charts), with Jinja2 and autoescape on: user and role names from the CRM may hold markup.
One self-contained file: the charts are embedded as data: URIs, nothing is loaded from anywhere.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .catalogue import STEPS
from .redaction import Redactor

NAME = "readiness-summary.html"
FULL_REPORT = "readiness-report.html"  # python -m readiness report, beside this page
TARGETS_CSV = "target-users.csv"
CHARTS = (("load-probe.png", "R2.2 Latency under Riva's concurrency"),
          ("sizing-memory.png", "R2.3 Memory: the web server's workers against the host's RAM"))
COLLAPSE_AFTER = 3  # more passed per-target rows of one requirement than this are shown as one row

# Any verdict or status, known today or added later, gets a tone; an unknown word is shown in neutral grey.
TONES = {
    "GO": "good", "NO-GO": "bad", "INCOMPLETE": "warn", "PARTIAL": "warn",
    "passed": "good", "failed": "bad", "error": "bad", "unverified": "warn", "skipped": "muted",
    "waived": "info", "attested": "info",
    "applied": "info", "expired": "muted", "unused": "muted", "not run": "muted",
}
VERDICT_WORDS = {
    "GO": "Ready for Riva: every blocking requirement was verified.",
    "NO-GO": "Not ready for Riva: fix the reasons below and run again.",
    "INCOMPLETE": "Not decided: a blocking requirement could not be verified by this run; check it by hand and "
                  "attest it, or fix what kept it from being verified.",
    "PARTIAL": "No verdict: only some scenarios ran (-k or -m); run the whole suite for a verdict.",
}


# Keys a hand-made or older document may lack (a configuration error's has only verdict, reasons, checks).
_DEFAULTS = {key: None for key in ("crm_url", "version", "edition", "generated_at", "mode", "run_id", "change_ticket",
                                   "suite_version")} | {"reasons": [], "checks": [], "waivers": [], "not_covered": []}
_ORDER = {s: n for n, s in enumerate(("failed", "error", "unverified", "waived", "attested", "skipped", "passed"))}


def tone(word: object) -> str:
    return TONES.get(str(word), TONES.get(str(word).lower(), "neutral"))


_environment = Environment(loader=PackageLoader("readiness", "templates"), autoescape=select_autoescape(default=True),
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_environment.filters["tone"] = tone


def write(reports_dir: Path, document: dict, redactor: Redactor) -> Path:
    """The page for this run's document, from the evidence this run left in reports_dir."""
    since = _run_started(document)
    page = render(document, redactor, targets=read_targets(_fresh(reports_dir / TARGETS_CSV, since)),
                  charts=[(title, png) for name, title in CHARTS if (png := _fresh(reports_dir / name, since))])
    path = reports_dir / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def render(document: dict, redactor: Redactor | None = None, *, targets: list[dict] = (),
           charts: list[tuple[str, Path | bytes]] = ()) -> str:
    """The HTML; every text from the document and the evidence passes the run's redactor, then autoescape."""
    redactor = redactor or Redactor()
    document = redactor.mapping({**_DEFAULTS, **document})
    checks = document["checks"] or []
    statuses = [c["status"] for c in checks]
    counts = {s: statuses.count(s) for s in sorted(set(statuses), key=lambda s: (_ORDER.get(s, len(_ORDER)), s))}
    return _environment.get_template("summary.html.j2").render(
        doc=document, verdict=str(document.get("verdict") or "NO-GO"), verdict_words=VERDICT_WORDS,
        steps=_steps(checks), counts=counts, targets=redactor.mapping(list(targets)),
        charts=[(redactor.text(title), _data_uri(png)) for title, png in charts], full_report=FULL_REPORT,
        generated=_when(document["generated_at"]))


def read_targets(path: Path | None) -> list[dict]:
    """The per-target table's rows (target-users.csv), or none."""
    if path is None:
        return []
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _steps(checks: list[dict]) -> list[dict]:
    """The checks by step; many passed per-target rows of one requirement become one row."""
    steps = []
    for number, title in STEPS.items():
        mine = [c for c in checks if c.get("step") == number]
        if not mine:
            continue
        rows, seen = [], set()
        for check in mine:
            passed = [c for c in mine if c["id"] == check["id"] and c.get("subject") and c["status"] == "passed"]
            if check in passed and len(passed) > COLLAPSE_AFTER:
                if check["id"] not in seen:
                    seen.add(check["id"])
                    rows.append({**check, "subject": f"{len(passed)} targets",
                                 "message": "passed for each of them (see the per-target table)"})
                continue
            rows.append(check)
        steps.append({"number": number, "title": title, "rows": [_with_fix(row) for row in rows]})
    return steps


def _with_fix(check: dict) -> dict:
    """A failure's message says what was found, then ' — ' and the fix: shown apart."""
    message, fix = check.get("message") or "", None
    if check["status"] in ("failed", "error", "unverified") and " — " in message:
        message, fix = message.rsplit(" — ", 1)
    return {**check, "result": message, "fix": fix}


def _data_uri(png: Path | bytes) -> str:
    data = png.read_bytes() if isinstance(png, Path) else png
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _run_started(document: dict) -> datetime | None:
    """From the run id (20260101T000000Z-abc123): evidence files older than the run are an earlier run's."""
    try:
        return datetime.strptime(str(document.get("run_id", ""))[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _fresh(path: Path, since: datetime | None) -> Path | None:
    if not path.is_file():
        return None
    if since and datetime.fromtimestamp(path.stat().st_mtime, UTC) < since:
        return None
    return path


def _when(stamp: str | None) -> str:
    """2026-01-01T09:30:00Z as 2026-01-01 09:30 UTC."""
    return (stamp or "time unknown").replace("T", " ").removesuffix("Z")[:16] + (" UTC" if stamp else "")
