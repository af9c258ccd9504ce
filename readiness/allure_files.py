"""The run-level files of the Allure results: environment, executor, categories and the verdict's own result
(written on the controller).

They are written at the end of the session, after allure-pytest-bdd's --clean-alluredir has run,
and they carry the verdict, so the Allure report states the same GO / NO-GO / INCOMPLETE as every other output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from allure_commons.model2 import Label, Status, StatusDetails, TestResult
from allure_commons.types import LabelType, Severity
from allure_commons.utils import md5, now, uuid4

from .verdict import GO, INCOMPLETE, NO_GO, PARTIAL, summary_lines

ALLURE_CONFIG = "allurerc.json"  # the report generator's config; its categories are the one list of them


def report_name(document: Mapping) -> str:
    """The title of the Allure report: the verdict first, so a reviewer sees it before anything else."""
    ticket = f" ({document['change_ticket']})" if document.get("change_ticket") else ""
    return f"Riva readiness: {document['verdict']} for {document['crm_url']}{ticket}"


# Every scenario may pass and the run still be NO-GO (interrupted, a probe record left behind, a requirement not
# run): the verdict is a result of its own, red unless GO. INCOMPLETE is not a finding against the CRM: broken.
VERDICT_STATUS = {GO: Status.PASSED, NO_GO: Status.FAILED, INCOMPLETE: Status.BROKEN, PARTIAL: Status.SKIPPED}
VERDICT_ID = "riva-readiness:verdict"


def verdict_result(document: Mapping) -> TestResult:
    """The verdict as an Allure test result: named by report_name, its reasons as the status message."""
    lines = summary_lines(document)
    start = now()
    return TestResult(
        uuid=uuid4(), name=report_name(document), fullName=VERDICT_ID, testCaseId=md5(VERDICT_ID),
        historyId=md5(VERDICT_ID), status=VERDICT_STATUS[document["verdict"]],
        statusDetails=StatusDetails(message=lines[-1]), start=start, stop=start,
        description="```\n" + "\n".join(lines) + "\n```",
        labels=[Label(LabelType.EPIC, "Riva readiness"), Label(LabelType.FEATURE, "Verdict"),
                Label(LabelType.SEVERITY, Severity.BLOCKER.value), Label(LabelType.TAG, "verdict")])


def environment(document: Mapping, *, connection_user: str | None, targets: int, waivers_file: str | None,
                rest_api: Mapping | None = None) -> dict:
    """The Overview's key/values (environment.properties)."""
    def tally(entries) -> str:
        return ", ".join(f"{sum(e['state'] == s for e in entries)} {s}" for s in ("applied", "expired", "unused"))

    waivers, attestations = document.get("waivers", []), document.get("attestations", [])
    unverified = sum(c["status"] == "unverified" for c in document.get("checks", []))
    return {
        "Verdict": document["verdict"],
        "Reasons": "; ".join(document["reasons"]) or "none",
        "CRM.address": document["crm_url"],
        "CRM.version": document.get("version") or "not detected",
        "CRM.edition": document.get("edition") or "not detected",
        "Connection.user": connection_user or "not configured",
        "Targets": str(targets),
        "Mode": document["mode"],
        "Change.ticket": document.get("change_ticket") or "none",
        "Waivers": f"{waivers_file} ({tally(waivers)})" if waivers_file else "none",
        "Attestations": f"{waivers_file} ({tally(attestations)})" if waivers_file else "none",
        "Unverified": str(unverified),
        "REST.API": ("available" if rest_api["available"] else f"none: {rest_api['detail']}") if rest_api else "not detected",
        "Suite.version": document.get("suite_version") or "",
        "Run.id": document.get("run_id") or "",
        "Generated.at": document["generated_at"],
    }


def properties_text(values: Mapping[str, str]) -> str:
    """Java .properties as Allure reads them: backslash escapes, \\uXXXX beyond Latin-1."""
    def escape(text: str, key: bool) -> str:
        out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        if key:
            for ch in " :=#!":
                out = out.replace(ch, "\\" + ch)
        return "".join(c if 32 <= ord(c) < 127 else f"\\u{ord(c):04x}" for c in out)

    return "".join(f"{escape(k, True)}={escape(str(v), False)}\n" for k, v in values.items())


def executor(environ: Mapping[str, str], name: str, run_id: str) -> dict:
    """Who ran the suite: the CI system and build from its own variables, else this machine."""
    e = environ.get
    if e("GITHUB_ACTIONS") == "true":
        server, repo, run = e("GITHUB_SERVER_URL", "https://github.com"), e("GITHUB_REPOSITORY"), e("GITHUB_RUN_ID")
        found = {"name": "GitHub Actions", "type": "github", "buildOrder": e("GITHUB_RUN_NUMBER"),
                 "buildName": f"{e('GITHUB_WORKFLOW', 'workflow')} #{e('GITHUB_RUN_NUMBER', '?')}",
                 "buildUrl": f"{server}/{repo}/actions/runs/{run}" if repo and run else None}
    elif e("GITLAB_CI") == "true":
        found = {"name": "GitLab CI", "type": "gitlab", "buildOrder": e("CI_PIPELINE_IID"),
                 "buildName": f"{e('CI_JOB_NAME', 'job')} #{e('CI_JOB_ID', '?')}", "buildUrl": e("CI_JOB_URL")}
    elif e("JENKINS_URL") or e("JENKINS_HOME"):
        found = {"name": "Jenkins", "type": "jenkins", "buildOrder": e("BUILD_NUMBER"),
                 "buildName": e("BUILD_DISPLAY_NAME") or f"{e('JOB_NAME', 'job')} #{e('BUILD_NUMBER', '?')}",
                 "buildUrl": e("BUILD_URL")}
    elif (e("TF_BUILD") or "").lower() == "true":
        collection, project, build = e("SYSTEM_COLLECTIONURI"), e("SYSTEM_TEAMPROJECT"), e("BUILD_BUILDID")
        found = {"name": "Azure DevOps", "type": "azure", "buildOrder": build,
                 "buildName": e("BUILD_BUILDNUMBER") or e("BUILD_DEFINITIONNAME"),
                 "buildUrl": f"{collection}{project}/_build/results?buildId={build}" if collection and project and build else None}
    else:
        found = {"name": "local run", "type": "local", "buildName": f"run {run_id}"}
    order = found.get("buildOrder")
    found["buildOrder"] = int(order) if order and str(order).isdigit() else None
    found["reportName"] = name
    return {k: v for k, v in found.items() if v is not None}


def categories(project_root: Path) -> list[dict]:
    """The categories of allurerc.json: what the Allure 2 reader and the Allure 3 config both use."""
    config = json.loads((project_root / ALLURE_CONFIG).read_text(encoding="utf-8"))
    return config["categories"]


def write(results_dir: Path, *, environment_values: Mapping[str, str], executor_info: dict, category_list: list[dict]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "environment.properties").write_text(properties_text(environment_values), encoding="latin-1")
    (results_dir / "executor.json").write_text(json.dumps(executor_info, indent=2), encoding="utf-8")
    (results_dir / "categories.json").write_text(json.dumps(category_list, indent=2), encoding="utf-8")
