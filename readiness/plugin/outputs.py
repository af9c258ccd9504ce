"""One small writer per output of the verdict: readiness.json, the connection sheet, the target table,
JUnit's properties and the Allure run files. Each takes the findings and the report document, nothing of pytest."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import allure

from .. import allure_files
from ..config import Settings
from ..connection_info import ConnectionSheet
from ..redaction import Redactor
from ..report_redaction import RedactingFileLogger
from ..server_info import ServerInfo
from ..target_users import target_table
from ..verdict import (ATTESTED, ERROR, FAILED, PASSED, SKIPPED, UNVERIFIED, WAIVED, Finding, summary_lines,
                       write_json)

__all__ = ["write_json", "connection_sheet", "target_rows", "junit_properties", "allure_run_files", "set_aside"]

# Every file and folder a run (or `python -m readiness report`) leaves in the reports folder.
RUN_OUTPUTS = ("readiness.json", "junit.xml", "connection-sheet.md", "target-users.csv", "readiness-summary.html",
               "readiness-report.html", "allure-report", "load-probe.png", "load-probe-summary.csv",
               "load-probe-requests.csv", "sizing-memory.png", "screenshots", "allure-results")
PREVIOUS = "previous-run"


def set_aside(reports_dir: Path) -> None:
    """The previous run's outputs go to reports/previous-run (replacing an older one there), so that every
    output in the folder is of this run, even if it stops at the configuration gate."""
    found = [reports_dir / name for name in RUN_OUTPUTS if (reports_dir / name).exists()]
    if not found:
        return
    previous = reports_dir / PREVIOUS
    shutil.rmtree(previous, ignore_errors=True)
    previous.mkdir(parents=True)
    for path in found:
        path.replace(previous / path.name)


# The worst status first: a target's row shows the first of these any of its checks has.
_WORST_FIRST = (FAILED, ERROR, UNVERIFIED, WAIVED, ATTESTED, SKIPPED, PASSED)
TARGET_CHECKS = ("R4.2", "R4.3", "R4.4", "R4.5")


def connection_sheet(settings: Settings, facts: dict, findings: list[Finding], document: dict | None = None) -> str:
    """The sheet for Riva's wizard (connection-sheet.md), with the run's verdict and each target's worst status."""
    server = ServerInfo(facts.get("version"), facts.get("edition"), bool(facts.get("hosted")),
                        facts.get("server_source", "not detected by this run"))
    document = document or {}
    return ConnectionSheet.of(settings, server, target_statuses(findings),
                              facts.get("concurrency", "not measured by this run"), document.get("verdict"),
                              document.get("run_id")).render()


def target_statuses(findings: list[Finding]) -> list[tuple[str, str]]:
    """(mailbox, the worst status of its R4.2–R4.5 findings, naming the requirements that have it)."""
    by_target: dict[str, dict[str, list[str]]] = {}
    for f in findings:
        if f.id in TARGET_CHECKS and f.subject:
            by_target.setdefault(f.subject, {}).setdefault(f.status, []).append(f.id)
    rows = []
    for mailbox, statuses in by_target.items():
        worst = min(statuses, key=lambda s: _WORST_FIRST.index(s) if s in _WORST_FIRST else -1)
        rows.append((mailbox, worst if worst == PASSED else f"{worst} ({', '.join(sorted(set(statuses[worst])))})"))
    return rows


def target_rows(facts: dict, findings: list[Finding]) -> str | None:
    """target-users.csv: one row per mailbox with the status of each per-target check (None: no targets read)."""
    targets = facts.get("target_users")
    if not targets:
        return None
    return target_table(targets, {(f.id, f.subject): f.status for f in findings if f.subject})


def junit_properties(document: dict) -> list[tuple[str, object]]:
    """The testsuite properties of junit.xml: the verdict and its reasons, for a CI that reads only JUnit."""
    properties = [("readiness_verdict", document["verdict"]), ("readiness_reasons", "; ".join(document["reasons"])),
                  ("readiness_crm_url", document["crm_url"]), ("readiness_run_id", document["run_id"])]
    if document.get("change_ticket"):
        properties.append(("readiness_change_ticket", document["change_ticket"]))
    for state in ("applied", "expired", "unused"):
        properties.append((f"readiness_waivers_{state}", sum(w["state"] == state for w in document["waivers"])))
        properties.append((f"readiness_attestations_{state}", sum(a["state"] == state for a in document["attestations"])))
    properties.append(("readiness_unverified", sum(c["status"] == UNVERIFIED for c in document["checks"])))
    return properties


def allure_run_files(results: Path, document: dict, settings: Settings, sheet: str, redactor: Redactor,
                     rootpath: Path) -> None:
    """environment.properties, executor.json, categories.json, the verdict's result and the run's own attachments."""
    name = allure_files.report_name(document)
    allure_files.write(
        results,
        environment_values=redactor.mapping(allure_files.environment(
            document, connection_user=settings.username, targets=len(settings.targets),
            waivers_file=settings.waivers_file.name if settings.waivers_file else None,
            rest_api=document.get("rest_api"))),
        executor_info=allure_files.executor(os.environ, name, document["run_id"]),
        category_list=allure_files.categories(rootpath))
    RedactingFileLogger(results, redactor).report_result(allure_files.verdict_result(document))
    text = allure.attachment_type.TEXT
    allure.global_attach("\n".join([name, "", *summary_lines(document)]) + "\n", name="Verdict and waivers",
                         attachment_type=text)
    allure.global_attach(json.dumps(document, indent=2, ensure_ascii=False), name="readiness.json",
                         attachment_type=allure.attachment_type.JSON)
    allure.global_attach(sheet, name="Connection sheet", attachment_type=text)

