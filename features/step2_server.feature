Feature: Step 2 - Prepare the server
  Riva supports on-premise info@hand 5.3.3 or later and every hosted 1CRM. Its sync threads
  (three per policy by default) keep the CRM busy at once, and the first sync is the heaviest:
  an on-premise web server with too few workers refuses requests, one with too many runs out of
  memory and swaps. This step measures the server under Riva's load and checks its sizing.

  @R2.1 @blocking
  Scenario: R2.1 Version and edition
    When the CRM's version and edition are detected
    Then the version and edition are reported, and an on-premise server runs info@hand 5.3.3 or later

  @R2.2 @blocking
  Scenario: R2.2 The server sustains Riva's concurrency
    Given the Riva connection user's credentials
    When Riva's expected concurrency of sync-like reads runs against the CRM for a bounded time
    Then no request fails or times out, and the latency under load stays within the limits

  @R2.3 @blocking
  Scenario: R2.3 Memory sizing of the on-premise server
    Given the server facts collected on the CRM host
    When the facts are checked against the sizing rules
    Then the workers fit in memory and cover Riva's load, and the web server is tuned as recommended
