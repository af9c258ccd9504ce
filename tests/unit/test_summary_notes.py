"""The summary's notes: R1.4 signed in with the scripted web login where no browser could be used, and says so
with the fix; a browser sign-in, READINESS_BROWSER=off and a failed R1.4 (shown in full anyway) get no note."""

from __future__ import annotations

import pytest

from readiness import summary_notes
from readiness.catalogue import REQUIREMENTS
from readiness.verdict import Finding, decide, report, summary_lines

NO_BROWSER = ("no browser found at chromium, chromium-browser, google-chrome, google-chrome-stable, chrome on PATH "
              "(nor READINESS_CHROMIUM)")
SIGNED_IN = "riva_svc signed in through the web login, reached '1CRM: Home Dashboard' and signed out"


def document(status: str, message: str) -> dict:
    findings = [Finding.of(REQUIREMENTS["R1.4"], status, message), Finding.of(REQUIREMENTS["R1.1"], "passed", "ok")]
    return report(decide(findings), findings, crm_url="https://crm", mode="full")


def test_the_reason_of_the_fallback_is_read_back_even_with_parentheses_of_its_own():
    message = f"{SIGNED_IN} (done (twice)) ({NO_BROWSER}: signed in {summary_notes.SCRIPTED_INSTEAD})"
    assert summary_notes.scripted_instead(message) == NO_BROWSER
    assert summary_notes.scripted_instead(f"{SIGNED_IN} (READINESS_BROWSER=off: a scripted web login)") is None


def test_a_passed_r14_that_used_the_scripted_login_gets_a_note_with_the_fix():
    notes = summary_notes.notes(document("passed", f"{SIGNED_IN} ({NO_BROWSER}: signed in with a scripted web "
                                                   "login instead)"))
    assert notes == [f"R1.4 signed in with a scripted web login, not in a browser: {NO_BROWSER} - install Chrome or "
                     "Chromium and its driver (or point READINESS_CHROMIUM and READINESS_CHROMEDRIVER at them), or set "
                     "READINESS_BROWSER=required to make a missing browser an error"]
    assert all(note.isascii() for note in notes)  # the terminal summary is plain ASCII


@pytest.mark.parametrize("status, message", [
    ("passed", f"{SIGNED_IN} (screenshots: R1.4-login-form.png, R1.4-home-page.png)"),
    ("passed", f"{SIGNED_IN} (READINESS_BROWSER=off: a scripted web login)"),
    ("failed", f"the web login refused riva_svc ({NO_BROWSER}: tried to sign in with a scripted web login instead)"),
])
def test_no_note_for_a_browser_sign_in_a_chosen_script_or_a_failure_shown_in_full(status, message):
    assert summary_notes.notes(document(status, message)) == []


def test_the_summary_shows_the_note_once_under_its_step():
    lines = summary_lines(document("passed", f"{SIGNED_IN} ({NO_BROWSER}: signed in with a scripted web login "
                                              "instead)"))
    step1 = next(n for n, line in enumerate(lines) if line.startswith("Step 1"))
    assert lines[step1 + 1].startswith("    NOTE R1.4 signed in with a scripted web login, not in a browser: no browser")
    assert lines[-1] == "VERDICT: GO" and sum("NOTE" in line for line in lines) == 1
