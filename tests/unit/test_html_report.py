"""The run-level Allure files and the HTML report command, without running the suite."""

import json
import re

import pytest

from readiness import __main__ as cli
from readiness import allure_files, html_report
from readiness.html_report import ReportUnavailable, generator, offline

DOCUMENT = {"verdict": "NO-GO", "reasons": ["R1.4 failed"], "crm_url": "https://crm.example.com/1crm", "version": "8.7.7",
            "edition": "Enterprise", "mode": "full", "change_ticket": "CHG-1", "suite_version": "0.1.0",
            "run_id": "20260101T000000Z-abc123", "generated_at": "2026-01-01T00:00:00Z",
            "waivers": [{"state": "applied"}, {"state": "expired"}]}


def test_the_report_name_leads_with_the_verdict():
    assert allure_files.report_name(DOCUMENT) == "Riva readiness: NO-GO for https://crm.example.com/1crm (CHG-1)"


def test_environment_properties_carry_the_run_and_escape_what_java_properties_need():
    values = allure_files.environment(DOCUMENT, connection_user="riva_svc", targets=2, waivers_file="waivers.yml")
    assert values["Verdict"] == "NO-GO" and values["Targets"] == "2"
    assert values["Waivers"] == "waivers.yml (1 applied, 1 expired, 0 unused)"
    text = allure_files.properties_text({"a key": "x=y: ü — \\ end\nnext"})
    assert text == "a\\ key=x=y: \\u00fc \\u2014 \\\\ end\\nnext\n"


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/crm",
          "GITHUB_RUN_ID": "99", "GITHUB_RUN_NUMBER": "7", "GITHUB_WORKFLOW": "readiness"},
         {"name": "GitHub Actions", "type": "github", "buildName": "readiness #7", "buildOrder": 7,
          "buildUrl": "https://github.com/acme/crm/actions/runs/99"}),
        ({"GITLAB_CI": "true", "CI_JOB_NAME": "gate", "CI_JOB_ID": "5", "CI_JOB_URL": "https://gitlab/j/5",
          "CI_PIPELINE_IID": "12"},
         {"name": "GitLab CI", "type": "gitlab", "buildName": "gate #5", "buildUrl": "https://gitlab/j/5", "buildOrder": 12}),
        ({"JENKINS_URL": "https://ci/", "BUILD_URL": "https://ci/job/r/3/", "BUILD_NUMBER": "3", "JOB_NAME": "r"},
         {"name": "Jenkins", "type": "jenkins", "buildName": "r #3", "buildUrl": "https://ci/job/r/3/", "buildOrder": 3}),
        ({"TF_BUILD": "True", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "crm",
          "BUILD_BUILDID": "41", "BUILD_BUILDNUMBER": "20260101.1"},
         {"name": "Azure DevOps", "type": "azure", "buildName": "20260101.1", "buildOrder": 41,
          "buildUrl": "https://dev.azure.com/acme/crm/_build/results?buildId=41"}),
        ({}, {"name": "local run", "type": "local", "buildName": "run R"}),
    ],
)
def test_executor_comes_from_the_ci_systems_own_variables(environ, expected):
    assert allure_files.executor(environ, "NAME", "R") == {**expected, "reportName": "NAME"}


def test_categories_come_from_the_report_config_and_match_in_java_and_javascript():
    categories = allure_files.categories(html_report.PROJECT_ROOT)
    assert {c["name"]: c["matchedStatuses"] for c in categories} == {
        "CRM not ready": ["failed"], "Suite or network error": ["broken"], "Waived": ["skipped"],
        "Unverified": ["skipped"], "Attested": ["skipped"], "Advisory": ["skipped"], "Not checked": ["skipped"]}
    assert all("(?" not in c.get("messageRegex", "(?!").replace("(?!", "") for c in categories)  # no inline flags in JS
    skipped = [c for c in categories if "messageRegex" in c]
    for message, name in [("WAIVED: R1.4 CAPTCHA", "Waived"), ("UNVERIFIED: R4.3 roles\nnot readable", "Unverified"),
                          ("Skipped: ATTESTED: R4.3 checked by hand", "Attested"),
                          ("ADVISORY: R1.2 the certificate expires in 9 days", "Advisory"),
                          ("does not apply: a hosted service (UNVERIFIED: never at the start)", "Not checked")]:
        assert [c["name"] for c in skipped if re.fullmatch(c["messageRegex"], message)] == [name], message


def test_the_report_config_asks_for_one_self_contained_file():
    config = json.loads((html_report.PROJECT_ROOT / "allurerc.json").read_text(encoding="utf-8"))
    assert config["plugins"]["awesome"]["options"]["singleFile"] is True


def test_analytics_and_other_internet_scripts_are_removed():
    html = ('<head><script>window.x = 1</script></head><body><script async src="https://www.googletagmanager.com/'
            'gtag/js?id=G"></script>\n<script>\n window.dataLayer = []; function gtag(){}\n gtag("js", new Date());'
            '</script><script src="data:text/javascript;base64,AA=="></script></body>')
    assert offline(html) == ('<head><script>window.x = 1</script></head><body>\n'
                             '<script src="data:text/javascript;base64,AA=="></script></body>')


def test_without_node_modules_the_generator_says_to_run_npm_ci(tmp_path):
    with pytest.raises(ReportUnavailable, match=r"the report generator is not installed — run npm ci"):
        generator(tmp_path)


def test_the_demo_says_in_one_line_that_no_html_report_was_made_and_still_succeeds(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(html_report.shutil, "which", lambda name: None)
    assert cli.make_report(tmp_path, missing_tools_ok=True) == 0
    assert capsys.readouterr().out == "riva-readiness: no HTML report: Node.js is not installed (https://nodejs.org), then run npm ci\n"
    assert cli.make_report(tmp_path) == 3  # asked for explicitly, a missing report is an error


def test_the_report_command_needs_a_run_first(tmp_path, capsys):
    try:
        generator()
    except ReportUnavailable:
        pytest.skip("the report generator is not installed here")
    assert cli.main(["report", "--reports-dir", str(tmp_path)]) == 3
    assert "run the suite first" in capsys.readouterr().out
