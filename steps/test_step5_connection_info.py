"""Step 5: gather the information Riva's connection wizard asks for."""

import allure
from pytest_bdd import scenarios, when

from readiness import connection_info

scenarios("step5_connection_info.feature")


@when("the configured CRM address is examined", target_fixture="outcome")
def examine_address(settings):
    return connection_info.address(settings.crm)


@when("the configured credentials are examined", target_fixture="outcome")
def examine_credentials(settings):
    return connection_info.credentials(settings)


@when("the connection information is gathered", target_fixture="outcome")
def gather_connection_information(settings, readiness_run, check):
    server = readiness_run.server
    check.note(**server.facts())
    sheet = connection_info.ConnectionSheet.of(settings, server)
    outcome = connection_info.sheet_outcome(sheet, readiness_run.redactor)
    allure.attach(readiness_run.redactor.text(sheet.render()), name="Connection sheet",
                  attachment_type=allure.attachment_type.TEXT)
    return outcome
