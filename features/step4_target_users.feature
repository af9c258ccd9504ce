Feature: Step 4 - Prepare the target users
  Riva matches each mailbox to exactly one active CRM user by primary e-mail address, then acts
  as that user (the Enterprise Impersonation Model): what it creates is owned by the target user,
  the audit fields name the target user, and the target user's role decides what is allowed.

  @R4.1 @blocking
  Scenario: R4.1 The target list is present and well-formed
    When the target list is read
    Then it names at least one mailbox, each a valid address listed once

  @R4.2 @blocking
  Scenario: R4.2 Each target address matches exactly one active CRM user
    When each target address is matched to the CRM users by primary e-mail
    Then every address matches exactly one active user, neither portal-only nor Info Only, nor a group user where the server shows groups

  @R4.3 @blocking
  Scenario: R4.3 Each target user's role allows every synced datatype
    When the roles of the target users are read, once per role
    Then every target user may access, read, create, edit, delete, import and export every synced datatype

  @R4.4 @blocking
  Scenario: R4.4 A target user can create, read, modify and delete records
    Given the probe users from the target list
    When each probe user signs in and probes every synced datatype with a marked record
    Then each probe user created, read, modified and deleted a record of every datatype

  @R4.5 @blocking
  Scenario: R4.5 Records are owned by and attributed to the target user
    Given the probe users from the target list
    When each probe user signs in and probes every synced datatype with a marked record
    Then every probe record was assigned to, created by and modified by its probe user
