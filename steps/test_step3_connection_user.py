"""Step 3: prepare the Riva connection user."""

from pytest_bdd import scenarios, then, when

from readiness import connection_user

scenarios("step3_connection_user.feature")


@when("the connection user's CRM account is read", target_fixture="account")
def read_account(readiness_run):
    return readiness_run.account


@when("the connection user lists the CRM users", target_fixture="outcome")
def list_users(readiness_run):
    return connection_user.sees_users(lambda: readiness_run.directory)


@then("the account is active and neither portal-only nor Info Only, nor a group user where the server shows groups")
def active_ordinary_user(check, account):
    check.expect(connection_user.active_ordinary_user(account))


@then("the account has administrator rights")
def administrator(check, account):
    check.expect(connection_user.administrator(account))


@then("the account is none of the target users")
def dedicated(check, account, readiness_run, settings):
    check.expect(connection_user.dedicated(account, readiness_run.directory, settings.targets))


@then("its password does not expire within 14 days")
def password_expiry(check, account, readiness_run):
    user_meta = readiness_run.fields_meta("User")
    check.expect(connection_user.password_expiry(readiness_run.connection_api, user_meta, account))
