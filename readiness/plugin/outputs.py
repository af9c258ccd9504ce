"""One small writer per output of the verdict: readiness.json, the connection sheet, the target table,
JUnit's properties and the Allure run files. Each takes the findings and the report document, nothing of pytest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import allure

from .. import allure_files
from ..config import Settings
from ..connection_info import ConnectionSheet
from ..redaction import Redactor
from ..server_info import ServerInfo
from ..target_users import target_table
from ..verdict import UNVERIFIED, Finding, summary_lines, write_json

__all__ = ["write_json", "connection_sheet", "target_rows", "junit_properties", "allure_run_files"]


def connection_sheet(settings: Settings, facts: dict, findings: list[Finding]) -> str:
    """The sheet for Riva's wizard (connection-sheet.md): each target with its R4.2 status."""
    server = ServerInfo(facts.get("version"), facts.get("edition"), bool(facts.get("hosted")),
                        facts.get("server_source", "not detected by this run"))
    targets = [(f.subject, f.status) for f in findings if f.id == "R4.2" and f.subject]
    return ConnectionSheet.of(settings, server, targets, facts.get("concurrency", "not measured by this run")).render()


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
    """environment.properties, executor.json, categories.json and the run's own attachments."""
    name = allure_files.report_name(document)
    allure_files.write(
        results,
        environment_values=redactor.mapping(allure_files.environment(
            document, connection_user=settings.username, targets=len(settings.targets),
            waivers_file=settings.waivers_file.name if settings.waivers_file else None,
            rest_api=document.get("rest_api"))),
        executor_info=allure_files.executor(os.environ, name, document["run_id"]),
        category_list=allure_files.categories(rootpath))
    text = allure.attachment_type.TEXT
    allure.global_attach("\n".join([name, "", *summary_lines(document)]) + "\n", name="Verdict and waivers", attachment_type=text)
    allure.global_attach(json.dumps(document, indent=2, ensure_ascii=False), name="readiness.json",
                         attachment_type=allure.attachment_type.JSON)
    allure.global_attach(sheet, name="Connection sheet", attachment_type=text)
