Feature: Step 1 - Confirm access to 1CRM from the Riva host
  From the Windows system that will host the Riva server, the Riva connection user must reach
  1CRM and sign in: through the web login, as the Riva article asks, and through the REST API
  that Riva itself uses.

  Background:
    Given the CRM address from the configuration

  @R1.1 @blocking
  Scenario: R1.1 The CRM address accepts connections from this host
    When this host opens a connection to the CRM address
    Then the connection is accepted within the time limit

  @R1.2 @blocking
  Scenario: R1.2 The CRM's TLS certificate is trusted and current
    When this host opens a TLS session with the CRM
    Then the certificate is trusted, names the host, is not about to expire, and TLS 1.2 or later is used

  @R1.3 @blocking
  Scenario: R1.3 The login page shows the 1CRM sign-in form
    When this host opens the CRM's login page
    Then the page shows the 1CRM sign-in form

  @R1.4 @blocking
  Scenario: R1.4 The connection user signs in through the web login
    Given the Riva connection user's credentials
    When the connection user signs in through the web login
    Then the home page opens, in whatever language the CRM speaks, and the user signs out again

  @R1.5 @blocking
  Scenario: R1.5 The REST API answers and the connection user authenticates
    Given the Riva connection user's credentials
    When the connection user signs in to the REST API
    Then the API answers and accepts the connection user

  @R1.6 @blocking
  Scenario: R1.6 Negative control: a sign-in as an unknown user is refused
    When someone signs in with a random user name that no account has
    Then both the web login and the REST API refuse the sign-in
