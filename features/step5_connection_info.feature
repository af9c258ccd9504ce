Feature: Step 5 - Gather the connection information for the Riva wizard
  Riva's 1CRM connection wizard asks for the http(s) address of the 1CRM login window and for
  the connection user's name and password. This step checks what is configured and writes a
  connection sheet to copy from (never with the password).

  @R5.1 @blocking
  Scenario: R5.1 The CRM address is the address of the login window
    When the configured CRM address is examined
    Then it is the absolute http(s) address of the login window

  @R5.2 @blocking
  Scenario: R5.2 The connection user's credentials are configured
    When the configured credentials are examined
    Then a connection user name and password are set, not the placeholders of env.example

  @R5.3 @blocking
  Scenario: R5.3 A connection sheet for the Riva wizard is produced
    When the connection information is gathered
    Then the connection sheet names the address, the connection user, the version and the edition, and no password
