"""What the terminal summary adds for a check that passed, but not the way it was asked to: R1.4 signed in with
the scripted web login because no browser could be used on this host. The finding's message keeps the reason;
the note says it where a passed check is otherwise not shown, with the fix. Pure functions of readiness.json."""

from __future__ import annotations

SCRIPTED_INSTEAD = "with a scripted web login instead"  # the end of browser.py's fallback note
_ENDINGS = (f": signed in {SCRIPTED_INSTEAD})", f": tried to sign in {SCRIPTED_INSTEAD})")
BROWSER_FIX = ("install Chrome or Chromium and its driver (or point READINESS_CHROMIUM and READINESS_CHROMEDRIVER at "
               "them), or set READINESS_BROWSER=required to make a missing browser an error")


def scripted_instead(message: str) -> str | None:
    """Why R1.4 fell back to the scripted web login, from its message '… (<why>: signed in with a scripted web
    login instead)'; None when it did not (a browser signed in, or READINESS_BROWSER=off chose the script)."""
    for ending in _ENDINGS:
        end = message.rfind(ending)
        if end >= 0:
            start = _opening(message, end)
            return message[start + 1:end] if start is not None else None
    return None


def _opening(text: str, end: int) -> int | None:
    """The index of the '(' that the ')' ending the note closes: the reason may hold parentheses of its own."""
    depth = 0
    for index in range(end - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            if depth == 0:
                return index
            depth -= 1
    return None


def note_for(check: dict) -> str | None:
    """One line for a passed check of readiness.json that the summary should not keep quiet about."""
    if check.get("id") != "R1.4" or check.get("status") != "passed":
        return None  # a check that did not pass is shown with its whole message anyway
    why = scripted_instead(check.get("message") or "")
    if why is None:
        return None
    return f"R1.4 signed in with a scripted web login, not in a browser: {why} - {BROWSER_FIX}"  # ASCII


def notes(document: dict) -> list[str]:
    """Every note of the run, in the order of its checks."""
    return [note for check in document.get("checks", []) if (note := note_for(check))]
