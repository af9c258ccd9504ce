"""The evidence a change board reads: waivers, one verdict in every output, the Allure results and the HTML file.

Each test runs the whole suite in a subprocess against the simulator, as CI gating a go-live would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from readiness.__main__ import PROJECT_ROOT
from report_tools import (browse, distinct_pixel_bytes, embedded_files, global_attachment, report_generator_available,
                          require_report_generator, visible_text)

pytestmark = pytest.mark.slow

CAPTCHA_WAIVER = """\
waivers:
  - requirement: R1.4
    justification: The CAPTCHA is lifted for the Riva host's address on go-live day
    approved_by: J. Smith (change board)
    ticket: CHG-1234
    expires: {expires}
"""


def waivers_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "waivers.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def allure_results(run) -> list[dict]:
    folder = run.reports_dir / "allure-results"
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def allure_result(run, requirement: str) -> dict:
    [found] = [r for r in allure_results(run) if r["name"].startswith(f"{requirement} ")]
    return found


def junit(run) -> ET.Element:
    return ET.parse(run.reports_dir / "junit.xml").getroot()


def junit_properties(run) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in junit(run).iter("property")}


def environment_properties(run) -> dict[str, str]:
    lines = (run.reports_dir / "allure-results" / "environment.properties").read_text(encoding="latin-1").splitlines()
    return dict(line.split("=", 1) for line in lines)


# -- waivers -------------------------------------------------------------------------------------


def test_an_approved_waiver_turns_a_blocking_failure_into_waived_and_the_run_into_go(suite, tmp_path):
    run = suite("human-check", READINESS_WAIVERS_FILE=waivers_file(tmp_path, CAPTCHA_WAIVER.format(expires="2099-12-31")),
                CHANGE_TICKET="CHG-1234", READINESS_TICKET_URL="https://jira.example.com/browse/{}")
    assert run.exit_code == 0, run.output
    assert run.report["verdict"] == "GO"
    finding = run.check("R1.4")
    assert (finding["status"], finding["blocking"]) == ("waived", True)
    for fact in ("asks for a human check (CAPTCHA)", "The CAPTCHA is lifted", "J. Smith (change board)", "CHG-1234",
                 "2099-12-31"):
        assert fact in finding["message"]
    [entry] = run.report["waivers"]
    assert (entry["requirement"], entry["state"], entry["ticket"]) == ("R1.4", "applied", "CHG-1234")
    assert "WAIVED (blocking) R1.4: " in run.output and "Waiver applied: R1.4 (CHG-1234, until 2099-12-31)" in run.output
    # Allure and JUnit show the scenario skipped with the waiver's words; the categories file names it "Waived".
    result = allure_result(run, "R1.4")
    assert result["status"] == "skipped" and "WAIVED: R1.4" in result["statusDetails"]["message"]
    assert {"name": "tag", "value": "waived"} in result["labels"]
    assert result["links"] == [{"type": "link", "url": "https://jira.example.com/browse/CHG-1234", "name": "Change CHG-1234"}]
    categories = json.loads((run.reports_dir / "allure-results" / "categories.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in categories] == ["CRM not ready", "Suite or network error", "Waived", "Unverified",
                                               "Attested", "Advisory", "Not checked"]
    [skipped] = [c.find("skipped") for c in junit(run).iter("testcase") if "r14" in c.get("name")]
    assert skipped.get("message").startswith("WAIVED: R1.4")
    assert junit_properties(run)["readiness_waivers_applied"] == "1"


def test_an_expired_waiver_counts_as_none_and_the_report_says_so(suite, tmp_path):
    run = suite("human-check", only="R1.4",
                READINESS_WAIVERS_FILE=waivers_file(tmp_path, CAPTCHA_WAIVER.format(expires="2020-01-31")))
    assert (run.check("R1.4")["status"], run.check("R1.4")["blocking"]) == ("failed", True)
    assert "(waiver expired on 2020-01-31: not applied)" in run.check("R1.4")["message"]
    [entry] = run.report["waivers"]
    assert entry["state"] == "expired" and "counts as no waiver" in entry["note"]
    assert "Waiver expired: R1.4 (CHG-1234, until 2020-01-31)" in run.output
    assert allure_result(run, "R1.4")["status"] == "failed"


def test_a_waiver_for_one_target_address_does_not_cover_the_requirement_as_a_whole(suite, tmp_path):
    text = CAPTCHA_WAIVER.format(expires="2099-12-31") + "    subject: anna@example.com\n"
    run = suite("human-check", only="R1.4", READINESS_WAIVERS_FILE=waivers_file(tmp_path, text))
    assert run.check("R1.4")["status"] == "failed"
    assert run.report["waivers"][0]["state"] == "unused"


def test_a_malformed_waiver_file_stops_the_run_before_any_request(suite, tmp_path):
    text = CAPTCHA_WAIVER.format(expires="2099-12-31") + CAPTCHA_WAIVER.format(expires="31/12/2099").replace(
        "waivers:\n", "").replace("R1.4", "R1.2")
    path = waivers_file(tmp_path, text)
    run = suite("healthy", READINESS_WAIVERS_FILE=path)
    assert run.exit_code == 4
    assert run.simulator.stats.requests == []
    [line] = [line for line in run.output.splitlines() if "riva-readiness:" in line]
    assert f"{path}:11: waiver #2 (line 7): field 'expires': '31/12/2099' is not a date — write YYYY-MM-DD" in line
    assert run.report["verdict"] == "NO-GO" and run.report["reasons"][0].startswith("configuration:")


# -- attestations ----------------------------------------------------------------------------------

ATTESTATIONS = """\
attestations:
  - requirement: R4.3
    explanation: Admin > User Management shows alice.archer and bob.baker with role Sales only; Admin > Roles > Sales allows Access, View, List, Edit, Delete, Import and Export on every synced module
    attested_by: M. Jones (CRM administrator)
    date: 2026-01-05
    expires: 2099-12-31
    ticket: CHG-1234
  - requirement: R4.4
    explanation: "as alice.archer and bob.baker in a browser: created, opened, modified and deleted a record of every synced module"
    attested_by: M. Jones (CRM administrator)
    date: 2026-01-05
    expires: 2099-12-31
  - requirement: R4.5
    explanation: those records showed alice.archer and bob.baker as Assigned to, Created by and Modified by
    attested_by: M. Jones (CRM administrator)
    date: 2026-01-05
    expires: 2099-12-31
  - requirement: R3.5
    explanation: password policy checked last year
    attested_by: M. Jones (CRM administrator)
    date: 2020-01-05
    expires: 2020-01-31
"""


def test_attestations_turn_unverified_checks_into_attested_and_the_run_into_go(suite, tmp_path):
    # Roles not readable (R4.3) and read-only mode (R4.4, R4.5): INCOMPLETE without the attestations.
    run = suite("roles-not-readable", READINESS_MODE="read-only",
                READINESS_WAIVERS_FILE=waivers_file(tmp_path, ATTESTATIONS))
    assert (run.exit_code, run.report["verdict"], run.report["reasons"]) == (0, "GO", []), run.output
    for requirement in ("R4.4", "R4.5"):
        assert run.check(requirement)["status"] == "attested"
        assert "read-only mode" in run.check(requirement)["message"]
    for address in ("alice.archer@example.com", "bob.baker@example.com"):
        finding = run.check("R4.3", address)
        assert (finding["status"], finding["blocking"]) == ("attested", True)
        assert "roles cannot be read" in finding["message"]
        for fact in ("ATTESTED: Admin > User Management shows", "attested by M. Jones (CRM administrator)",
                     "checked on 2026-01-05", "ticket CHG-1234", "valid until 2099-12-31 UTC"):
            assert fact in finding["message"], fact
    applied, _, _, expired = run.report["attestations"]
    assert (applied["state"], applied["attested_by"], applied["date"]) == ("applied", "M. Jones (CRM administrator)",
                                                                           "2026-01-05")
    assert expired["state"] == "expired" and "counts as no attestation" in expired["note"]
    assert run.check("R3.5")["status"] == "passed"  # an expired one changes nothing
    assert "Attestation applied: R4.3 (by M. Jones (CRM administrator), checked 2026-01-05, until 2099-12-31, " \
           "ticket CHG-1234) - Admin > User Management shows" in run.output
    assert "Attestation expired: R3.5" in run.output
    [skipped] = [c.find("skipped") for c in junit(run).iter("testcase") if "r43" in c.get("name")]
    assert skipped.get("message").startswith("ATTESTED: R4.3 [alice.archer@example.com] not verifiable through the API")
    properties = junit_properties(run)
    assert (properties["readiness_attestations_applied"], properties["readiness_attestations_expired"]) == ("3", "1")
    result = allure_result(run, "R4.3")
    assert result["status"] == "skipped" and "ATTESTED: R4.3" in result["statusDetails"]["message"]
    assert {"name": "tag", "value": "attested"} in result["labels"]
    assert environment_properties(run)["Attestations"] == "waivers.yml (3 applied, 1 expired, 0 unused)"


# -- one verdict everywhere ------------------------------------------------------------------------


@pytest.mark.parametrize("preset, verdict, exit_code", [("healthy", "GO", 0), ("human-check", "NO-GO", 1),
                                                        ("roles-not-readable", "INCOMPLETE", 101)])
def test_the_same_verdict_in_every_output(suite, preset, verdict, exit_code):
    run = suite(preset, CHANGE_TICKET="CHG-77")
    crm = run.report["crm_url"]
    assert run.exit_code == exit_code
    assert run.report["verdict"] == verdict
    assert f"VERDICT: {verdict}" in run.output
    properties = junit_properties(run)
    assert properties["readiness_verdict"] == verdict and properties["readiness_crm_url"] == crm
    assert properties["readiness_reasons"] == "; ".join(run.report["reasons"])
    environment = environment_properties(run)
    assert environment["Verdict"] == verdict and environment["CRM.address"] == crm
    if verdict == "INCOMPLETE":  # the reason, and the scenario skipped as UNVERIFIED in JUnit and Allure
        assert run.report["reasons"] == ["R4.3 unverified for 2 targets"]
        assert "VERDICT: INCOMPLETE - R4.3 unverified for 2 targets" in run.output
        assert "    UNVERIFIED (blocking) R4.3 [alice.archer@example.com]: not verifiable through the API" in run.output
        assert properties["readiness_unverified"] == "2" and environment["Unverified"] == "2"
        [skipped] = [c.find("skipped") for c in junit(run).iter("testcase") if "r43" in c.get("name")]
        assert skipped.get("message").startswith("UNVERIFIED: R4.3 [alice.archer@example.com] not verifiable")
        r43 = allure_result(run, "R4.3")
        assert r43["status"] == "skipped" and {"name": "tag", "value": "unverified"} in r43["labels"]
    assert environment["Connection.user"] == "riva_svc" and environment["Run.id"] == run.report["run_id"]
    name = f"Riva readiness: {verdict} for {crm} (CHG-77)"
    executor = json.loads((run.reports_dir / "allure-results" / "executor.json").read_text(encoding="utf-8"))
    assert executor["reportName"] == name
    assert global_attachment(run, "Verdict and waivers").splitlines()[0] == name
    assert json.loads(global_attachment(run, "readiness.json"))["verdict"] == verdict
    [verdict_result] = [r for r in allure_results(run) if r["fullName"] == "riva-readiness:verdict"]
    assert (verdict_result["name"], verdict_result["status"]) == (
        name, {"GO": "passed", "NO-GO": "failed", "INCOMPLETE": "broken"}[verdict])  # red unless GO
    assert "| Connection user name | riva_svc |" in global_attachment(run, "Connection sheet")
    result = allure_result(run, "R1.1")
    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert {("epic", "Riva readiness"), ("feature", "Step 1: Confirm access from the Riva host"),
            ("story", "R1.1 The CRM address accepts connections from this host"), ("severity", "blocker")} <= labels
    assert [s["name"].split(" ")[0] for s in result["steps"]] == ["Given", "When", "Then"]  # Gherkin steps as steps
    assert result["links"] == [{"type": "issue", "url": "CHG-77", "name": "Change CHG-77"}]  # no READINESS_TICKET_URL
    if report_generator_available():  # the sixth output: the HTML report's title
        done = subprocess.run([sys.executable, "-m", "readiness", "report", "--reports-dir", str(run.reports_dir)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        html = (run.reports_dir / "readiness-report.html").read_text(encoding="utf-8")
        assert f"<title> {name} </title>" in html


# -- the HTML file for the ticket -----------------------------------------------------------------


def test_the_report_command_makes_one_offline_html_file_that_chromium_opens_showing_the_verdict(suite, tmp_path):
    require_report_generator()
    run = suite("human-check", READINESS_WAIVERS_FILE=waivers_file(
        tmp_path, CAPTCHA_WAIVER.format(expires="2020-01-31").replace("R1.4", "R1.2")))
    done = subprocess.run([sys.executable, "-m", "readiness", "report", "--reports-dir", str(run.reports_dir)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    page = run.reports_dir / "readiness-report.html"
    assert f"HTML report: {page}" in done.stdout and "NO-GO" in done.stdout
    html = page.read_text(encoding="utf-8")
    assert f"<title> Riva readiness: NO-GO for {run.report['crm_url']} </title>" in html
    assert (run.reports_dir / "allure-report" / "index.html").read_text(encoding="utf-8") == html
    assert "googletagmanager" not in html and 'src="http' not in html  # nothing loads from the internet
    data = b"\n".join(embedded_files(html).values()).decode("utf-8", "replace")
    for evidence in ("R1.4 The connection user signs in through the web login", "HTTP exchanges (redacted)",
                     "asks for a human check (CAPTCHA)", "Waiver expired: R1.2 (CHG-1234, until 2020-01-31)",
                     "CRM.address", "Connection sheet"):
        assert evidence in data, evidence

    screenshot = tmp_path / "report.png"
    dom = visible_text(browse(page, screenshot=screenshot))
    assert screenshot.stat().st_size > 10_000 and distinct_pixel_bytes(screenshot) > 32  # a page, not a blank
    assert f"Riva readiness: NO-GO for {run.report['crm_url']}" in dom
    assert "Step 1: Confirm access from the Riva host" in dom and "Step 5: Gather the connection information" in dom


def test_the_demo_leaves_the_html_report(tmp_path):
    require_report_generator()
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "readiness", "demo", "--", "-q", f"--reports-dir={reports}",
                           f"--alluredir={reports / 'allure-results'}", f"--junitxml={reports / 'junit.xml'}"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"HTML report: {reports / 'readiness-report.html'} — Riva readiness: GO for" in done.stdout
    assert "<title> Riva readiness: GO for" in (reports / "readiness-report.html").read_text(encoding="utf-8")
