"""Every Step 1 and Step 5 check fails on the misconfiguration it exists to catch, and passes on a healthy server.

Each test runs the readiness suite against one simulator preset and reads readiness.json, as CI gating a go-live
would: the whole catalogue where the verdict is the subject, else only the scenarios the test is about.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crm_simulator import Simulator
from report_tools import basic_forms, leaked_secrets, make_html_report, report_generator_available, secret_forms

pytestmark = pytest.mark.slow
STEP_1_AND_5 = {"R1.1", "R1.2", "R1.3", "R1.4", "R1.5", "R1.6", "R5.1", "R5.2", "R5.3"}


def test_healthy_server_is_go_on_every_output(suite):
    run = suite("healthy")
    assert run.exit_code == 0, run.output
    assert run.report["verdict"] == "GO" and run.report["reasons"] == []
    assert set(run.statuses) >= STEP_1_AND_5 | {"R2.1", "R2.2", "R2.3"}
    assert {c["status"] for c in run.report["checks"]} == {"passed"}  # R2.3 too: the simulator hands out its facts
    assert run.report["rest_api"]["available"] is True
    assert (run.report["version"], run.report["edition"], run.report["mode"]) == ("8.7.7", "Enterprise", "full")
    assert "VERDICT: GO" in run.output
    sheet = (run.reports_dir / "connection-sheet.md").read_text(encoding="utf-8")
    assert "| Connection user name | riva_svc |" in sheet and "8.7.7 Enterprise (on-premise)" in sheet


def test_http_basic_sign_in_works_where_the_server_allows_it(suite):
    run = suite("basic-auth", only="R1.5 or R3.1 or R4.4")  # the connection user and a probe user sign in
    assert set(run.statuses.values()) == {"passed"}, run.output
    assert "HTTP Basic" in run.check("R1.5")["message"]


def test_unreachable_address_fails_r11(suite):
    with Simulator("healthy") as gone:
        env = {**gone.env(), "RIVA_TARGETS_FILE": None, "READINESS_SERVER_FACTS": None, "CRM_CA_BUNDLE": None}  # gone too
    started = time.monotonic()
    run = suite("healthy", only="R1.1 or R1.2 or R1.3 or R1.4", **env)  # the simulator has stopped: nothing listens
    assert time.monotonic() - started < 30  # every check gives up promptly
    assert run.simulator.stats.requests == []
    assert run.exit_code == 1
    assert run.check("R1.1")["status"] == "failed"
    assert "refused the connection" in run.check("R1.1")["message"]
    for later in ("R1.2", "R1.3", "R1.4"):  # one root cause, one finding: the later checks say why they did not run
        assert run.check(later)["status"] == "error" and run.check(later)["because_of"] == "R1.1"
        assert run.check(later)["message"] == "not checked: R1.1 failed first"
    assert all("suite error" not in c["message"] for c in run.report["checks"]), run.report["checks"]
    assert "Traceback" not in run.output
    # Allure tells them apart the same way: a failed check (CheckFailed, an AssertionError) from a broken one.
    allure = {r["name"][:4]: r for r in map(json.loads, map(Path.read_bytes, run.reports_dir.glob("allure-results/*-result.json")))}
    assert (allure["R1.1"]["status"], allure["R1.3"]["status"]) == ("failed", "broken")
    assert allure["R1.1"]["statusDetails"]["message"].startswith("R1.1 ")  # a finding, not an exception's class
    assert "trace" not in allure["R1.1"]["statusDetails"]


@pytest.mark.parametrize(
    "preset, message",
    [
        ("untrusted-cert", r"not trusted from this host: .*(unable to get local issuer|self.signed)"),
        ("wrong-host-cert", r"not trusted from this host: .*[Hh]ostname mismatch.*it is for crm\.example\.com"),
        ("expired-cert", r"not trusted from this host: .*certificate has expired"),
    ],
)
def test_untrustworthy_certificates_fail_r12_and_block(suite, preset, message):
    run = suite(preset, only="R1.2")
    finding = run.check("R1.2")
    assert (finding["status"], finding["blocking"]) == ("failed", True)
    assert re.search(message, finding["message"]), finding["message"]


def test_certificate_expiring_soon_is_an_advisory_finding(suite):
    run = suite("expiring-cert", only="R1.2")
    finding = run.check("R1.2")
    assert (finding["status"], finding["blocking"]) == ("failed", False)
    assert re.search(r"expires on \d{4}-\d\d-\d\d, in (9|10) days", finding["message"])
    # never a failed test case, so a CI that marks a build unstable on any failed test keeps a GO run stable
    suite_element = ET.parse(run.reports_dir / "junit.xml").getroot().find("testsuite")
    assert (suite_element.get("failures"), suite_element.get("errors")) == ("0", "0")
    [skipped] = [c.find("skipped") for c in suite_element.iter("testcase") if "r12" in c.get("name")]
    assert skipped.get("message").startswith("ADVISORY: R1.2 ")


def test_plain_http_is_an_advisory_finding(suite):
    run = suite("plain-http", only="R1.2")
    finding = run.check("R1.2")
    assert (finding["status"], finding["blocking"]) == ("failed", False)
    assert "clear text" in finding["message"]


@pytest.mark.parametrize(
    "preset, message",
    [
        ("no-login-page", r"no login page at https://localhost:\d+/1crm/login\.php \(HTTP 404\)"),
        ("not-1crm", r"is not the 1CRM sign-in form"),
    ],
)
def test_missing_sign_in_form_fails_r13(suite, preset, message):
    run = suite(preset, only="R1.3")
    assert run.check("R1.3")["status"] == "failed"
    assert re.search(message, run.check("R1.3")["message"])


@pytest.mark.parametrize(
    "preset, message",
    [
        ("human-check", r"asks for a human check \(CAPTCHA\) before riva_svc can sign in"),
        ("session-lost", r"riva_svc was signed in, but the home page did not open"),
    ],
)
def test_broken_web_sign_in_fails_r14(suite, preset, message):
    run = suite(preset, only="R1.4 or R1.5")
    assert run.check("R1.4")["status"] == "failed"
    assert re.search(message, run.check("R1.4")["message"]), run.check("R1.4")["message"]
    assert run.check("R1.5")["status"] == "passed"  # the API is a separate path


def test_wrong_password_fails_web_and_api_sign_in_with_the_servers_words(suite):
    run = suite("healthy", only="R1.4 or R1.5", CRM_PASSWORD="not-the-password")
    assert "the web login refused riva_svc: 'You must specify a valid username and password.'" in run.check("R1.4")["message"]
    assert "riva_svc cannot sign in to the REST API with OAuth2 password grant" in run.check("R1.5")["message"]


@pytest.mark.parametrize(
    "preset, message",
    [
        ("non-tls-refused", r"the server rejects non-TLS API calls"),
        ("basic-disabled", r"HTTP Basic sign-in is refused .*register an OAuth2 API client"),
    ],
)
def test_api_problems_fail_r15_with_their_own_message(suite, preset, message):
    run = suite(preset, only="R1.5")
    assert (run.check("R1.5")["status"], run.check("R1.5")["blocking"]) == ("failed", True)
    assert re.search(message, run.check("R1.5")["message"]), run.check("R1.5")["message"]


@pytest.mark.parametrize(
    "preset, why, version",
    [
        ("startup-edition", r"/version answers HTTP 403, as every API call of an edition without the REST API does",
         "8.7.7"),
        ("infoathand-7", r"no https://localhost:\d+/1crm/api\.php on this server \(GET /version: HTTP 404", "7.1.3"),
    ],
)
def test_a_server_without_the_rest_api_is_incomplete_with_every_web_check_decided(suite, preset, why, version):
    run = suite(preset, READINESS_LOAD_SECONDS="3")  # each web sign-in of the load probe takes three pages
    assert (run.exit_code, run.report["verdict"]) == (101, "INCOMPLETE"), run.output
    assert run.report["rest_api"]["available"] is False and re.search(why, run.report["rest_api"]["detail"])
    summary = run.output[run.output.index("Riva readiness ="):]
    assert summary.splitlines()[2].startswith("NO REST API: ")  # said once, at the top of the summary
    r15 = run.check("R1.5")
    assert (r15["status"], r15["blocking"]) == ("unverified", True)
    assert r15["message"].startswith("not verifiable: this server has no REST API: ") and "check by hand: in Riva's " \
        "connection wizard, the connection test with riva_svc succeeds" in r15["message"]
    for requirement in ("R1.1", "R1.2", "R1.3", "R1.4", "R1.6", "R2.1", "R2.2", "R2.3", "R4.1", "R5.1", "R5.2", "R5.3"):
        assert {c["status"] for c in run.report["checks"] if c["id"] == requirement} == {"passed"}, requirement
    assert run.report["version"] == version
    assert "refused by the web login" in run.check("R1.6")["message"]
    assert "on the web pages of the synced modules" in run.check("R2.2")["message"]
    api_checks = [c for c in run.report["checks"] if c["step"] in (3, 4) and c["id"] != "R4.1"]
    assert {c["id"] for c in api_checks} == {"R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R4.2", "R4.3", "R4.4", "R4.5"}
    assert all(c["status"] == "unverified" and c["message"].startswith("not verifiable: this server has no REST API: ")
               for c in api_checks)
    assert "in 1CRM, Admin → User Management, open riva_svc: Administrator is ticked on its user record" in run.check("R3.2")["message"]
    assert run.simulator.stats.count("GET", "/api.php/me") <= 2  # detected once per process, not once per check


def test_server_accepting_any_user_fails_the_negative_control(suite):
    run = suite("accepts-any-login", only="R1.6")
    finding = run.check("R1.6")
    assert finding["status"] == "failed"
    assert re.search(r"accepted the non-existent user 'riva-readiness-", finding["message"])


def test_address_of_a_page_fails_r51_but_the_rest_still_runs(suite):
    run = suite("healthy", only="R5.1 or R1.5", CRM_URL=lambda simulator: f"{simulator.url}/index.php?module=Home&action=index")
    assert run.check("R5.1")["status"] == "failed"
    assert "points at the page 'index.php'" in run.check("R5.1")["message"]
    assert run.check("R1.5")["status"] == "passed"  # the suite itself works against the derived base address


@pytest.mark.parametrize("username, password", [("<connection-user>", "Sim-Riva-Pass-1"), ("riva_svc", None)])
def test_missing_or_placeholder_credentials_fail_r52(suite, username, password):
    run = suite("healthy", only="R5.2 or R1.4", CRM_USERNAME=username, CRM_PASSWORD=password)
    assert (run.check("R5.2")["status"], run.check("R5.2")["blocking"]) == ("failed", True)
    assert re.search(r"(CRM_USERNAME still holds the placeholder|CRM_PASSWORD is not set)", run.check("R5.2")["message"])
    assert run.check("R1.4")["status"] == "unverified" and "see R5.2" in run.check("R1.4")["message"]


def test_undetectable_version_fails_r53(suite):
    run = suite("version-hidden", only="R5.3")
    assert run.check("R5.3")["status"] == "failed"
    assert "the connection sheet is incomplete: missing the CRM version" in run.check("R5.3")["message"]


def test_bad_configuration_stops_before_any_request(suite):
    run = suite("healthy", CRM_URL=lambda simulator: simulator.url.replace("https://", "ftp://"))
    assert run.exit_code == 4
    assert run.simulator.stats.requests == []
    [line] = [line for line in run.output.splitlines() if "riva-readiness:" in line]
    assert "CRM_URL: 'ftp://' is not supported" in line
    assert run.report["verdict"] == "NO-GO" and run.report["reasons"][0].startswith("configuration:")


def test_read_only_run_sends_no_write(suite):
    run = suite("healthy", READINESS_MODE="read-only")
    assert run.report["mode"] == "read-only" and run.report["verdict"] == "INCOMPLETE"  # the probes could not run
    assert run.exit_code == 101 and run.report["reasons"] == ["R4.4 unverified", "R4.5 unverified"]
    writes = [r for r in run.simulator.stats.requests if r[0] not in ("GET", "HEAD", "OPTIONS")]
    assert run.simulator.stats.data_writes == 0
    assert {path for _, path, _ in writes} <= {"/api.php/auth/user/access_token", "/json.php"}  # sign-ins only


def test_no_secret_in_any_report_or_output(suite):
    secrets = {"password": "Zebra-Password-31337", "client_secret": "Zebra-Client-Secret-31337"}
    run = suite("healthy", simulator_options=secrets)
    assert run.report["verdict"] == "GO", run.output
    output = run.output + (make_html_report(run.reports_dir) if report_generator_available() else "")
    issued = run.simulator.issued_credentials()  # access and refresh tokens, session cookies, CSRF tokens
    assert len(issued) >= 4
    files = {p.name for p in run.reports_dir.rglob("*") if p.is_file()}
    assert {"readiness-report.html", "environment.properties", "executor.json", "junit.xml"} <= files \
        or not report_generator_available()
    needles = secret_forms(*secrets.values(), *issued) | basic_forms("riva_svc", secrets["password"])
    assert leaked_secrets(run.reports_dir, output, needles) == {}



def test_an_unknown_name_in_the_environment_is_warned_about_at_the_start(suite):
    run = suite("healthy", only="R5.2", RIVA_THREDS="5")
    assert "riva-readiness: warning: environment variable RIVA_THREDS is not a setting and is ignored — did you mean " \
           "RIVA_THREADS?" in run.output


def test_a_partial_run_gives_no_verdict_in_every_output(suite):
    run = suite("healthy", only="R1.1")
    assert (run.exit_code, run.report["verdict"]) == (1, "PARTIAL")  # never GO, never read as the server's NO-GO
    assert run.report["reasons"][0].startswith("no verdict: R1.2, R1.3")
    assert "VERDICT: PARTIAL - no verdict: R1.2" in run.output
    page = (run.reports_dir / "readiness-summary.html").read_text(encoding="utf-8")
    assert "No verdict: only some scenarios ran" in page
    properties = {p.get("name"): p.get("value") for p in ET.parse(run.reports_dir / "junit.xml").getroot().iter("property")}
    assert properties["readiness_verdict"] == "PARTIAL"


def test_a_selection_pytest_refuses_is_said_in_the_summary_before_the_verdict(suite):
    run = suite("healthy", only="R9.9")  # no such requirement: pytest refuses the -m expression (exit code 4)
    assert run.exit_code == 4 and run.report["verdict"] == "PARTIAL" and run.simulator.stats.requests == []
    said = ("no verdict: pytest refused the selection (Unknown marker(s) in '-m' expression: R9.9. Use 'pytest "
            "--markers' to see available markers.); no check ran")
    assert run.report["reasons"] == [said] and f"VERDICT: PARTIAL - {said}" in run.output


def test_every_output_in_the_reports_folder_is_of_this_run_and_a_listing_writes_none(suite):
    first = suite("healthy", only="R1.1 or R4.2 or R5.3")
    reports = first.reports_dir
    made = {p.name for p in reports.iterdir()}
    assert {"readiness.json", "junit.xml", "connection-sheet.md", "target-users.csv", "readiness-summary.html"} <= made
    junit = (reports / "junit.xml").read_bytes()
    suite("healthy", "--collect-only")  # a listing is no run: the last run's outputs stay as they were
    assert (reports / "junit.xml").read_bytes() == junit and {p.name for p in reports.iterdir()} == made
    stopped = suite("healthy", CRM_URL="ftp://crm.example.com")  # stopped at the configuration gate
    assert stopped.exit_code == 4 and stopped.report["reasons"][0].startswith("configuration:")
    assert {p.name for p in reports.iterdir()} == {"readiness.json", "previous-run"}  # not a GO run's results
    assert {p.name for p in (reports / "previous-run").iterdir()} == made


def test_a_host_name_that_does_not_resolve_is_one_clear_sentence_per_check(suite):
    run = suite("healthy", only="R1.1 or R1.2 or R1.3 or R1.4 or R1.5", CRM_URL="https://no-such-host.invalid/1crm",
                RIVA_TARGETS_FILE=None, READINESS_SERVER_FACTS=None)
    assert run.check("R1.1")["message"].startswith("the host name no-such-host.invalid does not resolve from this host")
    for requirement in ("R1.2", "R1.3", "R1.4", "R1.5"):  # the root cause once, not once a check
        assert run.check(requirement)["message"] == "not checked: R1.1 failed first", requirement
    assert "    NOT CHECKED, R1.1 failed first: R1.2, R1.3, R1.4, R1.5" in run.output
    assert all("suite error" not in c["message"] and "Error:" not in c["message"] for c in run.report["checks"])
    assert "Traceback" not in run.output
