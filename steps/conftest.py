"""The step vocabulary shared by every feature. Steps only bind phrases to the readiness library."""

from pytest_bdd import given, then

from readiness.outcome import Outcome



@given("the CRM address from the configuration", target_fixture="crm")
def crm(settings):
    return settings.crm


@given("the Riva connection user's credentials", target_fixture="connection_credentials")
def connection_credentials(settings, check):
    if settings.connection_user is None:
        check.expect(Outcome.not_verifiable("not checked: no connection user is configured (see R5.2) — set "
                                            "CRM_USERNAME and CRM_PASSWORD to the Riva connection user and run again"))
    return settings.connection_user


# Every When step leaves the domain library's Outcome in `outcome`; the Then phrase states what it must show.
@then("the connection is accepted within the time limit")
@then("the certificate is trusted, names the host, is not about to expire, and TLS 1.2 or later is used")
@then("the page shows the 1CRM sign-in form")
@then("the home page opens, in whatever language the CRM speaks, and the user signs out again")
@then("the API answers and accepts the connection user")
@then("both the web login and the REST API refuse the sign-in")
@then("it is the absolute http(s) address of the login window")
@then("a connection user name and password are set, not the placeholders of env.example")
@then("the connection sheet names the address, the connection user, the version and the edition, and no password")
@then("every page of users is returned")
@then("the version and edition are reported, and an on-premise server runs info@hand 5.3.3 or later")
@then("no request fails or times out, and the latency under load stays within the limits")
def outcome_holds(check, outcome):
    check.expect(outcome)
