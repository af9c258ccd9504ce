"""Step 1: confirm access to 1CRM from the Riva host."""

from pytest_bdd import scenarios, when

from readiness import access, browser, tls

scenarios("step1_access.feature")


@when("this host opens a connection to the CRM address", target_fixture="outcome")
def open_connection(crm, readiness_run):
    return access.connect(crm, readiness_run.session())


@when("this host opens a TLS session with the CRM", target_fixture="outcome")
def open_tls_session(crm, settings):
    if not crm.is_https:
        return tls.plain_http(crm, proxy=settings.proxy, timeout=settings.timeout)
    return tls.judge(tls.inspect(crm, verify=settings.tls_verify, proxy=settings.proxy, timeout=settings.timeout), crm)


@when("this host opens the CRM's login page", target_fixture="outcome")
def open_login_page(crm, readiness_run):
    return access.login_page(crm, readiness_run.session())


@when("the connection user signs in through the web login", target_fixture="outcome")
def web_sign_in(crm, connection_credentials, settings, readiness_run, keep_screenshot):
    return browser.web_sign_in(crm, connection_credentials, settings, readiness_run.session, keep_screenshot,
                               readiness_run.redactor)


@when("the connection user signs in to the REST API", target_fixture="outcome")
def api_sign_in(connection_credentials, readiness_run):
    return access.api_sign_in(readiness_run.api_as(connection_credentials))


@when("someone signs in with a random user name that no account has", target_fixture="outcome")
def unknown_user_sign_in(crm, readiness_run):
    return access.unknown_user_refused(crm, readiness_run.session(), readiness_run.api_as,
                                       rest_api=readiness_run.rest_api.available)
