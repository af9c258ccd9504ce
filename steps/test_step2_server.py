"""Step 2: prepare the server — version and edition, Riva's concurrency, memory sizing."""

import json

import allure
import pytest
from pytest_bdd import given, scenarios, then, when

from readiness import load, load_report, server_info, sizing, sizing_report

scenarios("step2_server.feature")


@when("the CRM's version and edition are detected", target_fixture="outcome")
def detect_version(readiness_run, check):
    server = readiness_run.server
    check.note(**server.facts())
    return server_info.judge(server)


@when("Riva's expected concurrency of sync-like reads runs against the CRM for a bounded time",
      target_fixture="outcome")
def probe_concurrency(settings, connection_credentials, readiness_run, reports_dir, check):
    result = load.probe(settings, connection_credentials, readiness_run.redactor,
                        web=not readiness_run.rest_api.available)  # no REST API: the web pages Riva's host loads
    outcome = load.judge(result)
    check.note(concurrency=load.sheet_line(result, outcome))
    files = load_report.write(result, reports_dir, readiness_run.redactor)
    allure.attach.file(files.summary, name="Latency, errors and throughput", attachment_type=allure.attachment_type.CSV)
    allure.attach.file(files.chart, name="Latency over time", attachment_type=allure.attachment_type.PNG)
    allure.attach.file(files.requests, name="Every probe request", attachment_type=allure.attachment_type.CSV)
    if result.failures:
        allure.attach(json.dumps(result.failures, indent=2), name="Failed probe exchanges (redacted)",
                      attachment_type=allure.attachment_type.JSON)
    return outcome


@given("the server facts collected on the CRM host", target_fixture="facts")
def server_facts(settings, check):
    if server_info.is_hosted(settings.crm):
        pytest.skip(sizing.HOSTED)  # does not apply
    if settings.sizing.facts is None:
        check.expect(sizing.without_facts(settings))  # applies, but this run cannot decide it
    facts = settings.sizing.facts
    allure.attach(json.dumps(facts.as_dict(), indent=2), name=f"Server facts ({facts.source})",
                  attachment_type=allure.attachment_type.JSON)
    return facts


@when("the facts are checked against the sizing rules", target_fixture="outcomes")
def check_sizing(settings, facts, reports_dir):
    budget = sizing.memory_budget(facts, settings.sizing)
    if budget:
        chart = sizing_report.draw_memory(budget, reports_dir / sizing_report.CHART)
        allure.attach.file(chart, name="Memory: workers against RAM", attachment_type=allure.attachment_type.PNG)
    return sizing.judge(settings)


@then("the workers fit in memory and cover Riva's load, and the web server is tuned as recommended")
def sizing_holds(check, outcomes):
    check.expect_all(outcomes)
