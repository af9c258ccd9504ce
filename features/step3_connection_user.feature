Feature: Step 3 - Prepare the Riva connection user
  Riva connects to 1CRM with one administrator-level connection user (for example riva_svc) and
  acts for every target user through it. The account must be usable, privileged, able to see
  the target users, and ideally a dedicated service account whose password does not expire.

  Background:
    Given the Riva connection user's credentials

  @R3.1 @blocking
  Scenario: R3.1 The connection user exists and is an active, ordinary user
    When the connection user's CRM account is read
    Then the account is active and neither portal-only nor Info Only, nor a group user where the server shows groups

  @R3.2 @blocking
  Scenario: R3.2 The connection user is an administrator
    When the connection user's CRM account is read
    Then the account has administrator rights

  @R3.3 @blocking
  Scenario: R3.3 The connection user sees every target user
    When the connection user lists the CRM users
    Then every page of users is returned

  @R3.4 @advisory
  Scenario: R3.4 The connection user is a dedicated service account
    When the connection user's CRM account is read
    Then the account is none of the target users

  @R3.5 @advisory
  Scenario: R3.5 The connection user's password does not expire soon
    When the connection user's CRM account is read
    Then its password does not expire within 14 days
