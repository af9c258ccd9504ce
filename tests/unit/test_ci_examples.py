"""The CI examples (examples/ci/): each parses, has what its CI system requires, publishes the evidence, gates on
every exit code of the suite and takes secrets only from the CI system's secret store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
EVIDENCE = ("reports/junit.xml", "reports/readiness-summary.html", "reports/readiness-report.html")
SECRETS = ("CRM_PASSWORD", "CRM_CLIENT_SECRET", "PROBE_ALICE_PASSWORD")
# How each system hands over a secret: the only right side a secret variable may have.
FROM_STORE = {
    "github-actions.yml": r"\$\{\{ secrets\.\w+ \}\}",
    "gitlab-ci.yml": None,  # project CI/CD variables: never assigned in the file at all
    "azure-pipelines.yml": r"\$\(\w+\)",
    "Jenkinsfile": r"credentials\('[\w-]+'\)",
}


def load(name: str):
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def test_there_is_one_example_per_ci_system():
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted(FROM_STORE)


def test_github_actions_workflow():
    workflow = load("github-actions.yml")
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert workflow["name"] and on and "workflow_dispatch" in on
    [job] = workflow["jobs"].values()
    assert job["runs-on"] and job["steps"]
    assert all(("uses" in step) != ("run" in step) for step in job["steps"])  # each step does one thing
    suite = next(s for s in job["steps"] if s.get("run", "").find("python -m pytest") >= 0)
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()" and set(EVIDENCE) <= set(upload["with"]["path"].split())
    gate = job["steps"][-1]
    assert gate["if"] == "always()" and f"steps.{suite['id']}.outputs.code" in gate["run"]


def test_gitlab_ci_job():
    pipeline = load("gitlab-ci.yml")
    [job] = [value for key, value in pipeline.items() if isinstance(value, dict) and "script" in value]
    assert job["stage"] in pipeline["stages"] and job["tags"]
    assert any("python -m pytest" in line for line in job["script"]) and job["script"][-1] == "exit $code"
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert set(EVIDENCE) <= set(job["artifacts"]["paths"])


def test_azure_pipelines():
    pipeline = load("azure-pipelines.yml")
    assert pipeline["trigger"] == "none" and pipeline["pool"]
    [job] = pipeline["jobs"]
    steps = job["steps"]
    assert all(sum(key in step for key in ("task", "pwsh", "script", "bash", "checkout")) == 1 for step in steps)
    tasks = {step["task"]: step for step in steps if "task" in step}
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFiles"] == "reports/junit.xml"
    assert tasks["PublishTestResults@2"]["condition"] == "always()"
    assert tasks["PublishPipelineArtifact@1"]["inputs"]["targetPath"] == "reports"  # every evidence file
    [suite] = [step for step in steps if "python -m pytest" in step.get("pwsh", "")]
    assert all(suite["env"][name] == f"$({name})" for name in SECRETS)  # secret variables reach a script only so
    assert steps[-1]["condition"] == "always()" and "exit [int]$code" in steps[-1]["pwsh"]


def jenkins_blocks(text: str) -> dict:
    """The nesting of `name { … }` blocks, after comments and strings are blanked; fails on unbalanced braces."""
    # One pass, left to right: a // inside a string (an address) is no comment, a brace inside one no block.
    text = re.sub(r"('(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\")|//[^\n]*|/\*.*?\*/",
                  lambda m: "''" if m.group(1) else "", text, flags=re.S)
    root: dict = {}
    stack = [root]
    for match in re.finditer(r"(\w+)?\s*(\([^(){}]*(?:\([^(){}]*\)[^(){}]*)*\))?\s*\{|\}", text):
        if match.group(0) == "}":
            assert len(stack) > 1, f"unbalanced '}}' at {match.start()}"
            stack.pop()
        else:
            block: dict = {}
            stack[-1].setdefault(match.group(1) or "{", []).append(block)
            stack.append(block)
    assert len(stack) == 1, "unbalanced '{'"
    return root


def test_jenkinsfile_is_a_declarative_pipeline():
    text = (EXAMPLES / "Jenkinsfile").read_text(encoding="utf-8")
    blocks = jenkins_blocks(text)
    [pipeline] = blocks["pipeline"]
    assert set(blocks) == {"pipeline"}
    assert {"agent", "stages", "post", "environment"} <= set(pipeline)
    names = [m.group(1) for m in re.finditer(r"stage\('([^']+)'\)", text)]
    assert len(pipeline["stages"][0]["stage"]) == len(names) == 4
    assert all("steps" in stage for stage in pipeline["stages"][0]["stage"])
    assert "always" in pipeline["post"][0]
    assert "junit testResults: 'reports/junit.xml'" in text
    assert all(path in text for path in EVIDENCE[1:])
    assert re.search(r"bat\(script: 'python -m pytest', returnStatus: true\)", text)


def test_the_unbalanced_jenkinsfile_check_can_fail():
    with pytest.raises(AssertionError, match="unbalanced"):
        jenkins_blocks("pipeline { agent any stages { stage('x') { steps { echo '}' } } }")


@pytest.mark.parametrize("name", sorted(FROM_STORE))
def test_every_exit_code_is_gated_and_secrets_come_from_the_store(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for code, word in (("0", "GO"), ("1", "NO-GO"), ("101", "INCOMPLETE"), ("2", "interrupted"),
                       ("4", "bad configuration")):
        assert re.search(rf"{code}\s+{re.escape(word)}", text), f"the header documents {code} {word}"
        assert re.search(rf"['\"]?{code}['\"]?\s*[:)}}]?\s*[{{(]?\s*(?:echo|Write-Host|:)[^\n]*{re.escape(word)}|"
                         rf"'{code}'\s*:\s*'{re.escape(word)}", text), f"the gate tells {code} apart"
    assignments = re.findall(rf"^\s*({'|'.join(SECRETS)})\s*[:=]\s*(.+?)\s*$", text, flags=re.M)
    if FROM_STORE[name] is None:
        assert assignments == []
    else:
        assert {n for n, _ in assignments} == set(SECRETS)
        assert all(re.fullmatch(FROM_STORE[name], value) for _, value in assignments), assignments
